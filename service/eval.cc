#include "whoknows/service/eval.h"

#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "whoknows/base/status_macros.h"
#include "whoknows/base/strings.h"
#include "whoknows/engine/metrics.h"
#include "whoknows/engine/rank_model.h"
#include "whoknows/engine/snapshot.h"
#include "whoknows/indexer/index.h"
#include "whoknows/indexer/readers.h"
#include "whoknows/ranker/ranker.h"

namespace whoknows::service {
namespace {

namespace fs = std::filesystem;
using engine::kNone;
using indexer::Record;
using indexer::RecordKind;

constexpr uint32_t kNoRecord = 0xffffffffu;

void Log(const EvalOptions& o, const std::string& line) {
  if (o.log) o.log(line);
}

std::string Date(int64_t t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", absl::FromUnixSeconds(t), absl::UTCTimeZone());
}

// A directory removed (recursively) when this goes away.
class TempDir {
 public:
  static absl::StatusOr<std::unique_ptr<TempDir>> Make(const std::string& parent_in) {
    std::string parent = parent_in;
    if (parent.empty()) {
      const char* t = std::getenv("TMPDIR");
      parent = (t != nullptr && *t != '\0') ? t : "/tmp";
    }
    std::string tmpl = parent + "/whoknows-eval-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) {
      return absl::UnavailableError(absl::StrFormat("cannot create a temporary directory under %s", parent));
    }
    return std::unique_ptr<TempDir>(new TempDir(std::move(tmpl)));
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  explicit TempDir(std::string p) : path_(std::move(p)) {}
  std::string path_;
};

class CollectSink final : public indexer::RecordSink {
 public:
  explicit CollectSink(const EvalOptions* o) : o_(o) {}
  absl::Status OnRecord(Record record) override {
    if (record.id.empty() || !seen_.insert(record.id).second) {
      ++duplicates_;
      return absl::OkStatus();
    }
    records_.push_back(std::move(record));
    return absl::OkStatus();
  }
  void OnBadRecord(const SourcePos&, std::string_view, const absl::Status&) override { ++bad_; }
  void OnProgress(std::string_view file, uint64_t done, uint64_t total) override {
    if (o_ == nullptr || !o_->log) return;
    const auto now = std::chrono::steady_clock::now();
    if (std::string(file) == last_file_ && now - last_ < std::chrono::seconds(5)) return;
    last_ = now;
    last_file_ = std::string(file);
    o_->log(absl::StrFormat("eval: reading %s  %.0f%%  %d records", file,
                            total ? 100.0 * static_cast<double>(done) / static_cast<double>(total) : 0.0,
                            records_.size()));
  }

  std::vector<Record> records_;
  uint64_t bad_ = 0;
  uint64_t duplicates_ = 0;

 private:
  const EvalOptions* o_;
  absl::flat_hash_set<std::string> seen_;
  std::chrono::steady_clock::time_point last_{};
  std::string last_file_;
};

absl::StatusOr<std::vector<Record>> Load(const std::string& path, uint64_t* bad, const EvalOptions* o) {
  CollectSink sink(o);
  WK_RETURN_IF_ERROR(indexer::ReadAny(path, indexer::ReadOptions{}, &sink));
  if (bad != nullptr) *bad = sink.bad_;
  std::vector<Record> records = std::move(sink.records_);
  if (records.empty()) return absl::InvalidArgumentError(absl::StrFormat("%s: no records", path));
  std::stable_sort(records.begin(), records.end(), [](const Record& a, const Record& b) {
    return a.timestamp != b.timestamp ? a.timestamp < b.timestamp : a.id < b.id;
  });
  return records;
}


bool IsMailKey(std::string_view key) { return key.starts_with("mail:") || key.starts_with("mailname:"); }

struct Case {
  std::string key;    // sampling key: the query record id, or the person id
  std::string query;  // routing / replies
  // replies: a conversation start (mail, chat) is searched by ranker::SearchConversationStart,
  // as training searches the history's
  bool conversation = false;
  std::string title, body;
  int64_t now = 0;
  std::vector<std::string> exclude;  // person ids
  std::string asker;                 // routing / replies: the asker / thread starter ("" unknown)
  std::vector<std::string> truth;    // person ids
  // routing / replies: everyone who answered (any answer, or replied), first time each; for outcomes in
  // the balance replay (an answer that was not accepted is still an answer)
  std::vector<std::string> responders;
  std::vector<int64_t> responder_time;
  std::string person;                // connect
  std::vector<std::string> topics;   // routing: the question's own tags
  std::vector<indexer::SearchHit> hits;
};

struct Sums {
  size_t n = 0;
  double rr = 0, p1 = 0, n3 = 0, n10 = 0, h10 = 0;
  double cand = 0;  // cases whose truth is among the method's candidates (routing/replies)
  std::vector<double> rr_cases;  // per case, in case order (standard errors, paired differences)
  void Add(std::span<const std::string> ranked, std::span<const std::string> truth) {
    ++n;
    rr_cases.push_back(engine::ReciprocalRank(ranked, truth));
    rr += rr_cases.back();
    p1 += engine::PrecisionAt(ranked, truth, 1);
    n3 += engine::NdcgAt(ranked, truth, 3);
    n10 += engine::NdcgAt(ranked, truth, 10);
    h10 += engine::HitsAt(ranked, truth, 10);
  }
  void Merge(const Sums& o) {
    n += o.n;
    rr += o.rr;
    p1 += o.p1;
    n3 += o.n3;
    n10 += o.n10;
    h10 += o.h10;
    cand += o.cand;
    rr_cases.insert(rr_cases.end(), o.rr_cases.begin(), o.rr_cases.end());
  }
  MethodResult Mean(std::string method) const {
    MethodResult r;
    r.method = std::move(method);
    if (n == 0) return r;
    const double d = static_cast<double>(n);
    r.mrr = rr / d;
    r.p_at_1 = p1 / d;
    r.ndcg_at_3 = n3 / d;
    r.ndcg_at_10 = n10 / d;
    r.hits_at_10 = h10 / d;
    r.candidate_recall = cand / d;
    r.mrr_se = StandardError(rr_cases);
    return r;
  }
  // The standard error of the mean of x (0 below two values).
  static double StandardError(std::span<const double> x) {
    if (x.size() < 2) return 0;
    double mean = 0, ss = 0;
    for (double v : x) mean += v;
    mean /= static_cast<double>(x.size());
    for (double v : x) ss += (v - mean) * (v - mean);
    return std::sqrt(ss / static_cast<double>(x.size() - 1) / static_cast<double>(x.size()));
  }
};

// The methods of EvalOptions::pooled_training.
bool IsPooledMethod(std::string_view m) {
  return m == "whoknows-pooled" || m == "whoknows-loo" || m.starts_with("whoknows-mix[");
}

std::string MixMethodName(double other_weight) { return absl::StrFormat("whoknows-mix[%g]", other_weight); }

// whoknows-mix[W]: the own history counts 1 / W times the others' (W in (0, 1]).
size_t MixCopies(double other_weight) {
  return static_cast<size_t>(std::max(1.0, std::round(1.0 / std::max(other_weight, 1e-3))));
}

// whoknows against each baseline on the same cases: the mean per-case difference
// of reciprocal ranks and its standard error (routing/replies).
std::vector<PairedDiff> PairedDiffs(const std::vector<std::string>& methods, const std::vector<Sums>& sums) {
  std::vector<PairedDiff> out;
  auto find = [&](std::string_view m) -> const Sums* {
    for (size_t i = 0; i < methods.size(); ++i) {
      if (methods[i] == m) return &sums[i];
    }
    return nullptr;
  };
  const Sums* w = find("whoknows");
  if (w == nullptr || w->rr_cases.empty()) return out;
  // a minus b over the same cases.
  auto paired = [&](const Sums& a, const Sums& b, std::string method, std::string baseline) {
    if (a.rr_cases.size() != b.rr_cases.size()) return;
    std::vector<double> d(a.rr_cases.size());
    double mean = 0;
    for (size_t i = 0; i < d.size(); ++i) mean += d[i] = a.rr_cases[i] - b.rr_cases[i];
    out.push_back({std::move(baseline), mean / static_cast<double>(d.size()), Sums::StandardError(d), std::move(method)});
  };
  for (const char* b : {"popularity", "recent-popularity", "bm25-voting"}) {
    if (const Sums* x = find(b); x != nullptr) paired(*w, *x, "whoknows", b);
  }
  // Pooled training (EvalOptions::pooled_training): each pooled ranker minus the data set's own.
  for (size_t m = 0; m < methods.size(); ++m) {
    if (IsPooledMethod(methods[m])) paired(sums[m], *w, methods[m], "whoknows");
  }
  return out;
}

std::string ConnectVariantName(const engine::TrainOptions& v) {
  return absl::StrFormat("whoknows[%s,%d,%d,%s]", v.booster, v.max_depth, v.rounds, v.objective);
}

// Methods of a task, by name.
std::vector<std::string> MethodNames(EvalTask task, const EvalOptions& o) {
  if (task == EvalTask::kConnect) {
    // Link-prediction baselines over the reply graph (distance two), popularity, then whoknows
    // (learned, or the hand-tuned PPR when the history is too small) and the hand-tuned PPR itself.
    return {"common-neighbours", "adamic-adar", "resource-allocation", "jaccard", "popularity",
            "recent-popularity", "whoknows", "whoknows-ppr"};
  }
  std::vector<std::string> out;
  for (engine::Method m : engine::AllMethods()) {
    out.emplace_back(engine::MethodName(m));
    if (m == engine::Method::kNoGraph) out.emplace_back("whoknows-blend");  // the hand-tuned blend (fallback)
  }
  if (o.pooled_training && o.max_history > 0) {
    out.emplace_back("whoknows-pooled");
    out.emplace_back("whoknows-loo");
    for (double w : o.pooled_other_weights) out.push_back(MixMethodName(w));
  }
  return out;
}

// One data set's split: the training index and snapshot, and the test cases.
class Prepared {
 public:
  static absl::StatusOr<std::unique_ptr<Prepared>> Build(EvalTask task, const std::string& name,
                                                         std::span<const Record> records, double fraction,
                                                         const EvalOptions& o, bool keep);

  // Runs one method over every case with the given options.
  absl::StatusOr<Sums> Run(const std::string& method, const engine::AskOptions& ask,
                           const engine::ConnectOptions& connect) const;

  EvalTask task_ = EvalTask::kRouting;
  std::string name_;
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<indexer::IndexReader> reader_;
  std::shared_ptr<const engine::Snapshot> snap_;
  std::vector<Case> cases_;
  // Training queries: the training index's own history (ranker::CollectHistory), exactly what
  // `whoknows index` trains on; the index ends at the split, so no label is from after it.
  std::vector<ranker::HistoryQuery> history_;
  std::shared_ptr<const engine::RankModel> model_, model_nograph_;  // null: the blend (fallback)
  // EvalOptions::pooled_training: the whoknows ranker's training groups (one per history_
  // query, in order), and the rankers trained on several data sets' histories, by method.
  std::vector<engine::TrainingGroup> groups_;
  std::vector<std::pair<std::string, ranker::Ranker>> pooled_;
  std::vector<std::pair<std::string, std::string>> pooled_notes_;  // method -> its ranker, described
  // connect: the pre-split interaction graph and the learned connect ranking (null: hand-tuned PPR).
  std::shared_ptr<const engine::InteractionGraph> interactions_;
  std::shared_ptr<const engine::ConnectModel> connect_model_;
  std::vector<std::pair<std::string, std::shared_ptr<const engine::ConnectModel>>> connect_variants_;
  size_t connect_groups_ = 0;
  int64_t connect_history_latest_ = 0;
  std::string model_note_;
  double train_seconds_ = 0, feature_seconds_ = 0;
  size_t train_rows_ = 0;
  size_t candidates_ = 0;
  int64_t split_ = 0;
  size_t records_ = 0, train_ = 0, test_ = 0;
  const EvalOptions* o_ = nullptr;

 private:
  absl::Status Index(std::span<const Record> train, const std::string& dir);
  void BuildThreads(std::span<const Record> records);
  // Person id of an identity key ("" when unknown before the split).
  std::string Resolve(const std::string& key, const std::string& name);
  bool Active(const std::string& pid) const {
    if (pid.empty()) return false;
    const uint32_t p = snap_->FindPerson(pid);
    return p != kNone && snap_->person(p).doc_count > 0;
  }
  // Test cases from the records in [begin, end) into *out.
  void MakeRoutingCases(std::span<const Record> records, size_t begin, size_t end, std::vector<Case>* out);
  void MakeRepliesCases(std::span<const Record> records, size_t begin, size_t end, std::vector<Case>* out);
  absl::Status Search(std::vector<Case>* cases);
  absl::Status Train();
  absl::Status TrainConnect();
  // One connect method's full ranking for case c into *ranked (cut to the
  // depth) and whether any truth is among its candidates into *cand.
  absl::Status RankConnect(const std::string& method, const Case& c, const engine::ConnectOptions& connect,
                           engine::ConnectFeaturizer* featurizer, std::vector<std::string>* ranked,
                           double* cand) const;
  void MakeConnectCases(std::span<const Record> records, size_t first_test);

  std::vector<uint32_t> parent_, root_;
  absl::flat_hash_map<std::string_view, uint32_t> by_id_;
  absl::flat_hash_map<std::string, std::string> resolved_;      // key -> person id ("" unknown)
  absl::flat_hash_map<std::string, std::string> name_person_;   // NameKey -> person id
};

absl::Status Prepared::Index(std::span<const Record> train, const std::string& dir) {
  indexer::IndexOptions io;
  io.commit_every = 1u << 30;  // one commit at the end
  WK_ASSIGN_OR_RETURN(std::unique_ptr<indexer::IndexWriter> w, indexer::IndexWriter::Open(dir, io));
  auto last = std::chrono::steady_clock::now();
  for (size_t i = 0; i < train.size(); ++i) {
    WK_RETURN_IF_ERROR(w->Add(train[i]));
    if (o_->log && (i & 1023) == 0 && std::chrono::steady_clock::now() - last > std::chrono::seconds(10)) {
      last = std::chrono::steady_clock::now();
      Log(*o_, absl::StrFormat("eval: %s: indexing %d/%d", name_, i, train.size()));
    }
  }
  return w->Commit();
}

void Prepared::BuildThreads(std::span<const Record> records) {
  const uint32_t n = static_cast<uint32_t>(records.size());
  by_id_.reserve(n);
  for (uint32_t i = 0; i < n; ++i) by_id_.emplace(records[i].id, i);
  auto find = [&](const std::string& id) -> uint32_t {
    if (id.empty()) return kNoRecord;
    auto it = by_id_.find(id);
    return it == by_id_.end() ? kNoRecord : it->second;
  };
  parent_.assign(n, kNoRecord);
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t p = find(records[i].reply_to);
    if (p == i) p = kNoRecord;
    if (p == kNoRecord) {
      p = find(records[i].thread_id);
      if (p == i) p = kNoRecord;
    }
    parent_[i] = p;
  }
  root_.assign(n, kNoRecord);
  std::vector<uint32_t> path;
  for (uint32_t i = 0; i < n; ++i) {
    if (root_[i] != kNoRecord) continue;
    path.clear();
    uint32_t x = i;
    // Walk up; a cycle (or a very long chain) ends at the record where it is noticed.
    while (root_[x] == kNoRecord && parent_[x] != kNoRecord && path.size() <= n) {
      path.push_back(x);
      x = parent_[x];
      if (std::find(path.end() - std::min<size_t>(path.size(), 64), path.end(), x) != path.end()) break;
    }
    const uint32_t r = root_[x] != kNoRecord ? root_[x] : x;
    root_[x] = r;
    for (uint32_t y : path) root_[y] = r;
  }
}

std::string Prepared::Resolve(const std::string& key, const std::string& name) {
  if (key.empty()) return "";
  auto it = resolved_.find(key);
  if (it != resolved_.end()) return it->second;
  std::string pid;
  absl::StatusOr<std::string> r = reader_->ResolvePerson(key);
  if (r.ok()) {
    pid = *r;
  } else if (IsMailKey(key)) {
    std::string nk = indexer::MailNameKey(name);
    if (nk.empty() && key.starts_with("mailname:")) nk = indexer::MailNameKey(key.substr(9));
    if (auto n = name_person_.find(nk); !nk.empty() && n != name_person_.end()) pid = n->second;
  }
  // A name fallback depends on the name; cache only key-based answers.
  if (r.ok() || !IsMailKey(key)) resolved_.emplace(key, pid);
  return pid;
}

void Prepared::MakeRoutingCases(std::span<const Record> records, size_t begin, size_t end,
                                std::vector<Case>* out) {
  absl::flat_hash_map<uint32_t, std::vector<uint32_t>> answers;  // question -> its answers in the range
  for (size_t i = begin; i < end; ++i) {
    if (records[i].kind == RecordKind::kAnswer && parent_[i] != kNoRecord) {
      answers[parent_[i]].push_back(static_cast<uint32_t>(i));
    }
  }
  for (size_t i = begin; i < end; ++i) {
    const Record& q = records[i];
    if (q.kind != RecordKind::kQuestion || q.accepted_answer_id.empty()) continue;
    auto a = by_id_.find(q.accepted_answer_id);
    if (a == by_id_.end() || a->second >= end) continue;  // a label from outside the range never counts
    const Record& ans = records[a->second];
    if (ans.author_key.empty() || ans.author_key == q.author_key) continue;
    const std::string answerer = Resolve(ans.author_key, ans.author_name);
    if (!Active(answerer)) continue;
    const std::string asker = Resolve(q.author_key, q.author_name);
    if (asker == answerer) continue;
    Case c;
    c.key = q.id;
    c.query = TruncateUtf8(q.title.empty() ? q.text : q.title + "\n" + q.text, o_->max_query_bytes);
    c.now = q.timestamp;
    if (!asker.empty()) c.exclude.push_back(asker);
    c.asker = asker;
    c.topics = q.topics;
    c.truth.push_back(answerer);
    if (auto as = answers.find(static_cast<uint32_t>(i)); as != answers.end()) {
      for (uint32_t j : as->second) {
        const Record& r = records[j];
        if (r.author_key.empty() || r.author_key == q.author_key) continue;
        std::string pid = Resolve(r.author_key, r.author_name);
        if (pid.empty() || pid == asker) continue;
        auto at = std::find(c.responders.begin(), c.responders.end(), pid);
        if (at == c.responders.end()) {
          c.responders.push_back(std::move(pid));
          c.responder_time.push_back(r.timestamp);
        } else {
          int64_t& t = c.responder_time[static_cast<size_t>(at - c.responders.begin())];
          t = std::min(t, r.timestamp);
        }
      }
    }
    if (std::find(c.responders.begin(), c.responders.end(), answerer) == c.responders.end()) {
      c.responders.push_back(answerer);
      c.responder_time.push_back(ans.timestamp);
    }
    out->push_back(std::move(c));
  }
}

void Prepared::MakeRepliesCases(std::span<const Record> records, size_t begin, size_t end,
                                std::vector<Case>* out) {
  absl::flat_hash_map<uint32_t, std::vector<uint32_t>> members;
  for (size_t i = begin; i < end; ++i) {
    if (root_[i] != i) members[root_[i]].push_back(static_cast<uint32_t>(i));
  }
  for (size_t i = begin; i < end; ++i) {
    if (root_[i] != i) continue;
    auto m = members.find(static_cast<uint32_t>(i));
    if (m == members.end()) continue;
    const Record& root = records[i];
    const std::string starter = Resolve(root.author_key, root.author_name);
    std::vector<std::string> truth;
    std::vector<int64_t> truth_time;
    for (uint32_t j : m->second) {
      const Record& r = records[j];
      if (r.author_key.empty() || r.author_key == root.author_key) continue;
      std::string pid = Resolve(r.author_key, r.author_name);
      if (pid == starter || !Active(pid)) continue;
      auto at = std::find(truth.begin(), truth.end(), pid);
      if (at == truth.end()) {
        truth.push_back(std::move(pid));
        truth_time.push_back(r.timestamp);
      } else {
        int64_t& t = truth_time[static_cast<size_t>(at - truth.begin())];
        t = std::min(t, r.timestamp);
      }
    }
    if (truth.empty()) continue;
    Case c;
    c.key = root.id;
    c.query = TruncateUtf8(root.title.empty() ? root.text : root.title + "\n" + root.text, o_->max_query_bytes);
    c.conversation = ranker::IsConversationStart(root.kind);
    if (c.conversation) {
      c.title = root.title;
      c.body = root.text;
    }
    c.now = root.timestamp;
    if (!starter.empty()) c.exclude.push_back(starter);
    c.asker = starter;
    c.responders = truth;
    c.responder_time = std::move(truth_time);
    c.truth = std::move(truth);
    out->push_back(std::move(c));
  }
}

void Prepared::MakeConnectCases(std::span<const Record> records, size_t first_test) {
  const engine::Snapshot& s = *snap_;
  absl::flat_hash_map<std::string, std::vector<std::string>> truth;
  std::vector<std::string> order;  // persons in first-interaction order
  auto add = [&](const std::string& a, const std::string& b) {
    auto [it, fresh] = truth.try_emplace(a);
    if (fresh) order.push_back(a);
    if (std::find(it->second.begin(), it->second.end(), b) == it->second.end()) it->second.push_back(b);
  };
  for (size_t i = first_test; i < records.size(); ++i) {
    const uint32_t p = parent_[i];
    if (p == kNoRecord) continue;
    const Record& r = records[i];
    const Record& q = records[p];
    if (r.author_key.empty() || q.author_key.empty() || r.author_key == q.author_key) continue;
    const std::string a = Resolve(r.author_key, r.author_name);
    const std::string b = Resolve(q.author_key, q.author_name);
    if (a == b || !Active(a) || !Active(b)) continue;
    const uint32_t pa = s.FindPerson(a), pb = s.FindPerson(b);
    const std::vector<uint32_t> contacts = engine::ContactsOf(s, pa, engine::kAllGroups);
    if (std::binary_search(contacts.begin(), contacts.end(), pb)) continue;  // not a first interaction
    add(a, b);
    add(b, a);
  }
  for (const std::string& pid : order) {
    Case c;
    c.key = pid;
    c.person = pid;
    c.truth = truth[pid];
    const uint32_t p = s.FindPerson(pid);
    c.exclude.push_back(pid);
    for (uint32_t x : engine::ContactsOf(s, p, engine::kAllGroups)) c.exclude.push_back(s.person(x).id);
    cases_.push_back(std::move(c));
  }
}

absl::StatusOr<std::unique_ptr<Prepared>> Prepared::Build(EvalTask task, const std::string& name,
                                                          std::span<const Record> records, double fraction,
                                                          const EvalOptions& o, bool keep) {
  auto p = std::make_unique<Prepared>();
  p->task_ = task;
  p->name_ = name;
  p->o_ = &o;
  p->records_ = records.size();
  p->split_ = SplitTime(records, fraction);
  const size_t first_test = static_cast<size_t>(
      std::lower_bound(records.begin(), records.end(), p->split_,
                       [](const Record& r, int64_t t) { return r.timestamp < t; }) -
      records.begin());
  p->train_ = first_test;
  p->test_ = records.size() - first_test;
  if (first_test == 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: no records before the split (%s); try a larger --split-fraction", name, Date(p->split_)));
  }
  std::string dir;
  if (keep) {
    dir = o.keep_index_dir;
    std::error_code ec;
    fs::create_directories(dir, ec);
  } else {
    WK_ASSIGN_OR_RETURN(p->dir_, TempDir::Make(o.temp_dir));
    dir = p->dir_->path();
  }
  Log(o, absl::StrFormat("eval: %s: split at %s: %d records before (indexed), %d after", name, Date(p->split_),
                         p->train_, p->test_));
  WK_RETURN_IF_ERROR(p->Index(records.first(first_test), dir));
  WK_ASSIGN_OR_RETURN(p->reader_, indexer::IndexReader::Open(dir));
  std::vector<indexer::StoredDoc> docs;
  docs.reserve(first_test);
  WK_RETURN_IF_ERROR(p->reader_->ForEachDocument([&](const indexer::StoredDoc& d) { docs.push_back(d); }));
  WK_ASSIGN_OR_RETURN(std::vector<indexer::Person> persons, p->reader_->ListPersons());
  WK_ASSIGN_OR_RETURN(p->snap_, engine::BuildSnapshot(docs, persons));
  docs.clear();
  docs.shrink_to_fit();

  // Display names of training mail identities, for test-period keys the index never saw.
  for (size_t i = 0; i < first_test; ++i) {
    const Record& r = records[i];
    if (!IsMailKey(r.author_key)) continue;
    std::string nk = indexer::MailNameKey(r.author_name);
    if (nk.empty() || p->name_person_.contains(nk)) continue;
    absl::StatusOr<std::string> pid = p->reader_->ResolvePerson(r.author_key);
    if (pid.ok()) p->name_person_.emplace(std::move(nk), *pid);
  }
  p->BuildThreads(records);
  switch (task) {
    case EvalTask::kRouting:
      p->MakeRoutingCases(records, first_test, records.size(), &p->cases_);
      break;
    case EvalTask::kReplies:
      p->MakeRepliesCases(records, first_test, records.size(), &p->cases_);
      break;
    case EvalTask::kConnect: p->MakeConnectCases(records, first_test); break;
  }
  p->by_id_.clear();  // views into `records`, which the caller may free
  p->candidates_ = p->cases_.size();
  if (o.max_queries > 0 && p->cases_.size() > o.max_queries) {
    std::stable_sort(p->cases_.begin(), p->cases_.end(),
                     [](const Case& a, const Case& b) { return Fnv1a(a.key) < Fnv1a(b.key); });
    p->cases_.resize(o.max_queries);
    std::stable_sort(p->cases_.begin(), p->cases_.end(), [](const Case& a, const Case& b) {
      return a.now != b.now ? a.now < b.now : a.key < b.key;
    });
  }
  if (task != EvalTask::kConnect) {
    WK_RETURN_IF_ERROR(p->Search(&p->cases_));
    // History: the newest max_history queries of the training index.
    if (o.max_history > 0) p->history_ = ranker::CollectHistory(*p->snap_, o.history);
    if (p->history_.size() > o.max_history) {
      p->history_.erase(p->history_.begin(),
                        p->history_.begin() + static_cast<std::ptrdiff_t>(p->history_.size() - o.max_history));
    }
    WK_RETURN_IF_ERROR(ranker::SearchHistory(p->reader_.get(), *p->snap_, o.retrieve_n, o.max_query_bytes,
                                             std::span<ranker::HistoryQuery>(p->history_), o.subject_weight));
    WK_RETURN_IF_ERROR(p->Train());
  } else {
    WK_RETURN_IF_ERROR(p->TrainConnect());
  }
  Log(o, absl::StrFormat("eval: %s: %d test cases (%d before sampling), %d persons, %d docs in the snapshot", name,
                         p->cases_.size(), p->candidates_, p->snap_->num_persons(), p->snap_->num_docs()));
  return p;
}

absl::Status Prepared::Search(std::vector<Case>* cases) {
  indexer::SearchFilter filter;
  auto last = std::chrono::steady_clock::now();
  for (size_t i = 0; i < cases->size(); ++i) {
    Case& c = (*cases)[i];
    if (o_->log && std::chrono::steady_clock::now() - last > std::chrono::seconds(10)) {
      last = std::chrono::steady_clock::now();
      Log(*o_, absl::StrFormat("eval: %s: searching %d/%d", name_, i, cases->size()));
    }
    if (c.query.empty()) continue;
    absl::StatusOr<std::vector<indexer::SearchHit>> hits =
        c.conversation
            ? ranker::SearchConversationStart(reader_.get(), c.title, c.body, o_->max_query_bytes, o_->retrieve_n,
                                              o_->subject_weight)
            : reader_->Search(c.query, filter, o_->retrieve_n);
    if (hits.ok()) {
      c.hits = std::move(*hits);
    } else if (hits.status().code() != absl::StatusCode::kInvalidArgument) {
      return hits.status();
    }
  }
  return absl::OkStatus();
}

// The ranker options eval trains `method` (whoknows or its no-graph ablation) with.
ranker::RankerOptions EvalRankerOptions(const EvalOptions& o, engine::Method method) {
  ranker::RankerOptions ro;
  ro.ask = o.ask;
  ro.ask.method = method;
  ro.train = o.train;
  ro.question_topics = o.question_topics;
  return ro;
}

// Learning to rank from the history before the split, as `whoknows index`
// trains (ranker::TrainOnHistory): every history query ranked as of its own
// time. Two models: the full ranking and the no-graph one.
absl::Status Prepared::Train() {
  if (history_.empty()) {
    model_note_ = "blend (no history)";
    return absl::OkStatus();
  }
  for (const ranker::HistoryQuery& h : history_) {
    if (h.now >= split_) return absl::InternalError("eval: a history query at or after the split");
  }
  for (engine::Method m : {engine::Method::kWhoknows, engine::Method::kNoGraph}) {
    const ranker::RankerOptions ro = EvalRankerOptions(*o_, m);
    const bool keep = m == engine::Method::kWhoknows && o_->pooled_training;
    WK_ASSIGN_OR_RETURN(ranker::Ranker r, ranker::TrainOnHistory(*snap_, history_, ro, keep ? &groups_ : nullptr));
    if (m == engine::Method::kWhoknows) {
      feature_seconds_ = r.feature_seconds;
      train_seconds_ = r.train_seconds;
      train_rows_ = r.rows;
      model_ = r.model;
      r.trained_at = 0;  // no date in eval's note
      model_note_ = r.Describe();
      if (!r.learned()) break;
    } else {
      model_nograph_ = r.model;
    }
  }
  Log(*o_, absl::StrFormat("eval: %s: ranker %s; features %.1fs, training %.2fs", name_, model_note_,
                           feature_seconds_, train_seconds_));
  return absl::OkStatus();
}

// The connect ranking learned from the first interactions before the split
// (engine::ConnectHistory: every history group is ranked as of its own time,
// and the snapshot holds nothing at or after the split).
absl::Status Prepared::TrainConnect() {
  interactions_ = engine::InteractionGraph::Build(*snap_);
  if (o_->max_history == 0) {
    model_note_ = "hand-tuned ppr (training off)";
    return absl::OkStatus();
  }
  const auto t0 = std::chrono::steady_clock::now();
  engine::ConnectTrainOptions co = o_->connect_train;
  std::vector<engine::ConnectHistoryGroup> groups = engine::ConnectHistory(*snap_, *interactions_, split_, co);
  const auto t1 = std::chrono::steady_clock::now();
  size_t found = 0;
  for (const engine::ConnectHistoryGroup& g : groups) {
    if (g.as_of >= split_) return absl::InternalError("eval: a connect history group at or after the split");
    connect_history_latest_ = std::max(connect_history_latest_, g.as_of);
    found += std::find(g.relevant.begin(), g.relevant.end(), 1) != g.relevant.end() ? 1 : 0;
  }
  connect_groups_ = groups.size();
  absl::StatusOr<std::shared_ptr<const engine::ConnectModel>> model = engine::ConnectModel::Train(groups, co);
  const auto t2 = std::chrono::steady_clock::now();
  feature_seconds_ = std::chrono::duration<double>(t1 - t0).count();
  train_seconds_ = std::chrono::duration<double>(t2 - t1).count();
  Log(*o_, absl::StrFormat("eval: %s: connect history: %d groups, %d with a truth among the candidates", name_,
                           groups.size(), found));
  if (!model.ok()) {
    if (model.status().code() != absl::StatusCode::kFailedPrecondition) return model.status();
    model_note_ = absl::StrCat("hand-tuned ppr (fallback: ", model.status().message(), ")");
    return absl::OkStatus();
  }
  connect_model_ = *model;
  for (const engine::TrainOptions& v : o_->connect_variants) {
    engine::ConnectTrainOptions vo = co;
    vo.train = v;
    WK_ASSIGN_OR_RETURN(std::shared_ptr<const engine::ConnectModel> m, engine::ConnectModel::Train(groups, vo));
    connect_variants_.emplace_back(ConnectVariantName(v), std::move(m));
  }
  train_rows_ = (*model)->train_rows();
  model_note_ = absl::StrFormat("learned (xgboost %s %s, %d history groups, %d rows)", co.train.booster,
                                co.train.objective, (*model)->train_groups(), (*model)->train_rows());
  return absl::OkStatus();
}

absl::Status Prepared::RankConnect(const std::string& method, const Case& c, const engine::ConnectOptions& connect,
                                   engine::ConnectFeaturizer* featurizer, std::vector<std::string>* ranked,
                                   double* cand) const {
  const engine::Snapshot& s = *snap_;
  const uint32_t P = s.num_persons();
  const uint32_t p = s.FindPerson(c.person);
  std::vector<uint32_t> all;  // every candidate, best first
  std::vector<uint32_t> exclude;
  std::vector<uint8_t> blocked(P, 0);
  for (const std::string& id : c.exclude) {
    const uint32_t x = s.FindPerson(id);
    if (x != kNone) {
      exclude.push_back(x);
      blocked[x] = 1;
    }
  }
  using engine::LinkMethod;
  const std::pair<const char*, LinkMethod> links[] = {{"common-neighbours", LinkMethod::kCommonNeighbours},
                                                      {"adamic-adar", LinkMethod::kAdamicAdar},
                                                      {"resource-allocation", LinkMethod::kResourceAllocation},
                                                      {"jaccard", LinkMethod::kJaccard}};
  bool done = false;
  for (const auto& [name, lm] : links) {
    if (method != name) continue;
    for (const auto& [q, v] : engine::PredictLinks(s, *interactions_, p, lm, engine::kAllGroups, 0, blocked)) {
      all.push_back(q);
    }
    done = true;
  }
  if (done) {
  } else if (method == "popularity" || method == "recent-popularity") {
    engine::PopularityOptions po;
    po.k = P;
    po.exclude_persons = c.exclude;
    if (method == "recent-popularity") {
      po.from = split_ - 365 * 86400;
      po.to = split_;
    }
    for (const engine::Expert& e : engine::RankByPopularity(s, po)) all.push_back(e.person);
  } else if (method.starts_with("whoknows[")) {
    for (const auto& [name, m] : connect_variants_) {
      if (name != method) continue;
      WK_ASSIGN_OR_RETURN(std::vector<engine::RankedCandidate> r, engine::RankWithModel(s, featurizer, *m, p, exclude));
      for (const engine::RankedCandidate& x : r) all.push_back(x.person);
    }
  } else if (method == "whoknows" && connect_model_ != nullptr) {
    WK_ASSIGN_OR_RETURN(std::vector<engine::RankedCandidate> r,
                        engine::RankWithModel(s, featurizer, *connect_model_, p, exclude));
    for (const engine::RankedCandidate& x : r) all.push_back(x.person);
  } else if (method == "whoknows" || method == "whoknows-ppr") {
    engine::ConnectOptions co = connect;
    co.k = P;
    co.max_reasons = 0;
    co.method = engine::ConnectMethod::kWhoknows;
    WK_ASSIGN_OR_RETURN(std::vector<engine::Connection> r, engine::SuggestConnections(s, c.person, {}, co));
    for (const engine::Connection& x : r) all.push_back(x.person);
  } else {
    return absl::InvalidArgumentError(absl::StrFormat("eval: unknown connect method '%s'", method));
  }
  bool found = false;
  for (uint32_t q : all) found |= std::find(c.truth.begin(), c.truth.end(), s.person(q).id) != c.truth.end();
  *cand += found ? 1 : 0;
  for (size_t i = 0; i < all.size() && i < o_->depth; ++i) ranked->push_back(s.person(all[i]).id);
  return absl::OkStatus();
}

absl::StatusOr<Sums> Prepared::Run(const std::string& method, const engine::AskOptions& ask,
                                   const engine::ConnectOptions& connect) const {
  Sums sums;
  std::vector<std::string> ranked;
  const engine::Snapshot& s = *snap_;
  std::unique_ptr<engine::ConnectFeaturizer> featurizer;  // connect: as of the split
  if (task_ == EvalTask::kConnect && interactions_ != nullptr) {
    engine::ConnectFeatureOptions fo = connect_model_ ? connect_model_->features() : o_->connect_train.features;
    fo.as_of = split_;
    featurizer = std::make_unique<engine::ConnectFeaturizer>(s, *interactions_, fo);
  }
  auto last = std::chrono::steady_clock::now();
  for (size_t i = 0; i < cases_.size(); ++i) {
    const Case& c = cases_[i];
    if (o_->log && std::chrono::steady_clock::now() - last > std::chrono::seconds(10)) {
      last = std::chrono::steady_clock::now();
      Log(*o_, absl::StrFormat("eval: %s: %s %d/%d", name_, method, i, cases_.size()));
    }
    ranked.clear();
    if (task_ == EvalTask::kConnect) {
      WK_RETURN_IF_ERROR(RankConnect(method, c, connect, featurizer.get(), &ranked, &sums.cand));
    } else {
      const bool blend = method == "whoknows-blend";
      const ranker::Ranker* pooled = nullptr;
      for (const auto& [name, r] : pooled_) {
        if (name == method) pooled = &r;
      }
      if (IsPooledMethod(method) && pooled == nullptr) {
        return absl::InternalError(absl::StrFormat("eval: %s: no %s ranker", name_, method));
      }
      WK_ASSIGN_OR_RETURN(engine::Method m, engine::ParseMethod(blend || pooled != nullptr ? "whoknows" : method));
      const bool baseline = m == engine::Method::kPopularity || m == engine::Method::kBm25Voting ||
                            m == engine::Method::kRecentPopularity;
      engine::AskOptions ao = baseline ? o_->baseline_ask : ask;
      ao.method = m;
      ao.k = o_->depth;
      ao.offset = 0;
      // Every method ranks as of the split, where the index ends (recent-popularity counts the
      // recent_days before it; decay and recency are measured from it), as history queries rank
      // as of their own time.
      ao.now = split_;
      ao.exclude_persons = c.exclude;
      ao.asker = c.asker;
      ao.query_topics.clear();
      if (!baseline && o_->question_topics) ao.query_topics = c.topics;
      ao.max_evidence = 1;
      ao.max_topics = 0;
      ao.explain = false;
      // The learned ranker for whoknows and its no-graph ablation; the blend for everything else.
      ao.model = blend ? nullptr
                 : pooled != nullptr ? pooled->model
                 : m == engine::Method::kWhoknows ? model_
                 : m == engine::Method::kNoGraph  ? model_nograph_
                                                  : nullptr;
      WK_ASSIGN_OR_RETURN(std::vector<engine::Expert> r, engine::RankExperts(s, c.hits, ao));
      for (const engine::Expert& x : r) ranked.push_back(x.id);
      // Candidate recall: is any truth among everything this method can rank, at any depth?
      WK_ASSIGN_OR_RETURN(std::vector<uint32_t> cand, engine::CandidatePeople(s, c.hits, ao));
      bool found = false;
      for (uint32_t p : cand) {
        if (std::find(c.truth.begin(), c.truth.end(), s.person(p).id) != c.truth.end()) {
          found = true;
          break;
        }
      }
      sums.cand += found ? 1 : 0;
    }
    sums.Add(ranked, c.truth);
  }
  return sums;
}

double Round4(double x) { return std::round(x * 1e4) / 1e4; }

// EvalOptions::cases_out: one JSON line per case of `method` on data set `path`.
absl::Status AppendCases(const std::string& file, const std::string& path, const std::string& method,
                         const std::vector<Case>& cases, const Sums& sums) {
  std::ofstream out(file, std::ios::app);
  if (!out) return absl::InternalError(absl::StrFormat("eval: cannot open %s", file));
  for (size_t i = 0; i < sums.rr_cases.size() && i < cases.size(); ++i) {
    out << nlohmann::json{{"data", path}, {"method", method}, {"case", cases[i].key}, {"rr", sums.rr_cases[i]}}.dump()
        << "\n";
  }
  if (!out) return absl::InternalError(absl::StrFormat("eval: cannot write %s", file));
  return absl::OkStatus();
}

nlohmann::json MethodsJson(const std::vector<MethodResult>& methods) {
  nlohmann::json arr = nlohmann::json::array();
  for (const MethodResult& m : methods) {
    arr.push_back({{"method", m.method},
                   {"mrr", Round4(m.mrr)},
                   {"p_at_1", Round4(m.p_at_1)},
                   {"ndcg_at_3", Round4(m.ndcg_at_3)},
                   {"ndcg_at_10", Round4(m.ndcg_at_10)},
                   {"hits_at_10", Round4(m.hits_at_10)},
                   {"candidate_recall", Round4(m.candidate_recall)},
                   {"mrr_se", Round4(m.mrr_se)}});
  }
  return arr;
}

nlohmann::json PairedJson(const std::vector<PairedDiff>& paired) {
  nlohmann::json arr = nlohmann::json::array();
  for (const PairedDiff& p : paired) {
    arr.push_back({{"method", p.method}, {"baseline", p.baseline}, {"mrr_diff", Round4(p.mrr_diff)}, {"se", Round4(p.se)}});
  }
  return arr;
}

// "  whoknows - baseline, MRR per case (paired, +- 1 s.e.): ..." (routing/replies).
void AppendPaired(const DatasetResult& d, std::string* out) {
  if (d.paired.empty()) return;
  *out += "  whoknows minus baseline, mean per-case RR difference +- 1 s.e.:";
  bool pooled = false;
  for (const PairedDiff& p : d.paired) {
    if (p.method != "whoknows") {
      pooled = true;
      continue;
    }
    absl::StrAppendFormat(out, "  %s %+.3f +- %.3f", p.baseline, p.mrr_diff, p.se);
  }
  *out += "\n";
  if (!pooled) return;
  *out += "  pooled rankers minus whoknows (the data set's own), mean per-case RR difference +- 1 s.e.:";
  for (const PairedDiff& p : d.paired) {
    if (p.method != "whoknows") absl::StrAppendFormat(out, "  %s %+.4f +- %.4f", p.method, p.mrr_diff, p.se);
  }
  *out += "\n";
}

// CandRec (candidate recall) only for routing/replies.
void AppendTable(const DatasetResult& d, bool cand, std::string* out) {
  absl::StrAppendFormat(out, "  %-22s %6s %7s %7s %8s %8s %8s%s\n", "method", "n", "MRR", "P@1", "nDCG@3", "nDCG@10",
                        "Hits@10", cand ? "  CandRec" : "");
  for (const MethodResult& m : d.methods) {
    absl::StrAppendFormat(out, "  %-22s %6d %7.3f %7.3f %8.3f %8.3f %8.3f%s\n", m.method, d.n, m.mrr, m.p_at_1,
                          m.ndcg_at_3, m.ndcg_at_10, m.hits_at_10,
                          cand ? absl::StrFormat(" %8.3f", m.candidate_recall) : std::string());
  }
}

struct Param {
  const char* name;
  std::vector<double> grid;
  double* (*field_ask)(engine::AskOptions*);
  double* (*field_connect)(engine::ConnectOptions*);
};

// The weights --validate searches (and --param sets), with their grids.
const std::vector<Param>& TunableParams() {
  static const std::vector<Param>* params = new std::vector<Param>{
      {"half_life_days", {90, 180, 365, 730, 1460, 3650}, [](engine::AskOptions* a) { return &a->half_life_days; },
       nullptr},
      {"w_thread", {0, 0.1, 0.25, 0.5, 1.0}, [](engine::AskOptions* a) { return &a->w_thread; }, nullptr},
      {"half_life_days_qa", {90, 180, 365, 730, 1460, 3650},
       [](engine::AskOptions* a) { return &a->half_life_days_qa; }, nullptr},
      {"w_thread_qa", {0, 0.1, 0.25, 0.5, 1.0}, [](engine::AskOptions* a) { return &a->w_thread_qa; }, nullptr},
      {"w_ppr", {0, 0.1, 0.3, 0.5, 1.0, 2.0}, [](engine::AskOptions* a) { return &a->w_ppr; }, nullptr},
      {"w_asker", {0, 0.1, 0.3, 0.6, 1.0}, [](engine::AskOptions* a) { return &a->w_asker; }, nullptr},
      {"w_prior", {0, 0.02, 0.05, 0.1, 0.2, 0.4, 0.7, 1.0}, [](engine::AskOptions* a) { return &a->w_prior; }, nullptr},
      {"w_recent", {0, 0.1, 0.25, 0.5, 1.0, 2.0}, [](engine::AskOptions* a) { return &a->w_recent; }, nullptr},
      {"w_topic", {0, 0.1, 0.25, 0.5, 1.0, 2.0}, [](engine::AskOptions* a) { return &a->w_topic; }, nullptr},
      {"w_contact", {0, 0.1, 0.25, 0.5, 1.0, 2.0}, [](engine::AskOptions* a) { return &a->w_contact; }, nullptr},
      {"w_comment", {0, 0.1, 0.3, 0.6, 1.0}, [](engine::AskOptions* a) { return &a->w_comment; }, nullptr},
      {"w_accepted", {0, 0.5, 1.0, 2.0}, [](engine::AskOptions* a) { return &a->w_accepted; }, nullptr},
      {"ppr.alpha", {0.1, 0.15, 0.25, 0.4, 0.6}, [](engine::AskOptions* a) { return &a->ppr.alpha; }, nullptr},
      {"ppr.r_max", {1e-6, 1e-5, 1e-4, 1e-3}, [](engine::AskOptions* a) { return &a->ppr.r_max; }, nullptr},
      {"connect.ppr.r_max", {1e-7, 1e-6, 1e-5, 1e-4}, nullptr, [](engine::ConnectOptions* c) { return &c->ppr.r_max; }},
      {"connect.beta", {0, 0.25, 0.5, 0.75, 1.0}, nullptr, [](engine::ConnectOptions* c) { return &c->beta; }},
      {"connect.ppr.alpha", {0.1, 0.15, 0.25, 0.4, 0.6}, nullptr,
       [](engine::ConnectOptions* c) { return &c->ppr.alpha; }},
  };
  return *params;
}

}  // namespace

std::string_view EvalTaskName(EvalTask task) {
  switch (task) {
    case EvalTask::kRouting: return "routing";
    case EvalTask::kReplies: return "replies";
    case EvalTask::kConnect: return "connect";
  }
  return "routing";
}

absl::StatusOr<EvalTask> ParseEvalTask(std::string_view name) {
  for (EvalTask t : {EvalTask::kRouting, EvalTask::kReplies, EvalTask::kConnect}) {
    if (EvalTaskName(t) == name) return t;
  }
  return absl::InvalidArgumentError(
      absl::StrFormat("unknown eval task '%s' (expected routing, replies or connect)", name));
}

absl::StatusOr<std::vector<Record>> LoadRecords(const std::string& path, uint64_t* bad) {
  return Load(path, bad, nullptr);
}

int64_t SplitTime(std::span<const Record> sorted_records, double fraction) {
  if (sorted_records.empty()) return 0;
  const size_t n = sorted_records.size();
  size_t i = static_cast<size_t>(std::floor(fraction * static_cast<double>(n)));
  if (i >= n) i = n - 1;
  return sorted_records[i].timestamp;
}

namespace {

// Keeps only the training period of `records` (sorted by time): the records
// before this data set's test split. InvalidArgument when none are left.
absl::Status KeepTrainingPeriod(const std::string& path, double split_fraction, std::vector<Record>* records) {
  const int64_t split = SplitTime(*records, split_fraction);
  records->resize(static_cast<size_t>(
      std::lower_bound(records->begin(), records->end(), split,
                       [](const Record& r, int64_t t) { return r.timestamp < t; }) -
      records->begin()));
  if (records->empty()) return absl::InvalidArgumentError(absl::StrFormat("%s: no training records", path));
  return absl::OkStatus();
}

absl::Status CheckOptions(const std::vector<std::string>& paths, const EvalOptions& o) {
  if (!(o.split_fraction > 0 && o.split_fraction < 1)) {
    return absl::InvalidArgumentError(absl::StrFormat("--split-fraction must be in (0, 1), got %g", o.split_fraction));
  }
  if (!(o.validation_fraction >= 0 && o.validation_fraction < 1)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("--validation-fraction must be in (0, 1), got %g", o.validation_fraction));
  }
  if (paths.empty()) return absl::InvalidArgumentError("eval: no data set PATH given");
  for (double w : o.pooled_other_weights) {
    if (!(w > 0 && w <= 1)) {
      return absl::InvalidArgumentError(absl::StrFormat("--pooled-other-weight must be in (0, 1], got %g", w));
    }
  }
  if (o.depth == 0 || o.retrieve_n == 0) return absl::InvalidArgumentError("eval: depth and retrieve_n must be > 0");
  for (const std::string& p : paths) {
    std::error_code ec;
    if (!fs::exists(p, ec)) return absl::NotFoundError(absl::StrFormat("%s: no such file or directory", p));
  }
  return absl::OkStatus();
}

// Reads one data set (bad records counted into *bad when given, and logged),
// keeps only its training period on `validation`, and prepares it.
absl::StatusOr<std::unique_ptr<Prepared>> LoadPrepared(EvalTask task, const std::string& path, const EvalOptions& o,
                                                       bool validation, bool keep_index, uint64_t* bad) {
  Log(o, absl::StrFormat("eval: reading %s", path));
  uint64_t skipped = 0;
  WK_ASSIGN_OR_RETURN(std::vector<Record> records, Load(path, &skipped, &o));
  if (skipped > 0) Log(o, absl::StrFormat("eval: %s: %d bad records skipped", path, skipped));
  if (bad != nullptr) *bad = skipped;
  if (validation) WK_RETURN_IF_ERROR(KeepTrainingPeriod(path, o.split_fraction, &records));
  const double inner = o.validation_fraction > 0 ? o.validation_fraction : o.split_fraction;
  return Prepared::Build(task, validation ? path + " [validation]" : path, records, validation ? inner : o.split_fraction,
                         o, keep_index);
}

// EvalOptions::pooled_training: for every data set, rankers trained on the
// training groups of several data sets (each from its own history before its
// own split; checked again here), interleaved by position in their history.
absl::Status TrainPooled(std::span<const std::unique_ptr<Prepared>> sets, const EvalOptions& o) {
  struct Item {
    double pos;  // (index + 1) / size in its data set's history, oldest first
    size_t set;
    const engine::TrainingGroup* group;
  };
  std::vector<Item> all;
  for (size_t i = 0; i < sets.size(); ++i) {
    const Prepared& p = *sets[i];
    if (p.groups_.size() != p.history_.size()) {
      if (p.groups_.empty()) continue;  // no history, or no training (the blend)
      return absl::InternalError(absl::StrFormat("eval: %s: %d training groups for %d history queries", p.name_,
                                                 p.groups_.size(), p.history_.size()));
    }
    for (size_t j = 0; j < p.groups_.size(); ++j) {
      if (p.history_[j].now >= p.split_) {
        return absl::InternalError(absl::StrFormat("eval: %s: a pooled history query at or after the split", p.name_));
      }
      all.push_back({static_cast<double>(j + 1) / static_cast<double>(p.groups_.size()), i, &p.groups_[j]});
    }
  }
  std::stable_sort(all.begin(), all.end(), [](const Item& a, const Item& b) { return a.pos < b.pos; });
  const ranker::RankerOptions ro = EvalRankerOptions(o, engine::Method::kWhoknows);
  for (size_t d = 0; d < sets.size(); ++d) {
    Prepared& p = *sets[d];
    // (method, copies of each own group (0: left out)). A mix's weight W of the others' history
    // is the own history's groups repeated round(1 / W) times (XGBoost 1.7's gblinear reads
    // per-group ranking weights as per-row ones, so group weights are not an option).
    std::vector<std::pair<std::string, size_t>> variants = {{"whoknows-pooled", 1}, {"whoknows-loo", 0}};
    for (double w : o.pooled_other_weights) variants.emplace_back(MixMethodName(w), MixCopies(w));
    for (const auto& [method, copies] : variants) {
      std::vector<engine::TrainingGroup> groups;
      size_t from_own = 0;
      for (const Item& it : all) {
        const size_t n = it.set == d ? copies : 1;
        for (size_t c = 0; c < n; ++c) groups.push_back(*it.group);
        from_own += it.set == d ? n : 0;
      }
      WK_ASSIGN_OR_RETURN(ranker::Ranker r, ranker::TrainOnGroups(groups, ro));
      r.trained_at = 0;
      std::string note = r.Describe();
      absl::StrAppendFormat(&note, "; %d history queries, %d of them this data set's", groups.size(), from_own);
      if (copies > 1) absl::StrAppendFormat(&note, " (%d copies of each)", copies);
      Log(o, absl::StrFormat("eval: %s: %s: %s; training %.2fs", p.name_, method, note, r.train_seconds));
      p.pooled_.emplace_back(method, std::move(r));
      p.pooled_notes_.emplace_back(method, std::move(note));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<EvalReport> RunEval(EvalTask task, const std::vector<std::string>& paths, const EvalOptions& o) {
  WK_RETURN_IF_ERROR(CheckOptions(paths, o));
  EvalReport report;
  report.task = task;
  report.split_fraction = o.split_fraction;
  std::vector<std::string> methods = MethodNames(task, o);
  if (task == EvalTask::kConnect) {
    for (const engine::TrainOptions& v : o.connect_variants) methods.push_back(ConnectVariantName(v));
  }
  // Pooled training needs every data set's history before any is ranked: prepare all first.
  const bool pool = o.pooled_training && task != EvalTask::kConnect && o.max_history > 0;
  std::vector<std::unique_ptr<Prepared>> ready;
  if (pool) {
    for (size_t di = 0; di < paths.size(); ++di) {
      WK_ASSIGN_OR_RETURN(std::unique_ptr<Prepared> prep,
                          LoadPrepared(task, paths[di], o, o.validation_tables,
                                       di == 0 && !o.keep_index_dir.empty(), nullptr));
      ready.push_back(std::move(prep));
    }
    WK_RETURN_IF_ERROR(TrainPooled(ready, o));
  }
  std::vector<Sums> pooled(methods.size());
  for (size_t di = 0; di < paths.size(); ++di) {
    const std::string& path = paths[di];
    std::unique_ptr<Prepared> prep;
    if (pool) {
      prep = std::move(ready[di]);
    } else {
      WK_ASSIGN_OR_RETURN(prep, LoadPrepared(task, path, o, o.validation_tables,
                                             di == 0 && !o.keep_index_dir.empty(), nullptr));
    }
    DatasetResult d;
    d.path = path;
    d.n = prep->cases_.size();
    d.split_time = prep->split_;
    d.records = prep->records_;
    d.train_records = prep->train_;
    d.test_records = prep->test_;
    d.candidates = prep->candidates_;
    d.ranker = prep->model_note_;
    d.pooled_rankers = prep->pooled_notes_;
    if (prep->model_ != nullptr && task != EvalTask::kConnect) {
      const std::span<const double> w = prep->model_->linear_weights();
      for (size_t i = 0; i < w.size() && i < engine::kNumRankFeatures; ++i) {
        d.ranker_weights.emplace_back(engine::FeatureNames()[i], w[i]);
      }
    }
    d.history_queries = prep->history_.size();
    for (const ranker::HistoryQuery& h : prep->history_) d.history_latest = std::max(d.history_latest, h.now);
    d.train_rows = prep->train_rows_;
    d.feature_seconds = prep->feature_seconds_;
    d.train_seconds = prep->train_seconds_;
    if (task == EvalTask::kConnect) {
      d.history_queries = prep->connect_groups_;
      d.history_latest = prep->connect_history_latest_;
    }
    std::vector<Sums> sums;
    for (size_t mi = 0; mi < methods.size(); ++mi) {
      const auto t0 = std::chrono::steady_clock::now();
      WK_ASSIGN_OR_RETURN(Sums s, prep->Run(methods[mi], o.ask, o.connect));
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      Log(o, absl::StrFormat("eval: %s: %-22s %d cases  MRR %.3f  (%.1fs)", path, methods[mi], s.n,
                             s.n ? s.rr / static_cast<double>(s.n) : 0.0, secs));
      d.methods.push_back(s.Mean(methods[mi]));
      if (!o.cases_out.empty()) WK_RETURN_IF_ERROR(AppendCases(o.cases_out, path, methods[mi], prep->cases_, s));
      pooled[mi].Merge(s);
      sums.push_back(std::move(s));
    }
    if (task != EvalTask::kConnect) d.paired = PairedDiffs(methods, sums);
    report.datasets.push_back(std::move(d));
  }
  report.pooled.path = "pooled";
  report.pooled.n = pooled.empty() ? 0 : pooled[0].n;
  for (size_t mi = 0; mi < methods.size(); ++mi) report.pooled.methods.push_back(pooled[mi].Mean(methods[mi]));
  if (task != EvalTask::kConnect) report.pooled.paired = PairedDiffs(methods, pooled);
  return report;
}

nlohmann::json EvalReportToJson(const EvalReport& r) {
  nlohmann::json datasets = nlohmann::json::array();
  for (const DatasetResult& d : r.datasets) {
    nlohmann::json j = {{"path", d.path}, {"n", d.n}, {"methods", MethodsJson(d.methods)}};
    if (!d.paired.empty()) j["paired"] = PairedJson(d.paired);
    if (!d.ranker.empty()) {
      j["ranker"] = {{"kind", d.ranker},
                     {"history_queries", d.history_queries},
                     {"history_latest", d.history_latest},
                     {"split_time", d.split_time},
                     {"train_rows", d.train_rows},
                     {"feature_seconds", Round4(d.feature_seconds)},
                     {"train_seconds", Round4(d.train_seconds)}};
      if (!d.ranker_weights.empty()) {
        nlohmann::json w = nlohmann::json::object();
        for (const auto& [name, v] : d.ranker_weights) w[name] = Round4(v);
        j["ranker"]["weights"] = std::move(w);
      }
    }
    if (!d.pooled_rankers.empty()) {
      nlohmann::json pr = nlohmann::json::object();
      for (const auto& [method, note] : d.pooled_rankers) pr[method] = note;
      j["pooled_rankers"] = std::move(pr);
    }
    datasets.push_back(std::move(j));
  }
  return {{"task", std::string(EvalTaskName(r.task))},
          {"datasets", datasets},
          {"pooled", r.pooled.paired.empty()
                         ? nlohmann::json{{"n", r.pooled.n}, {"methods", MethodsJson(r.pooled.methods)}}
                         : nlohmann::json{{"n", r.pooled.n},
                                          {"methods", MethodsJson(r.pooled.methods)},
                                          {"paired", PairedJson(r.pooled.paired)}}}};
}

std::string FormatEvalReport(const EvalReport& r) {
  std::string out;
  absl::StrAppendFormat(&out, "whoknows eval %s (time split at fraction %.2f of each data set's records)\n",
                        EvalTaskName(r.task), r.split_fraction);
  switch (r.task) {
    case EvalTask::kRouting:
      out += "test case: a question after the split whose accepted answerer was active before it; truth: that answerer\n";
      break;
    case EvalTask::kReplies:
      out += "test case: a thread started after the split; truth: its repliers (not the starter) active before it\n";
      break;
    case EvalTask::kConnect:
      out += "test case: a person active before the split; truth: people they first interacted with after it\n"
             "(interaction = one replied to the other; first = not contacts in the pre-split graph)\n";
      break;
  }
  for (const DatasetResult& d : r.datasets) {
    absl::StrAppendFormat(&out, "\n%s\n  split %s UTC; %d records: %d indexed (before), %d after; %d test cases",
                          d.path, Date(d.split_time), d.records, d.train_records, d.test_records, d.n);
    if (d.candidates != d.n) absl::StrAppendFormat(&out, " (sampled from %d)", d.candidates);
    out += "\n";
    if (!d.ranker.empty()) {
      absl::StrAppendFormat(&out, "  whoknows ranker: %s; history before the split: %d queries, newest %s UTC",
                            d.ranker, d.history_queries, d.history_latest ? Date(d.history_latest) : "-");
      if (d.train_rows > 0) {
        absl::StrAppendFormat(&out, "; features %.2fs, training %.2fs", d.feature_seconds, d.train_seconds);
      }
      out += "\n";
      if (!d.ranker_weights.empty()) {
        out += "  whoknows ranker weights:";
        for (const auto& [name, v] : d.ranker_weights) absl::StrAppendFormat(&out, " %s %.3g", name, v);
        out += "\n";
      }
    }
    for (const auto& [method, note] : d.pooled_rankers) absl::StrAppendFormat(&out, "  %s ranker: %s\n", method, note);
    AppendTable(d, true, &out);
    AppendPaired(d, &out);
  }
  if (r.datasets.size() > 1) {
    absl::StrAppendFormat(&out, "\npooled over %d data sets (micro-average over test cases)\n", r.datasets.size());
    AppendTable(r.pooled, true, &out);
    AppendPaired(r.pooled, &out);
  }
  return out;
}

// --- tuning

absl::StatusOr<TuneResult> TuneOnValidation(EvalTask task, const std::vector<std::string>& paths,
                                            const EvalOptions& o) {
  WK_RETURN_IF_ERROR(CheckOptions(paths, o));
  std::vector<std::unique_ptr<Prepared>> sets;
  for (const std::string& path : paths) {
    Log(o, absl::StrFormat("eval: reading %s", path));
    WK_ASSIGN_OR_RETURN(std::vector<Record> records, Load(path, nullptr, &o));
    WK_RETURN_IF_ERROR(KeepTrainingPeriod(path, o.split_fraction, &records));
    WK_ASSIGN_OR_RETURN(std::unique_ptr<Prepared> prep,
                        Prepared::Build(task, path + " [validation]", records,
                                        o.validation_fraction > 0 ? o.validation_fraction : o.split_fraction, o, false));
    sets.push_back(std::move(prep));
  }
  TuneResult result;
  result.task = task;
  result.ask = o.ask;
  result.connect = o.connect;
  for (const auto& s : sets) result.n += s->cases_.size();
  const bool connect = task == EvalTask::kConnect;
  result.objective_name = connect ? "hits_at_10" : "mrr";

  auto objective = [&](const engine::AskOptions& ask, const engine::ConnectOptions& co) -> absl::StatusOr<double> {
    Sums total;
    for (const auto& s : sets) {
      WK_ASSIGN_OR_RETURN(Sums x, s->Run("whoknows", ask, co));
      total.Merge(x);
    }
    if (total.n == 0) return 0.0;
    return (connect ? total.h10 : total.rr) / static_cast<double>(total.n);
  };

  std::vector<Param> params;
  for (const Param& p : TunableParams()) {
    if ((p.field_connect != nullptr) == connect) params.push_back(p);
  }
  auto field = [&](const Param& p, engine::AskOptions* a, engine::ConnectOptions* c) {
    return p.field_ask != nullptr ? p.field_ask(a) : p.field_connect(c);
  };
  WK_ASSIGN_OR_RETURN(result.baseline, objective(result.ask, result.connect));
  double best = result.baseline;
  Log(o, absl::StrFormat("eval: validate %s: %d cases, start %s %.4f", EvalTaskName(task), result.n,
                         result.objective_name, best));
  for (int round = 0; round < o.tune_rounds; ++round) {
    bool changed = false;
    for (const Param& p : params) {
      for (double v : p.grid) {
        engine::AskOptions a = result.ask;
        engine::ConnectOptions c = result.connect;
        if (*field(p, &a, &c) == v) continue;
        *field(p, &a, &c) = v;
        WK_ASSIGN_OR_RETURN(double obj, objective(a, c));
        result.trace.push_back({p.name, v, obj});
        if (obj > best + 1e-9) {
          best = obj;
          result.ask = a;
          result.connect = c;
          changed = true;
        }
      }
      engine::AskOptions a = result.ask;
      engine::ConnectOptions c = result.connect;
      Log(o, absl::StrFormat("eval: validate round %d: %s = %g (%s %.4f)", round + 1, p.name, *field(p, &a, &c),
                             result.objective_name, best));
    }
    if (!changed) break;
  }
  result.best = best;
  for (const Param& p : params) {
    engine::AskOptions a = result.ask;
    engine::ConnectOptions c = result.connect;
    result.chosen.emplace_back(p.name, *field(p, &a, &c));
  }
  return result;
}

absl::Status SetEvalParam(std::string_view name, double value, engine::AskOptions* ask,
                          engine::ConnectOptions* connect) {
  if (!std::isfinite(value) || value < 0) {
    return absl::InvalidArgumentError(absl::StrFormat("parameter %s: bad value %g", name, value));
  }
  for (const Param& p : TunableParams()) {
    if (p.name != name) continue;
    if (p.field_ask != nullptr) {
      *p.field_ask(ask) = value;
    } else {
      *p.field_connect(connect) = value;
    }
    return absl::OkStatus();
  }
  std::string names;
  for (const Param& p : TunableParams()) absl::StrAppend(&names, names.empty() ? "" : ", ", p.name);
  return absl::InvalidArgumentError(absl::StrFormat("unknown parameter '%s' (known: %s)", name, names));
}

nlohmann::json TuneResultToJson(const TuneResult& r) {
  nlohmann::json chosen = nlohmann::json::object();
  for (const auto& [k, v] : r.chosen) chosen[k] = v;
  nlohmann::json trace = nlohmann::json::array();
  for (const TuneStep& s : r.trace) trace.push_back({{"param", s.param}, {"value", s.value}, {"objective", s.objective}});
  return {{"task", std::string(EvalTaskName(r.task))},
          {"validation_n", r.n},
          {"objective", r.objective_name},
          {"baseline", Round4(r.baseline)},
          {"best", Round4(r.best)},
          {"chosen", chosen},
          {"trace", trace}};
}

std::string FormatTuneResult(const TuneResult& r) {
  std::string out;
  absl::StrAppendFormat(&out,
                        "whoknows eval %s --validate: %d validation cases (training period only)\n"
                        "objective: pooled whoknows %s, %.4f with the current defaults -> %.4f\n"
                        "chosen:\n",
                        EvalTaskName(r.task), r.n, r.objective_name, r.baseline, r.best);
  for (const auto& [k, v] : r.chosen) absl::StrAppendFormat(&out, "  %-16s %g\n", k, v);
  return out;
}

absl::Status ForEachReplaySet(EvalTask task, const std::vector<std::string>& paths, const EvalOptions& o,
                              bool validation, const std::function<absl::Status(const ReplaySet&)>& fn) {
  if (task == EvalTask::kConnect) return absl::InvalidArgumentError("replays are for routing and replies");
  WK_RETURN_IF_ERROR(CheckOptions(paths, o));
  for (const std::string& path : paths) {
    WK_ASSIGN_OR_RETURN(std::unique_ptr<Prepared> prep, LoadPrepared(task, path, o, validation, false, nullptr));
    ReplaySet set;
    set.path = path;
    set.snapshot = prep->snap_.get();
    set.split_time = prep->split_;
    set.records = prep->records_;
    set.train_records = prep->train_;
    set.test_records = prep->test_;
    set.candidates = prep->candidates_;
    set.model = prep->model_;
    set.ranker = prep->model_note_;
    for (const Case& c : prep->cases_) {
      set.cases.push_back({c.key, c.now, &c.hits, &c.exclude, &c.truth, &c.asker, &c.responders, &c.responder_time});
    }
    WK_RETURN_IF_ERROR(fn(set));
  }
  return absl::OkStatus();
}

}  // namespace whoknows::service

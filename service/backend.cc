#include "whoknows/service/backend.h"

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <atomic>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "whoknows/base/log.h"
#include "whoknows/base/status_macros.h"
#include "whoknows/engine/connect.h"
#include "whoknows/engine/delta.h"
#include "whoknows/engine/person_activity.h"
#include "whoknows/engine/rank.h"
#include "whoknows/engine/snapshot.h"
#include "whoknows/engine/topic_strength.h"
#include "whoknows/routing/experts.h"
#include "whoknows/routing/store.h"
#include "whoknows/ranker/ranker.h"
#include "whoknows/service/connect_training.h"

namespace whoknows::service {
namespace {

constexpr size_t kMaxK = 1000;
constexpr size_t kMaxIdleReaders = 16;  // each holds file handles and caches

// An immutable view: the engine snapshot and the documents it was built from.
struct State {
  std::shared_ptr<const engine::Snapshot> snapshot;
  // The documents it was built from, in parts: each ingest adds a part with
  // its new documents and shares the older parts with the previous State (no
  // copy of every document per ingest). Few parts: small ones are merged.
  std::vector<std::shared_ptr<const std::vector<indexer::StoredDoc>>> doc_parts;
  uint64_t revision = 0;
  int64_t built_at = 0;  // epoch seconds
  // The delta (engine/delta.h): documents ingested after `snapshot` was built
  // (docid > base_last_docid), in docid order, and a small snapshot of them
  // alone that FindExperts consults besides the base; null when there are
  // none. Folded into a new base by a background thread (LocalBackend::FoldLocked).
  uint32_t base_last_docid = 0;
  std::shared_ptr<const std::vector<indexer::StoredDoc>> delta_docs;
  std::shared_ptr<const engine::Snapshot> delta;
  uint64_t delta_new_persons = 0;  // delta persons the base does not know
  // The ranker stored in the index at `revision` and its metadata value.
  std::shared_ptr<const ranker::Ranker> ranker;
  std::string ranker_value;
  // SuggestConnections answers without `about`, per (person, k, group mask):
  // they depend only on this snapshot, so the cache lives and dies with it
  // (every ingest swaps in a new State: invalidation for free). Bounded: cleared
  // when full.
  mutable std::mutex connect_mu;
  mutable absl::flat_hash_map<std::string, std::vector<ConnectionResult>> connect_cache;
  // FindExperts answers per request (ExpertsCacheKey), the same way; bounded
  // by their approximate size (ExpertsAnswerBytes), cleared when full.
  mutable std::mutex experts_mu;
  mutable absl::flat_hash_map<std::string, ExpertsAnswer> experts_cache;
  mutable size_t experts_cache_bytes = 0;
  // Per-person activity counts for the ranking (engine/person_activity.h),
  // built by the first FindExperts on this snapshot; calls that arrive while
  // it is being built rank without it (same answers, slower), so a swap never
  // stalls the callers.
  mutable std::mutex activity_mu;
  mutable std::shared_ptr<const engine::PersonActivity> activity;
  mutable bool activity_building = false;
  // The learned connect ranking stored with the index (service/connect_training.h; null: the
  // hand-tuned one) and the snapshot's interaction graph it reads, built on first use.
  std::shared_ptr<const engine::ConnectModel> connect_model;
  size_t connect_model_hash = 0;
  mutable std::once_flag interactions_once;
  mutable std::shared_ptr<const engine::InteractionGraph> interactions;
  // ranker::CollectHistory(*snapshot).size() once known (under write_mu_): computed by the fold off
  // the ingest path and carried over while the base stays, so an Ingest does not scan the corpus.
  mutable std::optional<size_t> history_queries;
};

std::shared_ptr<const engine::PersonActivity> ActivityOf(const State& state) {
  {
    std::lock_guard<std::mutex> lock(state.activity_mu);
    if (state.activity != nullptr || state.activity_building) return state.activity;
    state.activity_building = true;
  }
  std::shared_ptr<const engine::PersonActivity> a = engine::PersonActivity::Build(*state.snapshot);
  std::lock_guard<std::mutex> lock(state.activity_mu);
  state.activity = a;
  return a;
}

constexpr size_t kMaxCachedConnectAnswers = 4096;  // ~5 KB each at k=10: ~20 MB at most
constexpr size_t kMaxCachedExpertsBytes = size_t{64} << 20;  // ~15-20 KB per answer at k=10

// Every input of a FindExperts answer besides the snapshot: the request, the
// caller's groups (as the search filter sees them and as the snapshot's mask)
// and who is away now (length-prefixed, so no two requests share a key).
std::string ExpertsCacheKey(const ExpertsQuery& q, const std::vector<std::string>& groups, engine::GroupBits mask,
                            const std::vector<std::string>& away) {
  std::string key;
  auto add = [&](absl::string_view v) { absl::StrAppend(&key, v.size(), ":", v, ";"); };
  auto add_all = [&](const std::vector<std::string>& vs) {
    absl::StrAppend(&key, vs.size(), "[");
    for (const std::string& v : vs) add(v);
  };
  add(q.text);
  absl::StrAppend(&key, q.k, ",", q.offset, ",", q.from, ",", q.to, ",", static_cast<uint64_t>(mask), ";");
  add_all(q.communities);
  add_all(q.topics);
  add_all(q.exclude);
  add(q.asker);
  absl::StrAppend(&key, q.min_vote_share.has_value() ? absl::StrFormat("%a", *q.min_vote_share) : "-", ",",
                  q.mix_evidence ? 1 : 0, ";");
  add_all(groups);
  add_all(away);
  return key;
}

size_t ExpertsAnswerBytes(const std::string& key, const ExpertsAnswer& a) {
  size_t n = key.size() + a.ranker.size() + sizeof(ExpertsAnswer) + 64;
  for (const ExpertResult& r : a.experts) {
    n += sizeof(ExpertResult) + r.person_id.size() + r.name.size() + r.reason.size() +
         r.components.size() * (sizeof(std::pair<std::string, double>) + 8);
    for (const std::string& t : r.topics) n += sizeof(std::string) + t.size();
    for (const Evidence& e : r.evidence) {
      n += sizeof(Evidence) + e.id.size() + e.title.size() + e.snippet.size() + e.source.size() + e.thread_id.size() +
           e.kind.size() + e.role.size();
    }
  }
  return n;
}

std::string FirstLine(const std::string& text, size_t max) {
  size_t start = text.find_first_not_of(" \t\r\n");
  if (start == std::string::npos) return "";
  size_t end = text.find('\n', start);
  std::string line = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
  if (line.size() > max) {
    size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
    line = line.substr(0, cut) + "…";
  }
  return line;
}

}  // namespace

absl::Status CheckQuerySize(std::string_view what, std::string_view text) {
  if (text.size() <= kMaxQueryBytes) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrFormat("%s is %d bytes; the limit is %d bytes (64 KiB)", what,
                                                    text.size(), kMaxQueryBytes));
}

namespace {

// The index's spellings (T terms) of each topic in `topics`, for a search
// filter; a name the snapshot does not know is kept as given (it may be in
// documents newer than the snapshot).
std::vector<std::string> TopicSpellings(const engine::Snapshot& snap, const std::vector<std::string>& topics) {
  std::vector<std::string> out;
  for (const std::string& name : topics) {
    const uint32_t t = snap.FindTopic(name);
    if (t == engine::kNone) {
      out.push_back(name);
      continue;
    }
    for (const std::string& sp : snap.TopicSpellings(t)) out.push_back(sp);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

class LocalBackend final : public Backend {
 public:
  LocalBackend(std::string dir, const BackendOptions& options) : dir_(std::move(dir)), options_(options) {}

  ~LocalBackend() override {
    if (fold_thread_.joinable()) {
      {
        std::lock_guard<std::mutex> lock(fold_cv_mu_);
        stop_fold_ = true;
      }
      fold_cv_.notify_all();
      fold_thread_.join();
    }
    stop_training_ = true;
    if (train_thread_.joinable()) train_thread_.join();
    if (trim_thread_.joinable()) trim_thread_.join();
    if (follow_thread_.joinable()) {
      {
        std::lock_guard<std::mutex> lock(follow_mu_);
        stop_follow_ = true;
      }
      follow_cv_.notify_all();
      follow_thread_.join();
    }
  }

  absl::Status Init() {
    if (options_.writable) {
      if (!options_.shards.empty()) options_.index.shard_locations = options_.shards;
      WK_ASSIGN_OR_RETURN(writer_, indexer::IndexWriter::Open(dir_, options_.index));
      WK_RETURN_IF_ERROR(writer_->Commit());  // make sure the database exists on disk
    }
    WK_RETURN_IF_ERROR(Refresh());
    {
      ReaderLease reader(this);
      WK_RETURN_IF_ERROR(reader.status());
      WK_RETURN_IF_ERROR(routing_.Load(reader.get()));
    }
    if (options_.follow_seconds > 0) follow_thread_ = std::thread([this] { Follow(); });
    if (writer_ != nullptr && options_.merge_in_background) fold_thread_ = std::thread([this] { FoldLoop(); });
    if (writer_ != nullptr && options_.train_ranker) {
      std::lock_guard<std::mutex> lock(write_mu_);
      MaybeTrainLocked();
    }
    return absl::OkStatus();
  }

  absl::StatusOr<ExpertsAnswer> FindExperts(const ExpertsQuery& q, const Caller& caller) override {
    WK_RETURN_IF_ERROR(CheckQuerySize("query text", q.text));
    if (q.k == 0 || q.k > kMaxK) return absl::InvalidArgumentError(absl::StrFormat("k must be 1..%d", kMaxK));
    if (q.min_vote_share.has_value() && !(*q.min_vote_share >= 0 && *q.min_vote_share <= 1)) {
      return absl::InvalidArgumentError("min_vote_share must be in [0, 1]");
    }
    std::shared_ptr<const State> state = Current();
    const bool balance = q.balance.value_or(options_.balance_by_default);
    const int64_t now = absl::ToUnixSeconds(absl::Now());
    std::vector<std::string> away = routing_.model().Away(now);
    // Balanced answers depend on the routing load, which every answer changes: never reused. Nor
    // over remote shards: a shard that is down must give UNAVAILABLE, not an earlier answer.
    const std::string key = options_.experts_cache && !balance && !RemoteShards()
                                ? ExpertsCacheKey(q, caller.groups, Mask(*state->snapshot, caller), away)
                                : std::string();
    if (!key.empty()) {
      std::lock_guard<std::mutex> lock(state->experts_mu);
      auto it = state->experts_cache.find(key);
      if (it != state->experts_cache.end()) return it->second;
    }
    WK_ASSIGN_OR_RETURN(ExpertsAnswer answer, FindExpertsUncached(q, caller, *state, balance, now, std::move(away)));
    if (!key.empty()) {
      const size_t bytes = ExpertsAnswerBytes(key, answer);
      std::lock_guard<std::mutex> lock(state->experts_mu);
      if (state->experts_cache_bytes + bytes > kMaxCachedExpertsBytes) {
        state->experts_cache.clear();
        state->experts_cache_bytes = 0;
      }
      if (state->experts_cache.emplace(key, answer).second) state->experts_cache_bytes += bytes;
    }
    return answer;
  }

  bool RemoteShards() const {
    return std::any_of(options_.shards.begin(), options_.shards.end(),
                       [](const std::string& s) { return s.rfind("tcp://", 0) == 0; });
  }

  absl::StatusOr<ExpertsAnswer> FindExpertsUncached(const ExpertsQuery& q, const Caller& caller, const State& st,
                                                    bool balance, int64_t now, std::vector<std::string> away) {
    const State* state = &st;
    ReaderLease reader(this);
    WK_RETURN_IF_ERROR(reader.status());
    indexer::SearchFilter filter;
    filter.visibility = caller.groups;
    filter.communities = q.communities;
    // Every spelling the index holds of each topic asked for (one vocabulary:
    // --topic "neural network" matches the tag neural-networks).
    filter.topics = TopicSpellings(*state->snapshot, q.topics);
    filter.from = q.from;
    filter.to = q.to;
    WK_ASSIGN_OR_RETURN(std::vector<indexer::SearchHit> hits, reader->Search(q.text, filter, options_.retrieve_n));
    ExpertsAnswer answer;
    answer.documents_matched = hits.size();
    if (hits.empty()) return answer;
    // Balance settings by the question's source type (what most of its matches are; routing/experts.h).
    const routing::QuestionSource source =
        balance ? routing::QuestionSourceOf(*state->snapshot, hits) : routing::QuestionSource::kOther;
    // Hits on documents ingested since the base snapshot are voted on the delta.
    std::vector<indexer::SearchHit> delta_hits;
    if (state->delta != nullptr) {
      auto is_delta = [&](const indexer::SearchHit& h) { return h.docid > state->base_last_docid; };
      std::copy_if(hits.begin(), hits.end(), std::back_inserter(delta_hits), is_delta);
      hits.erase(std::remove_if(hits.begin(), hits.end(), is_delta), hits.end());
    }
    engine::AskOptions opt;
    opt.k = balance ? routing::BalanceDepth(q.offset, q.k, options_.balance) : q.k + 1;
    opt.offset = balance ? 0 : q.offset;
    opt.group_mask = Mask(*state->snapshot, caller);
    opt.activity = ActivityOf(*state);
    opt.topics = q.topics;
    opt.from = q.from;
    opt.to = q.to;
    for (const std::string& e : q.exclude) {
      auto p = reader->ResolvePerson(e);
      opt.exclude_persons.push_back(p.ok() ? *p : e);
    }
    for (std::string& a : away) opt.exclude_persons.push_back(std::move(a));
    if (!q.asker.empty()) {
      auto p = reader->ResolvePerson(q.asker);
      opt.asker = p.ok() ? *p : q.asker;  // unknown: no neighbourhood, not an error
    }
    if (q.min_vote_share.has_value()) opt.min_vote_share = *q.min_vote_share;
    opt.evidence_first = !q.mix_evidence;
    // The model of the community most matches are in (null: the hand-tuned blend).
    const std::string community =
        state->ranker->by_community.empty() ? std::string() : ranker::QuestionCommunity(*state->snapshot, hits);
    opt.model = state->ranker->ModelFor(community);
    if (options_.experts_r_max > 0) opt.ppr.r_max = options_.experts_r_max;
    answer.ranker = state->ranker->DescribeFor(community);
    std::vector<engine::Expert> experts;
    if (delta_hits.empty()) {
      WK_ASSIGN_OR_RETURN(experts, engine::RankExperts(*state->snapshot, hits, opt));
    } else {
      WK_ASSIGN_OR_RETURN(experts, RankWithDelta(*state, hits, delta_hits, opt, caller));
    }
    if (balance) {
      WK_RETURN_IF_ERROR(
          routing::BalanceExperts(&experts, routing_.model(), now, options_.balance, state->snapshot.get(), source));
      experts.erase(experts.begin(), experts.begin() + static_cast<std::ptrdiff_t>(std::min(q.offset, experts.size())));
    }
    if (experts.size() > q.k) {
      answer.has_more = true;
      experts.resize(q.k);
    }
    // The evidence documents of all experts, read at once (IndexReader::GetDocs).
    std::vector<uint32_t> evidence_ids;
    for (const engine::Expert& e : experts) {
      for (const engine::Evidence& ev : e.evidence) evidence_ids.push_back(ev.docid);
    }
    std::vector<absl::StatusOr<indexer::DocText>> evidence_docs = reader->GetDocs(evidence_ids);
    size_t next_doc = 0;
    for (engine::Expert& e : experts) {
      ExpertResult r;
      r.person_id = e.id;
      r.name = e.name;
      r.score = e.score;
      r.components = std::move(e.components);
      r.topics = std::move(e.topics);
      r.last_active = e.last_active;
      r.reason = absl::StrCat(e.reason, state->ranker->learned() ? "; ranked by the learned model"
                                                                  : "; ranked by the hand-tuned blend");
      for (const engine::Evidence& ev : e.evidence) {
        const absl::StatusOr<indexer::DocText>& doc = evidence_docs[next_doc++];
        if (!doc.ok()) continue;
        r.evidence.push_back(MakeEvidence(*doc, reader.get(), q.text, ev.contribution, ev.role));
      }
      answer.experts.push_back(std::move(r));
    }
    return answer;
  }

  absl::StatusOr<std::vector<ConnectionResult>> SuggestConnections(const ConnectQuery& q, const Caller& caller) override {
    if (q.k == 0 || q.k > kMaxK) return absl::InvalidArgumentError(absl::StrFormat("k must be 1..%d", kMaxK));
    WK_RETURN_IF_ERROR(CheckQuerySize("about text", q.about));
    if (q.person.empty()) return absl::InvalidArgumentError("person is required");
    std::shared_ptr<const State> state = Current();
    ReaderLease reader(this);
    WK_RETURN_IF_ERROR(reader.status());
    WK_ASSIGN_OR_RETURN(std::string person, reader->ResolvePerson(q.person));
    std::vector<indexer::SearchHit> hits;
    if (!q.about.empty()) {
      indexer::SearchFilter filter;
      filter.visibility = caller.groups;
      WK_ASSIGN_OR_RETURN(hits, reader->Search(q.about, filter, options_.retrieve_n));
    }
    engine::ConnectOptions opt;
    opt.k = q.k;
    if (options_.connect_r_max > 0) opt.ppr.r_max = options_.connect_r_max;
    opt.group_mask = Mask(*state->snapshot, caller);
    if (state->connect_model != nullptr) {
      std::call_once(state->interactions_once,
                     [&] { state->interactions = engine::InteractionGraph::Build(*state->snapshot); });
      opt.model = state->connect_model;
      opt.interactions = state->interactions;
    }
    const std::string key = q.about.empty() && options_.connect_cache
                                ? absl::StrFormat("%s|%d|%d", person, q.k, static_cast<uint64_t>(opt.group_mask))
                                : std::string();
    if (!key.empty()) {
      std::lock_guard<std::mutex> lock(state->connect_mu);
      auto it = state->connect_cache.find(key);
      if (it != state->connect_cache.end()) return it->second;
    }
    WK_ASSIGN_OR_RETURN(std::vector<engine::Connection> conns,
                        engine::SuggestConnections(*state->snapshot, person, hits, opt));
    std::vector<ConnectionResult> out;
    for (engine::Connection& c : conns) {
      out.push_back({c.id, c.name, c.score, std::move(c.mutual_contacts), std::move(c.shared_topics),
                     std::move(c.communities_bridged), std::move(c.reason)});
    }
    if (!key.empty()) {
      std::lock_guard<std::mutex> lock(state->connect_mu);
      if (state->connect_cache.size() >= kMaxCachedConnectAnswers) state->connect_cache.clear();
      state->connect_cache.emplace(key, out);
    }
    return out;
  }

  absl::StatusOr<ProfileResult> GetPerson(const std::string& person, const Caller& caller) override {
    std::shared_ptr<const State> state = Current();
    const engine::Snapshot& snap = *state->snapshot;
    ReaderLease reader(this);
    WK_RETURN_IF_ERROR(reader.status());
    WK_ASSIGN_OR_RETURN(std::string id, reader->ResolvePerson(person));
    uint32_t p = snap.FindPerson(id);
    if (p == engine::kNone) return absl::NotFoundError(absl::StrFormat("unknown person %s", person));
    const engine::GroupBits mask = Mask(snap, caller);
    ProfileResult r;
    r.person_id = id;
    r.name = snap.person(p).name;
    r.opted_out = snap.person(p).opted_out;
    std::map<int, uint64_t> years;
    std::vector<uint32_t> visible;
    for (uint32_t d : snap.PersonDocs(p)) {
      if (!snap.DocVisible(d, mask)) continue;
      visible.push_back(d);
      const engine::DocInfo& di = snap.doc(d);
      if (r.first_active == 0 || di.timestamp < r.first_active) r.first_active = di.timestamp;
      r.last_active = std::max(r.last_active, di.timestamp);
      ++years[absl::ToCivilYear(absl::FromUnixSeconds(di.timestamp), absl::UTCTimeZone()).year()];
    }
    if (visible.empty() && !caller.groups.empty()) {
      // Known only from documents the caller may not see: as if unknown.
      return absl::NotFoundError(absl::StrFormat("unknown person %s", person));
    }
    r.documents = visible.size();
    // Only identity keys when the caller sees everything; otherwise the id.
    if (caller.groups.empty()) {
      auto persons = reader->ListPersons();
      if (persons.ok()) {
        for (const indexer::Person& pp : *persons) {
          if (pp.id == id) r.aliases = pp.keys;
        }
      }
    }
    for (const auto& [y, n] : years) r.activity_by_year.emplace_back(y, n);
    // Topics by person-topic strength (engine/topic_strength.h).
    engine::TopicStrengthOptions so;
    so.group_mask = mask;
    for (const engine::PersonTopicStrength& e : engine::PersonTopicStrengths(snap, p, so)) {
      if (r.topics.size() >= 15) break;
      TopicStrength x;
      x.topic = snap.topic_name(e.topic);
      x.strength = e.strength;
      x.documents = e.docs;
      x.share = static_cast<double>(e.docs) / static_cast<double>(visible.size());
      for (size_t role = 0; role < engine::kNumTopicRoles; ++role) {
        if (e.by_role[role] > 0) {
          x.by_role.emplace_back(engine::TopicRoleName(static_cast<engine::TopicRole>(role)), e.by_role[role]);
        }
      }
      x.first_active = e.first_active;
      x.last_active = e.last_active;
      x.recent = e.recent;
      x.previous = e.previous;
      x.trend = std::string(engine::TopicTrendName(e.trend));
      r.topics.push_back(std::move(x));
    }
    // Top documents: accepted answers, then score, then recency.
    std::sort(visible.begin(), visible.end(), [&](uint32_t a, uint32_t b) {
      const engine::DocInfo &x = snap.doc(a), &y = snap.doc(b);
      if (x.accepted != y.accepted) return x.accepted;
      if (x.score != y.score) return x.score > y.score;
      return x.timestamp > y.timestamp;
    });
    for (size_t i = 0; i < visible.size() && r.top_documents.size() < 5; ++i) {
      auto doc = reader->GetDoc(snap.doc(visible[i]).docid);
      if (doc.ok()) r.top_documents.push_back(MakeEvidence(*doc, reader.get(), "", 0, "author"));
    }
    const engine::Graph& contacts = snap.contacts();
    std::vector<std::pair<std::string, uint64_t>> cs;
    std::vector<const engine::PersonInfo*> who;
    absl::flat_hash_map<std::string, int> name_count;
    for (engine::EdgeIndex e = contacts.row_begin(p); e < contacts.row_end(p); ++e) {
      if ((contacts.mask(e) & mask) == 0) continue;
      uint32_t other = contacts.target(e);
      const engine::PersonInfo& oi = snap.person(other);
      cs.emplace_back(oi.name.empty() ? oi.id : oi.name, static_cast<uint64_t>(contacts.weight(e)));
      who.push_back(&oi);
      ++name_count[cs.back().first];
    }
    // Two different persons with one name (not merged: other sources, or
    // evidence against it) are told apart by their ids.
    for (size_t i = 0; i < cs.size(); ++i) {
      if (name_count[cs[i].first] > 1 && cs[i].first != who[i]->id) {
        cs[i].first = absl::StrFormat("%s (%s)", cs[i].first, who[i]->id);
      }
    }
    std::sort(cs.begin(), cs.end(), [](const auto& a, const auto& b) { return a.second != b.second ? a.second > b.second : a.first < b.first; });
    if (cs.size() > 10) cs.resize(10);
    r.contacts = std::move(cs);
    return r;
  }

  absl::StatusOr<std::vector<TopicResult>> ListTopics(size_t limit, const Caller& caller) override {
    TopicsQuery q;
    q.limit = limit;
    return FindTopics(q, caller);
  }

  // Topics by visible documents (or the ones asked for, any spelling), with a
  // trend over two periods ending at the newest document, and their strongest
  // people by person-topic strength (engine/topic_strength.h).
  absl::StatusOr<std::vector<TopicResult>> FindTopics(const TopicsQuery& q, const Caller& caller) override {
    if (q.period_days == 0) return absl::InvalidArgumentError("period_days must be at least 1");
    std::shared_ptr<const State> state = Current();
    const engine::Snapshot& snap = *state->snapshot;
    const engine::GroupBits mask = Mask(snap, caller);
    const int64_t end = snap.max_timestamp();
    const int64_t period = static_cast<int64_t>(q.period_days) * 86400;
    std::vector<uint64_t> count(snap.num_topics()), recent(snap.num_topics()), before(snap.num_topics());
    for (uint32_t d = 0; d < snap.num_docs(); ++d) {
      if (!snap.DocVisible(d, mask)) continue;
      const engine::DocInfo& di = snap.doc(d);
      for (uint32_t t : snap.DocTopics(d)) {
        ++count[t];
        if (di.timestamp > end - period) {
          ++recent[t];
        } else if (di.timestamp > end - 2 * period) {
          ++before[t];
        }
      }
    }
    std::vector<uint32_t> order;
    if (!q.topics.empty()) {
      for (const std::string& name : q.topics) {
        const uint32_t t = snap.FindTopic(name);
        if (t != engine::kNone && count[t] > 0 && std::find(order.begin(), order.end(), t) == order.end()) {
          order.push_back(t);
        }
      }
    } else {
      for (uint32_t t = 0; t < snap.num_topics(); ++t) {
        if (count[t] > 0) order.push_back(t);
      }
      std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
        return count[a] != count[b] ? count[a] > count[b] : snap.topic_name(a) < snap.topic_name(b);
      });
    }
    if (q.limit > 0 && order.size() > q.limit) order.resize(q.limit);
    std::vector<TopicResult> out;
    absl::flat_hash_map<uint32_t, size_t> slot;
    for (uint32_t t : order) {
      slot[t] = out.size();
      TopicResult r;
      r.topic = snap.topic_name(t);
      r.documents = count[t];
      r.recent = recent[t];
      r.previous = before[t];
      r.trend = static_cast<double>(recent[t] + 1) / static_cast<double>(before[t] + 1);
      r.direction = std::string(engine::TopicTrendName(engine::TrendOf(static_cast<uint32_t>(recent[t]),
                                                                         static_cast<uint32_t>(before[t]))));
      for (const std::string& sp : snap.TopicSpellings(t)) r.spellings.push_back(sp);
      out.push_back(std::move(r));
    }
    engine::TopicStrengthOptions so;
    so.group_mask = mask;
    // Sorted by topic, strongest person first.
    for (const engine::TopicPersonStrength& e : engine::AllTopicStrengths(snap, so)) {
      auto it = slot.find(e.topic);
      if (it == slot.end() || out[it->second].top_people.size() >= 3) continue;
      const engine::PersonInfo& pi = snap.person(e.person);
      out[it->second].top_people.emplace_back(pi.name.empty() ? pi.id : pi.name, e.strength);
    }
    return out;
  }

  absl::StatusOr<indexer::IndexStats> GetStats() override {
    std::shared_ptr<const State> state = Current();
    ReaderLease reader(this);
    WK_RETURN_IF_ERROR(reader.status());
    WK_ASSIGN_OR_RETURN(indexer::IndexStats st, reader->Stats());
    st.shards = static_cast<uint32_t>(reader->shard_count());
    st.snapshot_revision = state->revision;
    st.index_revision = reader->revision();
    st.snapshot_time = state->built_at;
    st.ranker = state->ranker->Describe();
    std::lock_guard<std::mutex> lock(follow_mu_);
    if (behind_since_ != std::chrono::steady_clock::time_point()) {
      st.lag_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - behind_since_).count();
    }
    return st;
  }

  absl::StatusOr<IngestCounts> Ingest(std::vector<indexer::Record> records,
                                      std::vector<std::pair<std::string, std::string>> bad) override {
    if (writer_ == nullptr) return absl::FailedPreconditionError("this backend is read-only");
    std::lock_guard<std::mutex> lock(write_mu_);
    const indexer::IndexSummary before = writer_->summary();
    for (const auto& b : bad) writer_->CountBad(b.first);
    for (indexer::Record& r : records) WK_RETURN_IF_ERROR(writer_->Add(std::move(r)));
    WK_RETURN_IF_ERROR(writer_->Commit());
    const indexer::IndexSummary& after = writer_->summary();
    IngestCounts c;
    c.received = records.size() + bad.size();
    c.indexed = after.indexed - before.indexed;
    c.duplicates = after.duplicates - before.duplicates;
    c.skipped = after.skipped - before.skipped;
    std::map<std::string, uint64_t> reasons;
    for (const auto& b : bad) ++reasons[b.first];
    c.skipped_by_reason.assign(reasons.begin(), reasons.end());
    WK_RETURN_IF_ERROR(RefreshLocked(/*full=*/false));
    if (options_.train_ranker) MaybeTrainLocked();
    return c;
  }

  absl::StatusOr<RankerTraining> TrainRanker(bool force) override {
    if (writer_ == nullptr) return absl::FailedPreconditionError("this backend is read-only");
    std::shared_ptr<const State> state = Current();
    RankerTraining t;
    t.history_now = ranker::CollectHistory(*state->snapshot, options_.ranker.history).size();
    if (force || ranker::NeedsTraining(*state->ranker, t.history_now, options_.ranker)) {
      const auto t0 = std::chrono::steady_clock::now();
      WK_ASSIGN_OR_RETURN(std::unique_ptr<indexer::IndexReader> reader, OpenReader());
      WK_ASSIGN_OR_RETURN(ranker::Ranker r, ranker::Train(reader.get(), *state->snapshot, options_.ranker));
      std::lock_guard<std::mutex> lock(write_mu_);
      WK_RETURN_IF_ERROR(StoreRankerLocked(std::move(r)));
      t.trained = true;
      t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    state = Current();
    t.ranker = state->ranker->Describe();
    t.learned = state->ranker->learned();
    t.feature_seconds = state->ranker->feature_seconds;
    t.train_seconds = state->ranker->train_seconds;
    return t;
  }

  absl::Status OptOut(const std::string& person, bool opted_out) override {
    if (writer_ == nullptr) return absl::FailedPreconditionError("this backend is read-only");
    std::lock_guard<std::mutex> lock(write_mu_);
    std::string id;
    {
      ReaderLease reader(this);
      WK_RETURN_IF_ERROR(reader.status());
      WK_ASSIGN_OR_RETURN(id, reader->ResolvePerson(person));
    }
    WK_RETURN_IF_ERROR(writer_->SetOptOut(id, opted_out));
    return RefreshLocked(/*full=*/true);
  }

  absl::StatusOr<uint64_t> Erase(const std::string& person) override {
    if (writer_ == nullptr) return absl::FailedPreconditionError("this backend is read-only");
    std::lock_guard<std::mutex> lock(write_mu_);
    std::string id;
    {
      ReaderLease reader(this);
      WK_RETURN_IF_ERROR(reader.status());
      WK_ASSIGN_OR_RETURN(id, reader->ResolvePerson(person));
    }
    WK_ASSIGN_OR_RETURN(uint64_t n, writer_->ErasePerson(id));  // also removes the routing log entries
    routing_.ErasePerson(id);
    WK_RETURN_IF_ERROR(RefreshLocked(/*full=*/true));
    return n;
  }

  absl::StatusOr<std::string> RecordRouting(const RoutingRecord& r, const Caller& caller) override {
    if (writer_ == nullptr) return absl::FailedPreconditionError("this backend is read-only");
    if (r.question_id.empty() && r.question_text.empty()) {
      return absl::InvalidArgumentError("a question id or text is required");
    }
    if (r.question_id.size() > 1024) return absl::InvalidArgumentError("question id over 1 KiB");
    if (r.people.empty() || r.people.size() > 100) return absl::InvalidArgumentError("1..100 people required");
    routing::RoutingEntry e;
    e.question = r.question_id.empty() ? routing::QuestionHash(r.question_text) : r.question_id;
    e.visibility = r.visibility.empty() ? "internal" : r.visibility;
    WK_RETURN_IF_ERROR(CheckGroup(caller, e.visibility));
    e.recorded_by = caller.name;
    e.time = r.time != 0 ? r.time : absl::ToUnixSeconds(absl::Now());
    std::lock_guard<std::mutex> lock(write_mu_);
    std::vector<std::string> ids;
    {
      ReaderLease reader(this);
      WK_RETURN_IF_ERROR(reader.status());
      for (const std::string& p : r.people) {
        WK_ASSIGN_OR_RETURN(std::string id, reader->ResolvePerson(p));
        if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(std::move(id));
      }
    }
    return routing_.Record(writer_.get(), std::move(e), ids);
  }

  absl::Status RecordOutcome(const std::string& routing_id, const std::string& person, routing::Outcome outcome,
                             int64_t time, const Caller& caller) override {
    if (writer_ == nullptr) return absl::FailedPreconditionError("this backend is read-only");
    std::lock_guard<std::mutex> lock(write_mu_);
    WK_ASSIGN_OR_RETURN(std::string id, ResolveId(person));
    WK_ASSIGN_OR_RETURN(routing::RoutingEntry e, routing_.model().Find(id, routing_id));
    WK_RETURN_IF_ERROR(CheckGroup(caller, e.visibility));
    return routing_.SetOutcome(writer_.get(), id, routing_id, outcome,
                               time != 0 ? time : absl::ToUnixSeconds(absl::Now()));
  }

  absl::Status SetAvailability(const std::string& person, const routing::Availability& a,
                               const Caller& caller) override {
    if (writer_ == nullptr) return absl::FailedPreconditionError("this backend is read-only");
    std::lock_guard<std::mutex> lock(write_mu_);
    WK_ASSIGN_OR_RETURN(std::string id, ResolveId(person));
    if (caller.role != Role::kAdmin) {
      absl::StatusOr<std::string> own = caller.person.empty() ? absl::NotFoundError("") : ResolveId(caller.person);
      if (!own.ok() || *own != id) {
        return absl::PermissionDeniedError(
            absl::StrFormat("caller %s may only set its own availability (or be an admin)", caller.name));
      }
    }
    return routing_.SetAvailability(writer_.get(), id, a);
  }

  absl::StatusOr<std::vector<routing::RoutingEntry>> ListRoutings(const std::string& person, size_t limit,
                                                                  const Caller& caller) override {
    std::string id;
    if (!person.empty()) {
      WK_ASSIGN_OR_RETURN(id, ResolveId(person));
    }
    if (caller.role != Role::kAdmin && caller.role != Role::kService) {
      absl::StatusOr<std::string> own = caller.person.empty() ? absl::NotFoundError("") : ResolveId(caller.person);
      if (!own.ok() || (!id.empty() && *own != id)) {
        return absl::PermissionDeniedError(
            absl::StrFormat("caller %s may only list its own routings (or be service or admin)", caller.name));
      }
      id = *own;
    }
    std::vector<routing::RoutingEntry> all = routing_.model().Entries(id, 0);
    std::vector<routing::RoutingEntry> out;
    for (routing::RoutingEntry& e : all) {
      if (!caller.groups.empty() &&
          std::find(caller.groups.begin(), caller.groups.end(), e.visibility) == caller.groups.end()) {
        continue;  // a question the caller may not see: not even its id
      }
      out.push_back(std::move(e));
      if (limit > 0 && out.size() >= limit) break;
    }
    return out;
  }

  absl::StatusOr<network::CoverageReport> GetTopicCoverage(const network::NetworkOptions& options,
                                                           const Caller& caller) override {
    std::shared_ptr<const State> state = Current();
    network::NetworkOptions o = options;
    o.group_mask = Mask(*state->snapshot, caller);
    return network::ComputeCoverage(*state->snapshot, o);
  }

  absl::StatusOr<network::NetworkReport> GetTalentNetwork(const network::NetworkOptions& options,
                                                          const Caller& caller) override {
    std::shared_ptr<const State> state = Current();
    network::NetworkOptions o = options;
    o.group_mask = Mask(*state->snapshot, caller);
    return network::ComputeNetwork(*state->snapshot, o);
  }

  uint64_t documents() const override {
    std::shared_ptr<const State> s = Current();
    return s->snapshot->num_docs() + (s->delta_docs != nullptr ? s->delta_docs->size() : 0);
  }
  uint64_t persons() const override {
    std::shared_ptr<const State> s = Current();
    return s->snapshot->num_persons() + s->delta_new_persons;
  }

  absl::Status MergeDelta() override {
    std::lock_guard<std::mutex> lock(fold_mu_);
    return FoldLocked();
  }

 private:
  // Checks out a reader at (at least) the current revision; returns it on destruction.
  class ReaderLease {
   public:
    explicit ReaderLease(LocalBackend* b) : b_(b) {
      {
        std::lock_guard<std::mutex> lock(b_->pool_mu_);
        if (!b_->pool_.empty()) {
          reader_ = std::move(b_->pool_.back());
          b_->pool_.pop_back();
        }
      }
      if (reader_ == nullptr) {
        auto r = b_->OpenReader();
        if (!r.ok()) {
          status_ = r.status();
          return;
        }
        reader_ = std::move(*r);
      } else if (reader_->revision() != b_->Current()->revision) {
        status_ = reader_->Reopen();
      }
    }
    ~ReaderLease() {
      if (reader_ == nullptr || !status_.ok()) return;
      std::lock_guard<std::mutex> lock(b_->pool_mu_);
      if (b_->pool_.size() < kMaxIdleReaders) b_->pool_.push_back(std::move(reader_));
    }
    const absl::Status& status() const { return status_; }
    indexer::IndexReader* operator->() { return reader_.get(); }
    indexer::IndexReader* get() { return reader_.get(); }

   private:
    LocalBackend* b_;
    std::unique_ptr<indexer::IndexReader> reader_;
    absl::Status status_;
  };

  absl::StatusOr<std::string> ResolveId(const std::string& person) {
    ReaderLease reader(this);
    WK_RETURN_IF_ERROR(reader.status());
    return reader->ResolvePerson(person);
  }

  static absl::Status CheckGroup(const Caller& caller, const std::string& group) {
    if (caller.groups.empty() || std::find(caller.groups.begin(), caller.groups.end(), group) != caller.groups.end()) {
      return absl::OkStatus();
    }
    return absl::PermissionDeniedError(
        absl::StrFormat("caller %s may not see visibility group %s", caller.name, group));
  }

  std::shared_ptr<const State> Current() const {
    std::shared_lock<std::shared_mutex> lock(state_mu_);
    return state_;
  }

  static engine::GroupBits Mask(const engine::Snapshot& snap, const Caller& caller) {
    return caller.groups.empty() ? engine::kAllGroups : snap.GroupMask(caller.groups);
  }

  Evidence MakeEvidence(const indexer::DocText& doc, indexer::IndexReader* reader, const std::string& query,
                        double score, const std::string& role) {
    Evidence ev;
    ev.id = doc.id;
    ev.title = doc.title.empty() ? FirstLine(doc.text, 100) : doc.title;
    ev.snippet = query.empty() ? FirstLine(doc.text, 200) : reader->Snippet(doc, query, 200);
    ev.source = doc.source;
    ev.thread_id = doc.thread_id;
    ev.kind = std::string(indexer::KindName(doc.kind));
    ev.role = role;
    ev.timestamp = doc.timestamp;
    ev.score = score;
    return ev;
  }

  absl::Status Refresh() {
    std::lock_guard<std::mutex> lock(write_mu_);
    return RefreshLocked(/*full=*/true);
  }

  // Builds a new snapshot from the index and swaps it in. Incremental mode
  // reads only documents added since the last snapshot (ingest appends) and,
  // on a writable server, splices them into a copy of the current snapshot
  // (engine::ExtendSnapshot: equal to a full build; a full build when it
  // refuses). The old state is released and the heap trimmed off the caller's
  // path (a background thread), so an Ingest answers once the new snapshot is
  // in place.
  absl::Status RefreshLocked(bool full) {
    const auto t0 = std::chrono::steady_clock::now();
    if (trim_thread_.joinable()) trim_thread_.join();
    std::shared_ptr<const State> old = Current();
    // A writable single index: the new documents become the delta (no copy of the base).
    if (!full && old != nullptr && writer_ != nullptr && options_.shards.size() <= 1 &&
        old->snapshot->num_docs() >= options_.delta_min_documents) {
      return DeltaRefreshLocked(old);
    }
    WK_ASSIGN_OR_RETURN(std::unique_ptr<indexer::IndexReader> reader, OpenReader());
    std::vector<std::shared_ptr<const std::vector<indexer::StoredDoc>>> parts;
    uint32_t first = 1;
    // Sharded: docids interleave across shards, so new documents are not all
    // after the last one seen; read everything.
    if (reader->shard_count() > 1) full = true;
    if (!full && old != nullptr) {
      parts = old->doc_parts;
      for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
        if (!(*it)->empty()) {
          first = (*it)->back().docid + 1;
          break;
        }
      }
    }
    auto fresh = std::make_shared<std::vector<indexer::StoredDoc>>();
    WK_RETURN_IF_ERROR(reader->ForEachDocument([&](const indexer::StoredDoc& d) { fresh->push_back(d); }, first));
    const std::shared_ptr<const std::vector<indexer::StoredDoc>> added = fresh;
    if (!fresh->empty() || parts.empty()) parts.push_back(std::move(fresh));
    MergeSmallParts(&parts);
    const auto t1 = std::chrono::steady_clock::now();
    WK_ASSIGN_OR_RETURN(std::vector<indexer::Person> persons, reader->ListPersons());
    const auto t2 = std::chrono::steady_clock::now();
    engine::SnapshotOptions snap_options;
    // Derived topics: a tag's spelling is the display form of a merged topic.
    if (auto derived = reader->ListMetadata(indexer::kDerivedTopicMetaPrefix); derived.ok()) {
      for (auto& [key, value] : *derived) snap_options.derived_topics.push_back(key.substr(indexer::kDerivedTopicMetaPrefix.size()));
    }
    // Only a server that ingests extends snapshots (the tables cost ~60 bytes a document).
    snap_options.extendable = writer_ != nullptr;
    std::shared_ptr<const engine::Snapshot> snap;
    const char* how = full ? "full" : "incremental";
    if (!full && old != nullptr && snap_options.extendable) {
      absl::StatusOr<std::shared_ptr<const engine::Snapshot>> extended =
          engine::ExtendSnapshot(*old->snapshot, *added, persons, snap_options);
      if (extended.ok()) {
        snap = *std::move(extended);
        how = "extended";
      } else if (extended.status().code() == absl::StatusCode::kFailedPrecondition) {
        LogInfo("%s", extended.status().message());
      } else {  // a splice that fails otherwise must not keep the ingest from becoming visible
        LogWarning("snapshot: splice failed, full build instead: %s", extended.status().ToString());
      }
    }
    if (snap == nullptr) {
      std::vector<std::span<const indexer::StoredDoc>> spans;
      for (const auto& p : parts) spans.emplace_back(*p);
      WK_ASSIGN_OR_RETURN(snap, engine::BuildSnapshot(spans, persons, snap_options));
    }
    const auto t3 = std::chrono::steady_clock::now();
    auto state = std::make_shared<State>();
    state->snapshot = std::move(snap);
    state->doc_parts = std::move(parts);
    state->base_last_docid = LastDocid(state->doc_parts);
    state->revision = reader->revision();
    state->built_at = absl::ToUnixSeconds(absl::Now());
    WK_RETURN_IF_ERROR(LoadRanker(reader.get(), old.get(), state.get()));
    LoadConnectModelInto(reader.get(), old.get(), state.get());
    {
      std::unique_lock<std::shared_mutex> lock(state_mu_);
      state_ = std::move(state);
    }
    {
      std::lock_guard<std::mutex> lock(pool_mu_);
      pool_.clear();  // idle readers of older revisions; otherwise the pool grows by one per commit
      pool_.push_back(std::move(reader));
    }
    const auto t4 = std::chrono::steady_clock::now();
    const bool first_snapshot = old == nullptr;
    // The old snapshot and document table are freed here unless a query still
    // holds them; hand the freed pages back to the OS, or every rebuild leaves
    // the heap at its two-snapshot peak (bench/RESULTS.md "Scale (issue 13)").
    auto release = [this, old = std::move(old), first_snapshot, how, t0, t1, t2, t3, t4]() mutable {
      old.reset();
      malloc_trim(0);
      if (first_snapshot) return;  // a CLI command's only snapshot: no log line
      const auto t5 = std::chrono::steady_clock::now();
      auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
      LogInfo("snapshot: %s refresh %.0f ms to visible (documents %.0f, persons %.0f, build %.0f, swap %.0f), "
              "then release and trim %.0f ms; %d documents",
              how, ms(t0, t4), ms(t0, t1), ms(t1, t2), ms(t2, t3), ms(t3, t4), ms(t4, t5),
              Current()->snapshot->num_docs());
    };
    if (first_snapshot) {
      release();
    } else {
      trim_thread_ = std::thread(std::move(release));
    }
    return absl::OkStatus();
  }

  static uint32_t LastDocid(const std::vector<std::shared_ptr<const std::vector<indexer::StoredDoc>>>& parts) {
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
      if (!(*it)->empty()) return (*it)->back().docid;
    }
    return 0;
  }

  // FindExperts when some hits are delta documents (engine/delta.h): the base
  // ranks its hits, the delta votes on its own, the two are merged; offset and
  // k apply to the merged list.
  absl::StatusOr<std::vector<engine::Expert>> RankWithDelta(const State& state,
                                                            std::span<const indexer::SearchHit> hits,
                                                            std::span<const indexer::SearchHit> delta_hits,
                                                            engine::AskOptions opt, const Caller& caller) {
    const size_t offset = opt.offset, k = opt.k;
    opt.k = offset + k;
    opt.offset = 0;
    std::vector<engine::Expert> base;
    if (!hits.empty()) {
      WK_ASSIGN_OR_RETURN(base, engine::RankExperts(*state.snapshot, hits, opt));
    }
    engine::AskOptions dopt = opt;
    dopt.model = nullptr;  // votes only: no graph, no learned score
    dopt.activity = nullptr;
    dopt.use_graph = false;
    dopt.k = std::max<size_t>(1, state.delta->num_persons());
    dopt.group_mask = Mask(*state.delta, caller);  // the delta numbers its groups itself
    WK_ASSIGN_OR_RETURN(std::vector<engine::Expert> delta, engine::RankExperts(*state.delta, delta_hits, dopt));
    engine::DeltaMerge m;
    for (const indexer::SearchHit& h : hits) m.base_best = std::max(m.base_best, h.score);
    for (const indexer::SearchHit& h : delta_hits) m.delta_best = std::max(m.delta_best, h.score);
    m.w_vote = opt.w_vote;
    m.max_evidence = opt.max_evidence;
    m.max_topics = opt.max_topics;
    m.evidence_first = opt.evidence_first;
    m.min_vote_share = opt.min_vote_share;
    std::vector<engine::Expert> out = engine::MergeDeltaExperts(std::move(base), std::move(delta), m);
    out.erase(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(std::min(offset, out.size())));
    if (out.size() > k) out.resize(k);
    return out;
  }

  // The delta of `docs` (documents after the base, docid order) over `base`
  // into *state: the identity table's entries of their authors and mentioned
  // people only (looked up one by one), a snapshot of these documents alone.
  static absl::Status BuildDeltaInto(indexer::IndexReader* reader, const engine::Snapshot& base,
                                     std::shared_ptr<const std::vector<indexer::StoredDoc>> docs, State* state,
                                     double* persons_ms = nullptr) {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::string> ids;
    for (const indexer::StoredDoc& d : *docs) {
      if (!d.author.empty()) ids.push_back(d.author);
      for (const std::string& m : d.mentions) {
        if (!m.empty()) ids.push_back(m);
      }
    }
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    WK_ASSIGN_OR_RETURN(std::vector<indexer::Person> persons, reader->GetPersons(ids));
    if (persons_ms != nullptr) {
      *persons_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    }
    WK_ASSIGN_OR_RETURN(state->delta, engine::BuildSnapshot(*docs, persons));
    state->delta_new_persons = 0;
    for (uint32_t p = 0; p < state->delta->num_persons(); ++p) {
      if (base.FindPerson(state->delta->person(p).id) == engine::kNone) ++state->delta_new_persons;
    }
    state->delta_docs = std::move(docs);
    return absl::OkStatus();
  }

  // What a new State over the same index takes over from `old` unchanged by
  // ingest: the ranker and the connect model (their metadata only change
  // through this backend, which swaps in a State of its own then).
  static void CarryOver(const State& old, State* state) {
    state->ranker = old.ranker;
    state->ranker_value = old.ranker_value;
    state->connect_model = old.connect_model;
    state->connect_model_hash = old.connect_model_hash;
    if (state->snapshot == old.snapshot) state->history_queries = old.history_queries;
  }

  // A pooled reader (or a new one) moved to the newest commit. Reopening is
  // cheap: identities are read lazily (indexer/index_reader.cc).
  absl::StatusOr<std::unique_ptr<indexer::IndexReader>> TakeReader() {
    std::unique_ptr<indexer::IndexReader> reader;
    {
      std::lock_guard<std::mutex> lock(pool_mu_);
      if (!pool_.empty()) {
        reader = std::move(pool_.back());
        pool_.pop_back();
      }
    }
    if (reader == nullptr) return OpenReader();
    WK_RETURN_IF_ERROR(reader->Reopen());
    return reader;
  }

  // Ingest's refresh on a writable single index: the base snapshot is kept;
  // the documents added since it (read from the last docid seen on, with
  // their people looked up one by one) make the new delta, and the fold
  // thread is woken. O(documents since the last fold), not O(corpus).
  absl::Status DeltaRefreshLocked(const std::shared_ptr<const State>& old) {
    const auto t0 = std::chrono::steady_clock::now();
    WK_ASSIGN_OR_RETURN(std::unique_ptr<indexer::IndexReader> reader, TakeReader());
    auto docs = std::make_shared<std::vector<indexer::StoredDoc>>();
    if (old->delta_docs != nullptr) *docs = *old->delta_docs;
    const uint32_t first = (docs->empty() ? old->base_last_docid : docs->back().docid) + 1;
    WK_RETURN_IF_ERROR(reader->ForEachDocument([&](const indexer::StoredDoc& d) { docs->push_back(d); }, first));
    const auto t1 = std::chrono::steady_clock::now();
    auto state = std::make_shared<State>();
    state->snapshot = old->snapshot;
    state->doc_parts = old->doc_parts;
    state->base_last_docid = old->base_last_docid;
    double persons_ms = 0;
    if (!docs->empty()) WK_RETURN_IF_ERROR(BuildDeltaInto(reader.get(), *old->snapshot, docs, state.get(), &persons_ms));
    const auto t2 = std::chrono::steady_clock::now();
    state->revision = reader->revision();
    state->built_at = absl::ToUnixSeconds(absl::Now());
    CarryOver(*old, state.get());
    {
      std::lock_guard<std::mutex> lock(old->activity_mu);
      state->activity = old->activity;  // the same base
    }
    const size_t delta_docs = docs->size();
    {
      std::unique_lock<std::shared_mutex> lock(state_mu_);
      state_ = std::move(state);
    }
    {
      std::lock_guard<std::mutex> lock(pool_mu_);
      if (pool_.size() < kMaxIdleReaders) pool_.push_back(std::move(reader));
    }
    const auto t3 = std::chrono::steady_clock::now();
    auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
    LogInfo("snapshot: delta refresh %.1f ms to visible (documents %.1f, persons %.1f, build %.1f, swap %.1f); "
            "%d documents in the delta",
            ms(t0, t3), ms(t0, t1), persons_ms, ms(t1, t2) - persons_ms, ms(t2, t3), delta_docs);
    if (delta_docs > 0) {
      {
        std::lock_guard<std::mutex> lock(fold_cv_mu_);
        fold_wanted_ = true;
      }
      fold_cv_.notify_all();
    }
    return absl::OkStatus();
  }

  // Folds the current delta into a new base snapshot (engine::ExtendSnapshot,
  // a full build when it refuses: either way what a fresh server builds) and
  // swaps it in, with the documents ingested meanwhile as the new delta. The
  // heavy part runs without write_mu_ (ingests go on); dropped when a full
  // refresh (erase, opt-out) replaced the base meanwhile. Under fold_mu_.
  absl::Status FoldLocked() {
    std::shared_ptr<const State> cur = Current();
    if (cur->delta_docs == nullptr || cur->delta_docs->empty()) return absl::OkStatus();
    const auto t0 = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point t1, t2, t3;
    const char* how = "extended";
    size_t left = 0;
    bool dropped = false;
    // In a scope of its own: the reader, person table and the like are freed before the heap is trimmed.
    absl::Status st = [&]() -> absl::Status {
      WK_ASSIGN_OR_RETURN(std::unique_ptr<indexer::IndexReader> reader, OpenReader());
      WK_ASSIGN_OR_RETURN(std::vector<indexer::Person> persons, reader->ListPersons());
      engine::SnapshotOptions snap_options;
      if (auto derived = reader->ListMetadata(indexer::kDerivedTopicMetaPrefix); derived.ok()) {
        for (auto& [key, value] : *derived) snap_options.derived_topics.push_back(key.substr(indexer::kDerivedTopicMetaPrefix.size()));
      }
      snap_options.extendable = true;
      t1 = std::chrono::steady_clock::now();
      std::vector<std::shared_ptr<const std::vector<indexer::StoredDoc>>> parts = cur->doc_parts;
      parts.push_back(cur->delta_docs);
      std::shared_ptr<const engine::Snapshot> snap;
      absl::StatusOr<std::shared_ptr<const engine::Snapshot>> extended =
          engine::ExtendSnapshot(*cur->snapshot, *cur->delta_docs, persons, snap_options);
      if (extended.ok()) {
        snap = *std::move(extended);
      } else {
        if (extended.status().code() == absl::StatusCode::kFailedPrecondition) {
          LogInfo("%s", extended.status().message());
        } else {
          LogWarning("snapshot: splice failed, full build instead: %s", extended.status().ToString());
        }
        how = "full";
        std::vector<std::span<const indexer::StoredDoc>> spans;
        for (const auto& p : parts) spans.emplace_back(*p);
        WK_ASSIGN_OR_RETURN(snap, engine::BuildSnapshot(spans, persons, snap_options));
      }
      MergeSmallParts(&parts);
      // Built here, off the query path (the first FindExperts would build it otherwise).
      std::shared_ptr<const engine::PersonActivity> activity = engine::PersonActivity::Build(*snap);
      std::optional<size_t> history;
      if (options_.train_ranker) history = ranker::CollectHistory(*snap, options_.ranker.history).size();
      t2 = std::chrono::steady_clock::now();
      const uint32_t folded_to = cur->delta_docs->back().docid;
      std::lock_guard<std::mutex> lock(write_mu_);
      std::shared_ptr<const State> now = Current();
      if (now->snapshot != cur->snapshot) {
        dropped = true;
        return absl::OkStatus();
      }
      auto state = std::make_shared<State>();
      state->snapshot = snap;
      state->doc_parts = std::move(parts);
      state->base_last_docid = folded_to;
      state->revision = now->revision;
      state->built_at = absl::ToUnixSeconds(absl::Now());
      CarryOver(*now, state.get());
      state->activity = std::move(activity);
      state->history_queries = history;
      if (now->delta_docs != nullptr && !now->delta_docs->empty() && now->delta_docs->back().docid > folded_to) {
        auto rest = std::make_shared<std::vector<indexer::StoredDoc>>();  // ingested meanwhile
        for (const indexer::StoredDoc& d : *now->delta_docs) {
          if (d.docid > folded_to) rest->push_back(d);
        }
        left = rest->size();
        WK_ASSIGN_OR_RETURN(std::unique_ptr<indexer::IndexReader> r, TakeReader());
        WK_RETURN_IF_ERROR(BuildDeltaInto(r.get(), *snap, std::move(rest), state.get()));
        std::lock_guard<std::mutex> plock(pool_mu_);
        if (pool_.size() < kMaxIdleReaders) pool_.push_back(std::move(r));
      }
      std::unique_lock<std::shared_mutex> slock(state_mu_);
      state_ = std::move(state);
      return absl::OkStatus();
    }();
    t3 = std::chrono::steady_clock::now();
    const size_t folded = cur->delta_docs->size();
    cur.reset();  // the old base goes unless a query still holds it
    malloc_trim(0);
    WK_RETURN_IF_ERROR(st);
    if (dropped) {
      LogInfo("snapshot: delta merge dropped (the base was rebuilt meanwhile)");
      return absl::OkStatus();
    }
    const auto t4 = std::chrono::steady_clock::now();
    auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
    LogInfo("snapshot: merged %d delta documents in the background in %.0f ms (persons %.0f, %s build %.0f, "
            "swap %.0f, release and trim %.0f); %d documents, %d left in the delta",
            folded, ms(t0, t4), ms(t0, t1), how, ms(t1, t2), ms(t2, t3), ms(t3, t4), documents(), left);
    return absl::OkStatus();
  }

  void FoldLoop() {
    std::unique_lock<std::mutex> lock(fold_cv_mu_);
    for (;;) {
      fold_cv_.wait(lock, [&] { return fold_wanted_ || stop_fold_; });
      if (stop_fold_) return;
      fold_wanted_ = false;
      lock.unlock();
      {
        std::lock_guard<std::mutex> fold(fold_mu_);
        if (absl::Status s = FoldLocked(); !s.ok()) LogWarning("snapshot: delta merge failed (retried after the next ingest): %s", s.ToString());
      }
      lock.lock();
    }
  }

  // Keeps the number of document parts small (one per ingest otherwise):
  // while the newest part is not larger than the one before, the two become
  // one. Each document is copied O(log n) times over its life, never all of
  // them per ingest.
  static void MergeSmallParts(std::vector<std::shared_ptr<const std::vector<indexer::StoredDoc>>>* parts) {
    while (parts->size() >= 2 && (*parts)[parts->size() - 2]->size() <= parts->back()->size()) {
      auto merged = std::make_shared<std::vector<indexer::StoredDoc>>();
      merged->reserve((*parts)[parts->size() - 2]->size() + parts->back()->size());
      for (size_t i = parts->size() - 2; i < parts->size(); ++i) {
        merged->insert(merged->end(), (*parts)[i]->begin(), (*parts)[i]->end());
      }
      parts->pop_back();
      parts->back() = std::move(merged);
    }
  }

  // The ranker stored in the index, reused from `old` when unchanged. An
  // unreadable one is logged and served as the blend (queries keep working).
  static absl::Status LoadRanker(indexer::IndexReader* reader, const State* old, State* state) {
    WK_ASSIGN_OR_RETURN(state->ranker_value, ranker::StoredValue(reader));
    if (old != nullptr && old->ranker != nullptr && old->ranker_value == state->ranker_value) {
      state->ranker = old->ranker;
      return absl::OkStatus();
    }
    ranker::Ranker r;
    if (state->ranker_value.empty()) {
      r.note = "no model stored";
    } else if (absl::StatusOr<ranker::Ranker> parsed = ranker::Parse(state->ranker_value); parsed.ok()) {
      r = *std::move(parsed);
    } else {
      LogWarning("ranker: %s; serving the hand-tuned blend", parsed.status().ToString());
      r.note = std::string(parsed.status().message());
      r.stale = true;
    }
    state->ranker = std::make_shared<const ranker::Ranker>(std::move(r));
    return absl::OkStatus();
  }

  // Stores `r` in the index and serves it with the current snapshot (no rebuild).
  absl::Status StoreRankerLocked(ranker::Ranker r) {
    WK_RETURN_IF_ERROR(ranker::Store(writer_.get(), r));
    WK_ASSIGN_OR_RETURN(std::unique_ptr<indexer::IndexReader> reader, OpenReader());
    std::shared_ptr<const State> old = Current();
    auto state = std::make_shared<State>();
    state->snapshot = old->snapshot;
    state->doc_parts = old->doc_parts;
    state->base_last_docid = old->base_last_docid;
    state->delta_docs = old->delta_docs;
    state->delta = old->delta;
    state->delta_new_persons = old->delta_new_persons;
    state->built_at = old->built_at;
    state->revision = reader->revision();
    // The same snapshot: what was derived from it (and the connect model) carries over.
    state->connect_model = old->connect_model;
    state->connect_model_hash = old->connect_model_hash;
    state->history_queries = old->history_queries;
    {
      std::lock_guard<std::mutex> activity_lock(old->activity_mu);
      state->activity = old->activity;
    }
    WK_RETURN_IF_ERROR(LoadRanker(reader.get(), nullptr, state.get()));
    {
      std::unique_lock<std::shared_mutex> lock(state_mu_);
      state_ = std::move(state);
    }
    std::lock_guard<std::mutex> lock(pool_mu_);
    pool_.clear();
    pool_.push_back(std::move(reader));
    return absl::OkStatus();
  }

  // The history size of `state`'s snapshot (cached in it). Under write_mu_.
  size_t HistoryLocked(const State& state) {
    if (!state.history_queries) state.history_queries = ranker::CollectHistory(*state.snapshot, options_.ranker.history).size();
    return *state.history_queries;
  }

  // Starts a background training when the history grew enough (one at a
  // time; queries and ingest go on meanwhile). Called under write_mu_.
  // An ingest while a training runs does not start another one; instead the
  // running one, once it has stored its ranker, checks (under write_mu_, so no
  // ingest slips in between) whether the history grew past what it trained on
  // and, if that needs a new ranker, trains again on the current snapshot.
  // `training_` is cleared under write_mu_ too: an ingest either sees the
  // training still running (and is picked up by that check) or starts its own.
  void MaybeTrainLocked() {
    if (training_) return;
    std::shared_ptr<const State> state = Current();
    const size_t history = HistoryLocked(*state);
    if (!ranker::NeedsTraining(*state->ranker, history, options_.ranker)) return;
    if (train_thread_.joinable()) train_thread_.join();  // the previous one has finished
    training_ = true;
    // The snapshot only (not the State with its caches): a fold meanwhile swaps in a new base, and
    // this one stays alive until the training ends (bench/RESULTS.md "Memory after 100 ingests at 1M").
    train_thread_ = std::thread([this, snapshot = state->snapshot, trained_on = history]() mutable {
      for (;;) {
        const auto t0 = std::chrono::steady_clock::now();
        LogInfo("ranker: training started on %d documents (%d history queries)", snapshot->num_docs(), trained_on);
        ranker::RankerOptions o = options_.ranker;
        o.cancelled = [this] { return stop_training_.load(); };
        absl::StatusOr<ranker::Ranker> r = absl::UnknownError("no reader");
        if (auto reader = OpenReader(); reader.ok()) {
          r = ranker::Train(reader->get(), *snapshot, o);
        } else {
          r = reader.status();
        }
        absl::Status st = r.status();
        std::unique_lock<std::mutex> lock(write_mu_);
        std::string what;
        if (st.ok()) {
          what = r->Describe();
          st = StoreRankerLocked(*std::move(r));
        }
        // Every start has one of these (bench/ingest_memory.sh waits for them).
        if (st.ok()) {
          LogInfo("ranker: training finished: %s (%.1f s)", what,
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        } else if (st.code() == absl::StatusCode::kCancelled) {
          LogInfo("ranker: training cancelled");
        } else {
          LogWarning("ranker: training failed: %s", st.ToString());
        }
        if (st.ok() && !stop_training_.load()) {
          // Ingests while this one trained: train again if their history needs it.
          std::shared_ptr<const State> now = Current();
          const size_t history_now = HistoryLocked(*now);
          if (history_now > trained_on && ranker::NeedsTraining(*now->ranker, history_now, options_.ranker)) {
            snapshot = now->snapshot;
            trained_on = history_now;
            continue;  // releases write_mu_ while training
          }
        }
        training_ = false;
        lock.unlock();
        snapshot.reset();  // unless it is still the current base
        malloc_trim(0);    // the training's features and the snapshot, as after a fold
        return;
      }
    });
  }

  // The connect model stored with the index (reused from `old` when unchanged). A model that
  // cannot be read is reported once per change and the hand-tuned ranking is used.
  void LoadConnectModelInto(indexer::IndexReader* reader, const State* old, State* state) {
    absl::StatusOr<std::vector<std::pair<std::string, std::string>>> entries = reader->ListMetadata(kConnectModelKey);
    if (!entries.ok()) return;
    std::string_view bytes;
    for (const auto& [k, v] : *entries) {
      if (k == kConnectModelKey) bytes = v;
    }
    if (bytes.empty()) return;
    state->connect_model_hash = std::hash<std::string_view>{}(bytes);
    if (old != nullptr && old->connect_model_hash == state->connect_model_hash) {
      state->connect_model = old->connect_model;
      return;
    }
    absl::StatusOr<std::shared_ptr<const engine::ConnectModel>> m = engine::ConnectModel::FromBytes(bytes);
    if (m.ok()) {
      state->connect_model = *m;
    } else {
      LogWarning("connect model in the index ignored (hand-tuned ranking used): %s", m.status().message());
    }
  }

  absl::StatusOr<std::unique_ptr<indexer::IndexReader>> OpenReader() const {
    return options_.shards.empty() ? indexer::IndexReader::Open(dir_) : indexer::IndexReader::OpenShards(options_.shards);
  }

  // Replica mode: poll the index for a new revision; rebuild the snapshot
  // when one arrives. Errors (e.g. a shard down, a replication in progress)
  // are logged once per kind and retried on the next tick.
  void Follow() {
    std::unique_ptr<indexer::IndexReader> reader;
    std::string last_error;
    const auto period = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(options_.follow_seconds));
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(follow_mu_);
        if (follow_cv_.wait_for(lock, period, [&] { return stop_follow_; })) return;
      }
      absl::Status s = reader == nullptr ? absl::OkStatus() : reader->Reopen();
      if (reader == nullptr || !s.ok()) {
        auto r = OpenReader();
        s = r.status();
        reader = r.ok() ? *std::move(r) : nullptr;
      }
      if (s.ok() && reader->revision() != Current()->revision) {
        {
          std::lock_guard<std::mutex> lock(follow_mu_);
          if (behind_since_ == std::chrono::steady_clock::time_point()) behind_since_ = std::chrono::steady_clock::now();
        }
        std::lock_guard<std::mutex> lock(write_mu_);
        s = RefreshLocked(/*full=*/true);  // replication may also have deleted documents (erase)
        // The routing log and availability travel in the same index (user
        // metadata): reload them so balance and ListRoutings follow the master.
        if (s.ok()) s = routing_.Load(reader.get());
        if (s.ok()) {
          std::lock_guard<std::mutex> flock(follow_mu_);
          behind_since_ = std::chrono::steady_clock::time_point();
          LogInfo("follow: new snapshot, %d documents, %d persons", documents(), persons());
        }
      }
      if (!s.ok() && std::string(s.message()) != last_error) {
        last_error = std::string(s.message());
        LogWarning("follow: %s (retrying every %.1f s)", s.ToString(), options_.follow_seconds);
      } else if (s.ok()) {
        last_error.clear();
      }
    }
  }

  std::string dir_;
  BackendOptions options_;
  mutable std::mutex follow_mu_;
  std::condition_variable follow_cv_;
  bool stop_follow_ = false;
  std::chrono::steady_clock::time_point behind_since_;  // epoch() = up to date
  std::thread follow_thread_;
  std::unique_ptr<indexer::IndexWriter> writer_;
  std::mutex write_mu_;
  mutable std::shared_mutex state_mu_;
  std::shared_ptr<const State> state_;
  std::mutex pool_mu_;
  std::vector<std::unique_ptr<indexer::IndexReader>> pool_;
  routing::RoutingStore routing_;  // writes under write_mu_
  std::thread train_thread_;       // background ranker training (MaybeTrainLocked)
  std::thread trim_thread_;        // frees the previous snapshot and trims the heap (RefreshLocked)
  // The delta merge (FoldLoop): woken by each ingest; fold_mu_ serialises merges.
  std::mutex fold_mu_;
  std::mutex fold_cv_mu_;
  std::condition_variable fold_cv_;
  bool fold_wanted_ = false, stop_fold_ = false;
  std::thread fold_thread_;
  std::atomic<bool> training_{false}, stop_training_{false};
};

}  // namespace

bool RoleAllows(Role have, Role need) {
  return have == need || have == Role::kAdmin || need == Role::kReader;
}

absl::StatusOr<network::CoverageReport> Backend::GetTopicCoverage(const network::NetworkOptions&, const Caller&) {
  return absl::UnimplementedError("this backend has no talent network");
}

absl::StatusOr<network::NetworkReport> Backend::GetTalentNetwork(const network::NetworkOptions&, const Caller&) {
  return absl::UnimplementedError("this backend has no talent network");
}

absl::StatusOr<std::vector<TopicResult>> Backend::FindTopics(const TopicsQuery& q, const Caller& caller) {
  if (!q.topics.empty() || q.period_days != 90) {
    return absl::UnimplementedError("this backend lists topics only (no lookup, 90-day trend)");
  }
  return ListTopics(q.limit, caller);
}

absl::StatusOr<std::unique_ptr<Backend>> Backend::Open(const std::string& db_dir, const BackendOptions& options) {
  auto b = std::make_unique<LocalBackend>(db_dir, options);
  WK_RETURN_IF_ERROR(b->Init());
  return std::unique_ptr<Backend>(std::move(b));
}

}  // namespace whoknows::service

#include "whoknows/ranker/ranker.h"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "whoknows/base/status_macros.h"
#include "whoknows/base/strings.h"

namespace whoknows::ranker {
namespace {

using engine::kNone;
using indexer::RecordKind;
using json = nlohmann::json;

constexpr int kFormat = 1;

json FeatureList() {
  json f = json::array();
  for (const char* n : engine::FeatureNames()) f.push_back(n);
  return f;
}

}  // namespace

namespace {

// History order: oldest first, ties by doc.
bool Older(const HistoryQuery& a, const HistoryQuery& b) { return a.now != b.now ? a.now < b.now : a.doc < b.doc; }

}  // namespace

std::vector<HistoryQuery> CollectHistory(const engine::Snapshot& s, const HistoryOptions& o) {
  std::vector<HistoryQuery> out;
  // Active strictly before t: a ranking at time t could have named them.
  auto active_before = [&](uint32_t p, int64_t t) {
    return p != kNone && s.person(p).doc_count > 0 && s.person(p).first_active < t;
  };
  for (uint32_t t = 0; t < s.num_threads(); ++t) {
    const uint32_t r = s.ThreadRoot(t);
    const engine::DocInfo& q = s.doc(r);
    if (q.kind == RecordKind::kAnswer || q.kind == RecordKind::kComment) continue;  // a thread without its start
    const bool qa = q.kind == RecordKind::kQuestion;
    HistoryQuery h;
    h.doc = r;
    h.now = q.timestamp;
    h.asker = q.author;
    bool accepted = false;
    for (uint32_t e : s.ThreadDocs(t)) {
      const engine::DocInfo& d = s.doc(e);
      if (e == r || d.author == kNone || d.author == q.author || d.timestamp < q.timestamp) continue;
      uint8_t grade = 0;
      if (qa) {
        if (d.kind != RecordKind::kAnswer) continue;
        grade = d.accepted ? 2 : (o.other_answerers ? 1 : 0);
        accepted |= d.accepted;
      } else {
        grade = 1;
      }
      if (grade == 0 || !active_before(d.author, q.timestamp)) continue;
      auto it = std::find_if(h.truth.begin(), h.truth.end(), [&](const auto& x) { return x.first == d.author; });
      if (it == h.truth.end()) {
        h.truth.emplace_back(d.author, grade);
      } else {
        it->second = std::max(it->second, grade);
      }
    }
    // Q&A: questions with an accepted answer (the asker's own label); with
    // other_answerers every answered question.
    if (h.truth.empty() || (qa && !accepted && !o.other_answerers)) continue;
    if (qa) {
      for (uint32_t tp : s.DocTopics(r)) h.topics.push_back(s.topic_name(tp));
    }
    out.push_back(std::move(h));
  }
  std::sort(out.begin(), out.end(), Older);
  return out;
}

namespace {

// `read` on `reader`; when a commit meanwhile discarded the revision it reads (Xapian's
// DatabaseModifiedError: kAborted), again on the newest revision. A training on a server that
// ingests takes longer than a few commits; the snapshot's documents keep their docids, and hits
// newer than the snapshot are not in it (ignored by the features).
template <typename T, typename Read>
absl::StatusOr<T> ReadRetryingAfterCommits(indexer::IndexReader* reader, Read&& read) {
  for (int attempt = 1;; ++attempt) {
    absl::StatusOr<T> r = read();
    if (r.ok() || r.status().code() != absl::StatusCode::kAborted || attempt == 5) return r;
    WK_RETURN_IF_ERROR(reader->Reopen());
  }
}

}  // namespace

absl::Status SearchHistory(indexer::IndexReader* reader, const engine::Snapshot& s, size_t retrieve_n,
                           size_t max_query_bytes, std::span<HistoryQuery> queries, double subject_weight) {
  const indexer::SearchFilter filter;
  for (HistoryQuery& h : queries) {
    if (h.searched) continue;  // e.g. a community's queries, searched for its own model that fell back
    h.searched = true;
    absl::StatusOr<indexer::DocText> doc =
        ReadRetryingAfterCommits<indexer::DocText>(reader, [&] { return reader->GetDoc(s.doc(h.doc).docid); });
    WK_RETURN_IF_ERROR(doc.status());
    const indexer::DocText& d = *doc;
    const std::string text = TruncateUtf8(d.title.empty() ? d.text : d.title + "\n" + d.text, max_query_bytes);
    if (text.empty()) continue;
    // Q&A questions as they are; conversation starts with their subject weighed up.
    absl::StatusOr<std::vector<indexer::SearchHit>> hits = ReadRetryingAfterCommits<std::vector<indexer::SearchHit>>(
        reader, [&] {
          return IsConversationStart(d.kind)
                     ? SearchConversationStart(reader, d.title, d.text, max_query_bytes, retrieve_n, subject_weight)
                     : reader->Search(text, filter, retrieve_n);
        });
    if (hits.ok()) {
      h.hits = std::move(*hits);
    } else if (hits.status().code() != absl::StatusCode::kInvalidArgument) {
      return hits.status();
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<indexer::SearchHit>> SearchConversationStart(indexer::IndexReader* reader,
                                                                        std::string_view title,
                                                                        std::string_view text,
                                                                        size_t max_query_bytes, size_t n,
                                                                        double subject_weight) {
  const indexer::SearchFilter filter;
  std::string whole(title);
  if (!whole.empty()) whole += '\n';
  whole.append(text);
  absl::StatusOr<std::vector<indexer::SearchHit>> full =
      reader->Search(TruncateUtf8(std::move(whole), max_query_bytes), filter, n);
  if (!full.ok() || !(subject_weight > 0) || title.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return full;
  }
  absl::StatusOr<std::vector<indexer::SearchHit>> subject =
      reader->Search(TruncateUtf8(std::string(title), max_query_bytes), filter, n);
  if (!subject.ok()) {
    if (subject.status().code() == absl::StatusCode::kInvalidArgument) return full;  // nothing searchable
    return subject.status();
  }
  double best_full = 0, best_subject = 0;
  for (const indexer::SearchHit& h : *full) best_full = std::max(best_full, h.score);
  for (const indexer::SearchHit& h : *subject) best_subject = std::max(best_subject, h.score);
  if (!(best_subject > 0)) return full;
  // The subject's hits on the scale of the whole query's (its best hit scores subject_weight x
  // the whole query's best), added to them.
  const double scale = subject_weight * (best_full > 0 ? best_full / best_subject : 1.0);
  absl::flat_hash_map<uint32_t, double> score;
  score.reserve(full->size() + subject->size());
  for (const indexer::SearchHit& h : *full) score[h.docid] += h.score;
  for (const indexer::SearchHit& h : *subject) score[h.docid] += scale * h.score;
  std::vector<indexer::SearchHit> out;
  out.reserve(score.size());
  for (const auto& [docid, x] : score) out.push_back({docid, x});
  std::sort(out.begin(), out.end(), [](const indexer::SearchHit& a, const indexer::SearchHit& b) {
    return a.score > b.score || (a.score == b.score && a.docid < b.docid);
  });
  if (out.size() > n) out.resize(n);
  return out;
}

namespace {

std::string DescribeModel(const engine::RankModel& m, const std::string& objective, size_t groups, size_t rows,
                          int64_t trained_at, std::string_view community) {
  std::string out = absl::StrFormat("learned (xgboost %s, %d history queries, %d rows", objective, groups, rows);
  if (m.blend_weight() > 0) absl::StrAppendFormat(&out, ", blend weight %g", m.blend_weight());
  if (!community.empty()) absl::StrAppend(&out, ", community ", absl::string_view(community.data(), community.size()));
  if (trained_at != 0) absl::StrAppend(&out, ", trained ", engine::FormatDate(trained_at));
  absl::StrAppend(&out, ")");
  return out;
}

}  // namespace

std::shared_ptr<const engine::RankModel> Ranker::ModelFor(std::string_view community) const {
  for (const CommunityModel& c : by_community) {
    if (c.community == community) return c.model;
  }
  return model;
}

std::string Ranker::DescribeFor(std::string_view community) const {
  for (const CommunityModel& c : by_community) {
    if (c.community == community) {
      return DescribeModel(*c.model, objective, c.groups, c.rows, trained_at, c.community);
    }
  }
  if (model == nullptr) return absl::StrCat("blend (", note.empty() ? "no model" : note, ")");
  return DescribeModel(*model, objective, groups, rows, trained_at, "");
}

std::string Ranker::Describe() const {
  if (by_community.empty()) return DescribeFor("");
  std::vector<std::string> parts;
  for (const CommunityModel& c : by_community) parts.push_back(absl::StrFormat("%s %d", c.community, c.groups));
  return absl::StrCat("learned per community (history queries: ", absl::StrJoin(parts, ", "),
                      "); other communities: ", DescribeFor(""));
}

std::string QuestionCommunity(const engine::Snapshot& s, std::span<const indexer::SearchHit> hits, size_t n) {
  std::vector<std::pair<uint32_t, size_t>> count;  // (community, hits): few communities
  size_t known = 0;
  for (const indexer::SearchHit& h : hits) {
    if (known == n) break;
    const uint32_t d = s.DocIndex(h.docid);
    if (d >= s.num_docs()) continue;  // not in this snapshot (e.g. ingested since)
    ++known;
    const uint32_t c = s.doc(d).community;
    auto it = std::find_if(count.begin(), count.end(), [&](const auto& x) { return x.first == c; });
    if (it == count.end()) {
      count.emplace_back(c, 1);
    } else {
      ++it->second;
    }
  }
  // Most hits; a tie goes to the community of the better hit (the earlier one).
  const std::pair<uint32_t, size_t>* best = nullptr;
  for (const auto& x : count) {
    if (best == nullptr || x.second > best->second) best = &x;
  }
  if (best == nullptr || best->first == kNone || best->first >= s.num_communities()) return std::string();
  return s.community_name(best->first);
}

absl::StatusOr<Ranker> TrainOnGroups(std::span<const engine::TrainingGroup> groups, const RankerOptions& o) {
  Ranker r;
  r.history = groups.size();
  r.objective = o.train.objective;
  r.booster = o.train.booster;
  r.trained_at = absl::ToUnixSeconds(absl::Now());
  const auto t0 = std::chrono::steady_clock::now();
  absl::StatusOr<std::shared_ptr<const engine::RankModel>> model = engine::RankModel::Train(groups, o.train);
  r.train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (const engine::TrainingGroup& g : groups) r.rows += g.candidates.size();
  if (!model.ok()) {
    if (model.status().code() != absl::StatusCode::kFailedPrecondition) return model.status();
    r.note = absl::StrCat("fallback: ", model.status().message());
    return r;
  }
  r.model = *model;
  r.groups = (*model)->train_groups();
  r.rows = (*model)->train_rows();
  return r;
}

absl::StatusOr<Ranker> TrainOnHistory(const engine::Snapshot& s, std::span<const HistoryQuery> queries,
                                      const RankerOptions& o, std::vector<engine::TrainingGroup>* groups_out) {
  Ranker r;
  r.history = queries.size();
  for (const HistoryQuery& h : queries) r.history_latest = std::max(r.history_latest, h.now);
  r.objective = o.train.objective;
  r.booster = o.train.booster;
  r.trained_at = absl::ToUnixSeconds(absl::Now());
  if (queries.empty()) {
    r.note = "no history";
    return r;
  }
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<engine::TrainingGroup> groups;
  groups.reserve(queries.size());
  for (const HistoryQuery& h : queries) {
    if (o.cancelled && o.cancelled()) return absl::CancelledError("ranker training cancelled");
    engine::AskOptions ao = o.ask;
    ao.now = h.now;
    ao.to = h.now;
    ao.exclude_persons.clear();
    ao.asker.clear();
    ao.query_topics.clear();
    if (o.question_topics) ao.query_topics = h.topics;
    if (h.asker != kNone) {
      ao.exclude_persons.push_back(s.person(h.asker).id);
      ao.asker = s.person(h.asker).id;
    }
    WK_ASSIGN_OR_RETURN(std::vector<engine::CandidateFeatures> f, engine::ExtractFeatures(s, h.hits, ao));
    engine::TrainingGroup g;
    g.relevant.reserve(f.size());
    for (const engine::CandidateFeatures& x : f) {
      auto it = std::find_if(h.truth.begin(), h.truth.end(), [&](const auto& t) { return t.first == x.person; });
      g.relevant.push_back(it == h.truth.end() ? 0 : it->second);
    }
    g.candidates = std::move(f);
    groups.push_back(std::move(g));
  }
  const auto t1 = std::chrono::steady_clock::now();
  WK_ASSIGN_OR_RETURN(Ranker trained, TrainOnGroups(groups, o));
  trained.history = r.history;
  trained.history_latest = r.history_latest;
  trained.trained_at = r.trained_at;
  trained.feature_seconds = std::chrono::duration<double>(t1 - t0).count();
  if (groups_out != nullptr) *groups_out = std::move(groups);
  return trained;
}

namespace {

// The newest max_history of `history` (oldest first), searched.
absl::Status KeepNewestAndSearch(indexer::IndexReader* reader, const engine::Snapshot& s, const RankerOptions& o,
                                 std::vector<HistoryQuery>* history) {
  if (history->size() > o.max_history) {
    history->erase(history->begin(),
                   history->begin() + static_cast<std::ptrdiff_t>(history->size() - o.max_history));
  }
  return SearchHistory(reader, s, o.retrieve_n, o.max_query_bytes, std::span<HistoryQuery>(*history),
                       o.subject_weight);
}

}  // namespace

absl::StatusOr<Ranker> Train(indexer::IndexReader* reader, const engine::Snapshot& s, const RankerOptions& o) {
  std::vector<HistoryQuery> history = CollectHistory(s, o.history);
  const size_t total = history.size();
  int64_t latest = 0;
  for (const HistoryQuery& h : history) latest = std::max(latest, h.now);
  // By the community of each query's start (oldest first within each), most history first.
  std::vector<std::pair<uint32_t, std::vector<HistoryQuery>>> by;
  if (o.per_community) {
    for (HistoryQuery& h : history) {
      const uint32_t c = s.doc(h.doc).community;
      auto it = std::find_if(by.begin(), by.end(), [&](const auto& x) { return x.first == c; });
      if (it == by.end()) it = by.insert(by.end(), {c, {}});
      it->second.push_back(std::move(h));
    }
    std::stable_sort(by.begin(), by.end(),
                     [](const auto& a, const auto& b) { return a.second.size() > b.second.size(); });
  }
  std::vector<CommunityModel> own;
  double feature_seconds = 0, train_seconds = 0;
  if (by.size() > 1) {  // several communities with history: a model for each that has enough
    history.clear();    // the rest
    for (auto& [c, queries] : by) {
      const size_t n = queries.size();
      if (c != kNone && c < s.num_communities() && n >= o.train.min_groups) {
        WK_RETURN_IF_ERROR(KeepNewestAndSearch(reader, s, o, &queries));
        WK_ASSIGN_OR_RETURN(Ranker one, TrainOnHistory(s, queries, o));
        feature_seconds += one.feature_seconds;
        train_seconds += one.train_seconds;
        if (one.model != nullptr) {
          own.push_back({s.community_name(c), one.model, n, one.groups, one.rows});
          continue;
        }
      }
      history.insert(history.end(), std::make_move_iterator(queries.begin()), std::make_move_iterator(queries.end()));
    }
    std::sort(history.begin(), history.end(), Older);
  } else if (by.size() == 1) {
    history = std::move(by.front().second);
  }
  Ranker r;
  if (!history.empty() || own.empty()) {
    WK_RETURN_IF_ERROR(KeepNewestAndSearch(reader, s, o, &history));
    WK_ASSIGN_OR_RETURN(r, TrainOnHistory(s, history, o));
  } else {
    r.objective = o.train.objective;
    r.booster = o.train.booster;
    r.trained_at = absl::ToUnixSeconds(absl::Now());
  }
  if (r.model == nullptr && !own.empty()) {  // the other communities: the model with the most history
    r.model = own.front().model;
    r.groups = own.front().groups;
    r.rows = own.front().rows;
    r.note.clear();
  }
  r.by_community = std::move(own);
  r.history = total;
  r.history_latest = latest;
  r.feature_seconds += feature_seconds;
  r.train_seconds += train_seconds;
  return r;
}

absl::StatusOr<std::string> Encode(const Ranker& r) {
  json j{{"format", kFormat},
         {"features", FeatureList()},
         {"kind", r.learned() ? "learned" : "blend"},
         {"note", r.note},
         {"history", r.history},
         {"history_latest", r.history_latest},
         {"groups", r.groups},
         {"rows", r.rows},
         {"trained_at", r.trained_at},
         {"objective", r.objective},
         {"booster", r.booster},
         {"feature_seconds", r.feature_seconds},
         {"train_seconds", r.train_seconds}};
  if (r.model != nullptr) {
    WK_ASSIGN_OR_RETURN(std::string bytes, r.model->Serialize());
    j["model"] = std::move(bytes);
    j["blend_weight"] = r.model->blend_weight();
  }
  if (!r.by_community.empty()) {
    json cs = json::array();
    for (const CommunityModel& c : r.by_community) {
      WK_ASSIGN_OR_RETURN(std::string bytes, c.model->Serialize());
      cs.push_back({{"community", c.community},
                    {"history", c.history},
                    {"groups", c.groups},
                    {"rows", c.rows},
                    {"model", std::move(bytes)},
                    {"blend_weight", c.model->blend_weight()}});
    }
    j["communities"] = std::move(cs);
  }
  return j.dump();
}

absl::StatusOr<Ranker> Parse(std::string_view value) {
  Ranker r;
  json j = json::parse(value, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("format") || !j["format"].is_number_integer()) {
    return absl::InvalidArgumentError(absl::StrFormat("metadata %s: not a stored ranker", kMetadataKey));
  }
  try {
    r.history = j.value("history", size_t{0});
    r.history_latest = j.value("history_latest", int64_t{0});
    r.groups = j.value("groups", size_t{0});
    r.rows = j.value("rows", size_t{0});
    r.trained_at = j.value("trained_at", int64_t{0});
    r.objective = j.value("objective", std::string());
    r.booster = j.value("booster", std::string());
    r.feature_seconds = j.value("feature_seconds", 0.0);
    r.train_seconds = j.value("train_seconds", 0.0);
    r.note = j.value("note", std::string());
    if (j["format"].get<int>() != kFormat || j.value("features", json()) != FeatureList()) {
      r.note = "the stored model was trained on other features; run whoknows train";
      r.stale = true;
      return r;
    }
    if (j.value("kind", std::string()) == "learned") {
      absl::StatusOr<std::shared_ptr<const engine::RankModel>> m =
          engine::RankModel::Deserialize(j.value("model", std::string()), j.value("blend_weight", 0.0));
      if (!m.ok()) {
        r.note = absl::StrCat("the stored model cannot be loaded: ", m.status().message());
        r.stale = true;
        return r;
      }
      r.model = *m;
    }
    for (const json& c : j.value("communities", json::array())) {
      absl::StatusOr<std::shared_ptr<const engine::RankModel>> m =
          engine::RankModel::Deserialize(c.value("model", std::string()), c.value("blend_weight", 0.0));
      if (!m.ok()) {
        r.note = absl::StrCat("a stored community model cannot be loaded: ", m.status().message());
        r.model = nullptr;
        r.by_community.clear();
        r.stale = true;
        return r;
      }
      r.by_community.push_back({c.value("community", std::string()), *m, c.value("history", size_t{0}),
                                c.value("groups", size_t{0}), c.value("rows", size_t{0})});
    }
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(absl::StrFormat("metadata %s: %s", kMetadataKey, e.what()));
  }
  return r;
}

absl::Status Store(indexer::IndexWriter* writer, const Ranker& r) {
  WK_ASSIGN_OR_RETURN(std::string value, Encode(r));
  return writer->PutMetadata({{std::string(kMetadataKey), std::move(value)}});
}

absl::StatusOr<std::string> StoredValue(indexer::IndexReader* reader) {
  WK_ASSIGN_OR_RETURN(auto entries, reader->ListMetadata(kMetadataKey));
  for (auto& [k, v] : entries) {
    if (k == kMetadataKey) return std::move(v);
  }
  return std::string();
}

absl::StatusOr<Ranker> Load(indexer::IndexReader* reader) {
  WK_ASSIGN_OR_RETURN(std::string value, StoredValue(reader));
  if (value.empty()) {
    Ranker r;
    r.note = "no model stored";
    return r;
  }
  return Parse(value);
}

bool NeedsTraining(const Ranker& stored, size_t history_now, const RankerOptions& o) {
  if (stored.stale) return true;
  if (stored.trained_at == 0) return history_now > 0;  // nothing stored: as soon as there is history
  // The blend because the history was too small, and now it may be enough.
  if (!stored.learned() && stored.history < o.train.min_groups && history_now >= o.train.min_groups) return true;
  const size_t grow = std::max(o.retrain_min_new, static_cast<size_t>(o.retrain_growth * static_cast<double>(stored.history)));
  return history_now >= stored.history + grow;
}

}  // namespace whoknows::ranker

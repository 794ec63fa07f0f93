#include "whoknows/engine/rank.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "rank_internal.h"
#include "whoknows/engine/rank_model.h"
#include "whoknows/engine/topic_strength.h"
#include "whoknows/base/status_macros.h"

namespace whoknows::engine {
namespace internal {

const char* RoleName(Role r) {
  switch (r) {
    case Role::kAnswer: return "answer";
    case Role::kAccepted: return "accepted-answer";
    case Role::kQuestion: return "question";
    case Role::kAuthor: return "author";
    case Role::kMention: return "mention";
    case Role::kThread: return "thread";
  }
  return "?";
}

void VoteScratch::Prepare(uint32_t persons) {
  if (vote.size() != persons) {
    vote.assign(persons, 0.0);
    excluded.assign(persons, 0);
    touched.clear();
    excluded_list.clear();
  }
}

void VoteScratch::Reset() {
  for (uint32_t p : touched) vote[p] = 0;
  for (uint32_t p : excluded_list) excluded[p] = 0;
  touched.clear();
  excluded_list.clear();
  contributions.clear();
  hit_docs.clear();
}

VoteScratch& ThreadVoteScratch() {
  thread_local VoteScratch scratch;
  return scratch;
}

PprWorkspace& ThreadPprWorkspace() {
  thread_local PprWorkspace ws;
  return ws;
}

bool DocFilter::Passes(const Snapshot& s, uint32_t d) const {
  if (!Visible(s, d)) return false;
  if (!topic_filter) return true;
  for (uint32_t t : s.DocTopics(d)) {
    if (std::binary_search(topics.begin(), topics.end(), t)) return true;
  }
  return false;
}

DocFilter MakeFilter(const Snapshot& s, GroupBits mask, int64_t from, int64_t to, std::span<const std::string> topics) {
  DocFilter f;
  f.mask = mask;
  f.from = from;
  f.to = to;
  f.topic_filter = !topics.empty();
  for (const std::string& t : topics) {
    const uint32_t idx = s.FindTopic(t);
    if (idx != kNone) f.topics.push_back(idx);
  }
  std::sort(f.topics.begin(), f.topics.end());
  return f;
}

int64_t LastVisibleActivity(const Snapshot& s, uint32_t p, const DocFilter& filter) {
  const auto docs = s.PersonDocs(p);
  for (size_t i = docs.size(); i-- > 0;) {
    if (filter.Visible(s, docs[i])) return s.doc(docs[i]).timestamp;
  }
  return 0;
}

void Vote(const Snapshot& s, std::span<const indexer::SearchHit> hits, const AskOptions& o, const DocFilter& filter,
          VoteScratch* sc) {
  sc->Prepare(s.num_persons());
  sc->Reset();
  auto exclude = [&](uint32_t p) {
    if (p != kNone && !sc->excluded[p]) {
      sc->excluded[p] = 1;
      sc->excluded_list.push_back(p);
    }
  };
  for (const std::string& id : o.exclude_persons) exclude(s.FindPerson(id));

  // Q&A posts and conversations (mail, chat) age and thread differently: each has its own weights.
  auto is_qa = [&](uint32_t d) {
    const indexer::RecordKind k = s.doc(d).kind;
    return k == indexer::RecordKind::kQuestion || k == indexer::RecordKind::kAnswer || k == indexer::RecordKind::kComment;
  };
  // Age is measured from `now` when the caller sets it, else from the newest
  // document of the doc's own community.
  auto decay = [&](uint32_t d) {
    if (!o.use_decay) return 1.0;
    const DocInfo& di = s.doc(d);
    const int64_t ref = o.now != 0 ? o.now : s.community_max_timestamp(di.community);
    return Decay(di.timestamp, ref, is_qa(d) ? o.half_life_days_qa : o.half_life_days);
  };

  // Hit docs that pass, deduplicated (best score kept).
  double best = 0;
  for (const indexer::SearchHit& h : hits) {
    const uint32_t d = s.DocIndex(h.docid);
    if (d == kNone || !filter.Passes(s, d) || !std::isfinite(h.score)) continue;
    sc->hit_docs.emplace_back(d, std::max(h.score, 0.0));
    best = std::max(best, h.score);
  }
  auto dedupe = [&] {
    std::sort(sc->hit_docs.begin(), sc->hit_docs.end(), [](const auto& a, const auto& b) {
      return a.first < b.first || (a.first == b.first && a.second > b.second);
    });
    sc->hit_docs.erase(std::unique(sc->hit_docs.begin(), sc->hit_docs.end(),
                                   [](const auto& a, const auto& b) { return a.first == b.first; }),
                       sc->hit_docs.end());
  };
  dedupe();
  // Q&A: the thread is the unit of expertise. A matching question lends its
  // score to its answers (the answerer is credited with the question).
  if (o.credit_answerers) {
    const size_t n = sc->hit_docs.size();
    for (size_t i = 0; i < n; ++i) {
      const auto [d, score] = sc->hit_docs[i];
      if (s.doc(d).kind != indexer::RecordKind::kQuestion) continue;
      size_t seen = 0;
      for (uint32_t e : s.ThreadDocs(s.doc(d).thread)) {
        if (e == d || s.doc(e).kind != indexer::RecordKind::kAnswer || !filter.Passes(s, e)) continue;
        if (++seen > o.max_thread_docs) break;
        sc->hit_docs.emplace_back(e, score);
      }
    }
    if (sc->hit_docs.size() != n) dedupe();
  }

  for (auto& [d, score] : sc->hit_docs) {
    const double norm = best > 0 ? score / best : 1.0;
    score = norm * decay(d);  // the doc's seed mass for PPR
    sc->roles.clear();
    sc->role_kinds.clear();
    // One role per person and doc: the largest weight offered, named by it,
    // except that the doc's author keeps the author's role (the first offer)
    // when the thread of their own other messages weighs more.
    const uint32_t doc_author = s.doc(d).author;  // (clang 14 cannot capture the structured binding d)
    auto offer = [&](uint32_t p, double w, Role role) {
      if (p == kNone || w <= 0 || sc->excluded[p] || s.person(p).opted_out) return;
      for (size_t i = 0; i < sc->roles.size(); ++i) {
        if (sc->roles[i].first == p) {
          if (w > sc->roles[i].second) {
            sc->roles[i].second = w;
            if (p != doc_author) sc->role_kinds[i] = role;
          }
          return;
        }
      }
      sc->roles.emplace_back(p, w);
      sc->role_kinds.push_back(role);
    };
    const DocInfo& di = s.doc(d);
    const double dd = decay(d);
    using indexer::RecordKind;
    if (di.kind == RecordKind::kAnswer) {
      offer(di.author, norm * dd * (o.w_answer + (di.accepted ? o.w_accepted : 0.0)),
            di.accepted ? Role::kAccepted : Role::kAnswer);
    } else if (di.kind == RecordKind::kQuestion) {
      offer(di.author, norm * dd * o.w_asker, Role::kQuestion);
    } else {
      offer(di.author, norm * dd * (di.kind == RecordKind::kComment ? o.w_comment : o.w_author), Role::kAuthor);
    }
    for (uint32_t m : s.DocMentions(d)) offer(m, norm * dd * o.w_mention, Role::kMention);
    const double w_thread = is_qa(d) ? o.w_thread_qa : o.w_thread;
    if (w_thread > 0) {
      size_t seen = 0;
      for (uint32_t e : s.ThreadDocs(di.thread)) {
        if (e == d) continue;
        if (++seen > o.max_thread_docs) break;
        const DocInfo& ei = s.doc(e);
        if (ei.author == kNone || !filter.Visible(s, e)) continue;
        const bool acc = ei.accepted && ei.kind == RecordKind::kAnswer;
        offer(ei.author, norm * decay(e) * w_thread * (acc ? 1.0 + o.w_accepted : 1.0), Role::kThread);
      }
    }
    for (size_t i = 0; i < sc->roles.size(); ++i) {
      const auto [p, amount] = sc->roles[i];
      if (sc->vote[p] == 0) sc->touched.push_back(p);
      sc->vote[p] += amount;
      sc->contributions.push_back({p, d, amount, sc->role_kinds[i]});
    }
  }
}

}  // namespace internal

using internal::Contribution;
using internal::Role;

std::string_view MethodName(Method m) {
  switch (m) {
    case Method::kWhoknows: return "whoknows";
    case Method::kPopularity: return "popularity";
    case Method::kBm25Voting: return "bm25-voting";
    case Method::kNoPpr: return "whoknows-no-ppr";
    case Method::kNoDecay: return "whoknows-no-decay";
    case Method::kNoThread: return "whoknows-no-thread";
    case Method::kNoPrior: return "whoknows-no-prior";
    case Method::kRecentPopularity: return "recent-popularity";
    case Method::kNoGraph: return "whoknows-no-graph";
  }
  return "?";
}

std::vector<Method> AllMethods() {
  return {Method::kWhoknows, Method::kPopularity, Method::kRecentPopularity, Method::kBm25Voting, Method::kNoGraph,
          Method::kNoPpr,    Method::kNoDecay,    Method::kNoThread,         Method::kNoPrior};
}

absl::StatusOr<Method> ParseMethod(std::string_view name) {
  for (Method m : AllMethods()) {
    if (MethodName(m) == name) return m;
  }
  return absl::InvalidArgumentError(absl::StrFormat("unknown method '%s'", name));
}

AskOptions WithMethod(AskOptions o, Method method) {
  o.method = method;
  switch (method) {
    case Method::kWhoknows:
    case Method::kPopularity:
    case Method::kRecentPopularity:
      break;
    case Method::kBm25Voting:  // Model 2: votes only (answers credited with their question's text)
      // Fixed role weights, so tuning whoknows never moves the baseline.
      o.w_answer = 1.0;
      o.w_accepted = 1.0;
      o.w_asker = 0.3;
      o.w_author = 1.0;
      o.w_comment = 0.0;
      o.w_mention = 0.2;
      o.w_ppr = 0;
      o.use_decay = false;
      o.w_prior = 0;
      o.w_recent = 0;
      o.w_topic = 0;
      o.w_contact = 0;
      o.w_thread = 0;
      o.w_thread_qa = 0;
      o.topic_candidates = 0;
      o.recent_candidates = 0;
      o.credit_answerers = true;
      o.use_graph = false;
      o.model = nullptr;
      break;
    case Method::kNoGraph:
      o.w_ppr = 0;
      o.w_topic = 0;
      o.w_contact = 0;
      o.use_graph = false;
      break;
    case Method::kNoPpr: o.w_ppr = 0; break;
    case Method::kNoDecay: o.use_decay = false; break;
    case Method::kNoThread: o.w_thread = o.w_thread_qa = 0; break;
    case Method::kNoPrior: o.w_prior = 0; break;
  }
  return o;
}

std::string FormatDate(int64_t t) {
  return absl::FormatTime("%Y-%m-%d", absl::FromUnixSeconds(t), absl::UTCTimeZone());
}

namespace {

absl::Status CheckOptions(const AskOptions& o) {
  for (double w : {o.w_answer, o.w_accepted, o.w_asker, o.w_author, o.w_comment, o.w_mention, o.w_thread, o.w_thread_qa, o.w_vote, o.w_ppr,
                   o.w_prior, o.w_recent, o.w_topic, o.w_contact}) {
    if (!std::isfinite(w) || w < 0) return absl::InvalidArgumentError("ask: weights must be finite and >= 0");
  }
  if (!(o.recent_days > 0) || !std::isfinite(o.recent_days)) return absl::InvalidArgumentError("ask: recent_days must be > 0");
  if (o.use_decay && !(o.half_life_days > 0 && o.half_life_days_qa > 0)) return absl::InvalidArgumentError("ask: half_life_days must be > 0");
  if (!(o.ppr.alpha > 0 && o.ppr.alpha <= 1) || !(o.ppr.r_max > 0)) {
    return absl::InvalidArgumentError("ask: ppr alpha must be in (0, 1] and r_max > 0");
  }
  if (!(o.min_vote_share >= 0 && o.min_vote_share <= 1)) {
    return absl::InvalidArgumentError("ask: min_vote_share must be in [0, 1]");
  }
  return absl::OkStatus();
}

// A vote share in percent for a why: "0.4", "1", "12".
std::string VotePercent(double share) {
  const double pc = 100.0 * share;
  if (pc < 0.1) return "under 0.1";
  return pc < 1 ? absl::StrFormat("%.1f", std::floor(10 * pc) / 10) : absl::StrFormat("%.0f", std::floor(pc));
}

}  // namespace

std::vector<std::pair<uint32_t, double>> VoteScores(const Snapshot& s, std::span<const indexer::SearchHit> hits,
                                                    const AskOptions& o) {
  internal::VoteScratch& sc = internal::ThreadVoteScratch();
  const internal::DocFilter filter = internal::MakeFilter(s, o.group_mask, o.from, o.to, o.topics);
  internal::Vote(s, hits, o, filter, &sc);
  std::vector<std::pair<uint32_t, double>> out;
  for (uint32_t p : sc.touched) out.emplace_back(p, sc.vote[p]);
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.second > b.second || (a.second == b.second && a.first < b.first); });
  return out;
}

namespace {

// How a candidate without votes got in (with votes: the hits), for its why.
enum Via : uint8_t { kViaTopic = 1, kViaRecent = 2 };

struct Scored {
  uint32_t p;
  double score, vote, ppr, prior, recent, topic, contact, vote_raw, ppr_raw;
  double activity = 0, recent_activity = 0, idle_days = 0, model = 0;
  double answers = 0, accepted = 0, questions = 0;  // before `now`
  uint8_t via = 0;  // Via bits
};

CandidateFeatures Featurize(const Scored& x) {
  CandidateFeatures f;
  f.person = x.p;
  const double v[kNumRankFeatures] = {x.vote,
                                      x.ppr,
                                      x.prior,
                                      x.recent,
                                      x.topic,
                                      x.contact,
                                      std::log1p(x.vote_raw),
                                      std::log1p(x.activity),
                                      std::log1p(x.recent_activity),
                                      x.answers > 0 ? x.accepted / x.answers : 0.0,
                                      std::log1p(x.answers),
                                      std::log1p(x.questions),
                                      std::log1p(x.idle_days),
                                      x.score};
  for (size_t i = 0; i < kNumRankFeatures; ++i) f.x[i] = static_cast<float>(v[i]);
  return f;
}

constexpr size_t kWhyQueryTopics = 1;    // an expert's topics start with at most this many of the query's
constexpr size_t kQueryTopics = 5;        // the query's topic distribution keeps this many
constexpr size_t kCandidateTopics = 3;    // topic vertices walked for candidates
constexpr size_t kTopicScanDocs = 4000;   // newest docs scanned per topic vertex
constexpr size_t kRecentScanDocs = 5000;  // newest docs scanned for recent activity

bool Contributes(indexer::RecordKind k) {
  return k != indexer::RecordKind::kQuestion && k != indexer::RecordKind::kComment;
}

// Calls fn(author) for every contributing, visible document among the newest
// kTopicScanDocs documents of topic vertex `tv`, newest first.
template <typename Visible, typename Fn>
void ForEachTopicAuthor(const Snapshot& s, VertexId tv, Visible visible, Fn fn) {
  const Graph& g = s.graph();
  size_t seen = 0;
  for (EdgeIndex e = g.row_end(tv); e-- > g.row_begin(tv) && seen < kTopicScanDocs;) {
    const VertexId v = g.target(e);
    if (s.KindOf(v) != VertexKind::kDoc) continue;
    ++seen;
    const uint32_t d = s.IndexOf(v);
    const DocInfo& di = s.doc(d);
    if (di.author == kNone || !Contributes(di.kind) || !visible(d)) continue;
    fn(di.author);
  }
}

// A sum per person over a dense array, reused by the thread's calls (a hash
// map per call of the candidate scans was ~4% of a FindExperts call at 1M).
// Each person's sum is added in the caller's order, as with the map.
class PersonCounts {
 public:
  static PersonCounts& ForThread(uint32_t persons) {
    thread_local PersonCounts c;
    if (c.sum_.size() < persons) {
      c.sum_.resize(persons, 0.0);
      c.seen_.resize(persons, 0);
    }
    return c;
  }
  double& operator[](uint32_t p) {
    if (!seen_[p]) {
      seen_[p] = 1;
      list_.push_back(p);
    }
    return sum_[p];
  }
  // Every (person, sum) so far, then empty again.
  std::vector<std::pair<uint32_t, double>> Take() {
    std::vector<std::pair<uint32_t, double>> v;
    v.reserve(list_.size());
    for (uint32_t p : list_) {
      v.emplace_back(p, sum_[p]);
      sum_[p] = 0;
      seen_[p] = 0;
    }
    list_.clear();
    return v;
  }

 private:
  std::vector<double> sum_;
  std::vector<uint8_t> seen_;
  std::vector<uint32_t> list_;
};

// Top `k` of `counts` by count (ties by person index), appended to *out; empties `counts`.
void TopCounts(PersonCounts& counts, size_t k, std::vector<uint32_t>* out) {
  std::vector<std::pair<uint32_t, double>> v = counts.Take();
  const size_t want = std::min(k, v.size());
  std::partial_sort(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(want), v.end(),
                    [](const auto& a, const auto& b) { return a.second > b.second || (a.second == b.second && a.first < b.first); });
  for (size_t i = 0; i < want; ++i) out->push_back(v[i].first);
}

// The propagation's seeds and options from the votes in `sc` (ExpertPprInput).
ExpertPpr PprInput(const Snapshot& s, const internal::VoteScratch& sc, const AskOptions& o) {
  ExpertPpr in;
  double vote_total = 0, doc_total = 0;
  for (uint32_t p : sc.touched) vote_total += sc.vote[p];
  for (const auto& [d, m] : sc.hit_docs) doc_total += m;
  for (uint32_t p : sc.touched) {
    if (sc.vote[p] > 0) in.seeds.push_back({s.PersonVertex(p), 0.5 * sc.vote[p] / vote_total});
  }
  for (const auto& [d, m] : sc.hit_docs) {
    if (m > 0) in.seeds.push_back({s.DocVertex(d), 0.5 * m / doc_total});
  }
  in.options = o.ppr;
  in.options.group_mask = o.group_mask;
  in.options.vertex_time = s.vertex_time();
  in.options.time_from = o.from;
  in.options.time_to = o.to;
  return in;
}

// Votes, propagation, candidate generation and the blend. Leaves the votes'
// contributions in the thread's scratch. Empty when nothing matches.
// features: compute every component the graph/method allows (for the model),
// not only those the blend weighs. query_topics (optional): the query's topic
// indices, strongest first (empty without the graph).
absl::StatusOr<std::vector<Scored>> Score(const Snapshot& s, std::span<const indexer::SearchHit> hits,
                                          const AskOptions& o, const internal::DocFilter& filter, bool features,
                                          std::vector<uint32_t>* query_topics = nullptr) {
  features = features || o.model != nullptr;
  const bool want_ppr = o.use_graph && (o.w_ppr > 0 || features);
  const bool want_topic = o.use_graph && (o.w_topic > 0 || features);
  const bool want_contact = o.use_graph && (o.w_contact > 0 || features);
  const bool want_activity = o.w_prior > 0 || o.w_recent > 0 || features;
  internal::VoteScratch& sc = internal::ThreadVoteScratch();
  internal::Vote(s, hits, o, filter, &sc);
  if (sc.hit_docs.empty()) return std::vector<Scored>{};

  // --- propagation
  PprWorkspace& ws = internal::ThreadPprWorkspace();
  bool have_ppr = false;
  if (want_ppr) {
    const ExpertPpr in = PprInput(s, sc, o);
    if (!in.seeds.empty()) {
      if (absl::Status st = ForwardPush(s.graph(), in.seeds, in.options, &ws); !st.ok()) return st;
      have_ppr = true;
    }
  }

  // --- the query's topics: hit mass * idf over the hit docs' topic vertices
  std::vector<std::pair<uint32_t, double>> qtopics;
  if (want_topic || (o.use_graph && o.topic_candidates > 0)) {
    absl::flat_hash_map<uint32_t, double> acc;
    const double nd = static_cast<double>(s.num_docs());
    auto idf = [&](uint32_t t) { return std::log(1.0 + nd / std::max(1u, s.topic_doc_count(t))); };
    // The asker's own tags, when the snapshot knows any of them; else the hits' topics.
    for (const std::string& name : o.query_topics) {
      const uint32_t t = s.FindTopic(name);
      if (t != kNone) acc[t] = idf(t);
    }
    if (acc.empty()) {
      for (const auto& [d, m] : sc.hit_docs) {
        for (uint32_t t : s.DocTopics(d)) acc[t] += m * idf(t);
      }
    }
    qtopics.assign(acc.begin(), acc.end());
    std::sort(qtopics.begin(), qtopics.end(),
              [](const auto& a, const auto& b) { return a.second > b.second || (a.second == b.second && a.first < b.first); });
    if (qtopics.size() > kQueryTopics) qtopics.resize(kQueryTopics);
    double total = 0;
    for (const auto& q : qtopics) total += q.second;
    for (auto& q : qtopics) q.second = total > 0 ? q.second / total : 0;
  }

  std::vector<double> topic_n(qtopics.size(), 0.0);
  std::vector<uint32_t> qtopic_ids;
  for (const auto& q : qtopics) qtopic_ids.push_back(q.first);
  if (query_topics != nullptr) *query_topics = qtopic_ids;

  // --- candidates: the people of the hits and of the propagation ...
  std::vector<uint32_t> cand(sc.touched.begin(), sc.touched.end());
  // (person, Via bits) of the topic and recent-activity candidates.
  std::vector<std::pair<uint32_t, uint8_t>> via;
  auto mark_via = [&](size_t from, uint8_t bit) {
    for (size_t i = from; i < cand.size(); ++i) via.emplace_back(cand[i], bit);
  };
  if (have_ppr) {
    for (VertexId v : ws.touched) {
      if (v < s.num_persons() && ws.score(v) > 0 && sc.vote[v] == 0) cand.push_back(v);
    }
  }
  // ... people strong on the query's top topics (authors of the topic vertices' newest docs) ...
  if (o.use_graph && o.topic_candidates > 0 && !qtopics.empty()) {
    PersonCounts& counts = PersonCounts::ForThread(s.num_persons());
    // A caller who sees every document: the scan's (author, documents) per topic, made once per
    // snapshot (the scan reads ~4,000 scattered DocInfo per topic); the same sums in the same order.
    const bool sees_all = o.activity != nullptr && filter.mask == kAllGroups && filter.from == 0 && filter.to == 0;
    for (size_t i = 0; i < qtopics.size() && i < kCandidateTopics; ++i) {
      const VertexId tv = s.TopicVertex(qtopics[i].first);
      auto authors = !sees_all ? nullptr : o.activity->TopicAuthors(s, qtopics[i].first, [&] {
        absl::flat_hash_map<uint32_t, uint32_t> n;
        ForEachTopicAuthor(
            s, tv, [&](uint32_t d) { return s.DocVisible(d, kAllGroups); }, [&](uint32_t a) { ++n[a]; });
        return PersonActivity::AuthorCounts(n.begin(), n.end());
      });
      if (authors != nullptr) {
        for (const auto& [author, docs] : *authors) {
          double& c = counts[author];
          for (uint32_t j = 0; j < docs; ++j) c += qtopics[i].second;
        }
        continue;
      }
      ForEachTopicAuthor(
          s, tv, [&](uint32_t d) { return filter.Visible(s, d); },
          [&](uint32_t a) { counts[a] += qtopics[i].second; });
    }
    const size_t first = cand.size();
    TopCounts(counts, o.topic_candidates, &cand);
    mark_via(first, kViaTopic);
  }
  // ... and people recently active in the hits' communities.
  if (o.recent_candidates > 0) {
    std::vector<uint32_t> comms;
    for (const auto& [d, m] : sc.hit_docs) {
      const uint32_t c = s.doc(d).community;
      if (std::find(comms.begin(), comms.end(), c) == comms.end()) comms.push_back(c);
    }
    PersonCounts& counts = PersonCounts::ForThread(s.num_persons());
    // The newest docs before `now`: at most kRecentScanDocs of the hits' communities, and at most
    // 2 * kRecentScanDocs in all (a small community in a large corpus must not cost a full scan).
    size_t seen = 0, scanned = 0;
    for (uint32_t d = s.num_docs(); d-- > 0 && seen < kRecentScanDocs && scanned < 2 * kRecentScanDocs;) {
      const DocInfo& di = s.doc(d);
      if (!filter.Visible(s, d) || (o.now != 0 && di.timestamp >= o.now)) continue;
      ++scanned;
      if (std::find(comms.begin(), comms.end(), di.community) == comms.end()) continue;
      ++seen;
      if (di.author == kNone || !Contributes(di.kind)) continue;
      counts[di.author] += 1;
    }
    const size_t first = cand.size();
    TopCounts(counts, o.recent_candidates, &cand);
    mark_via(first, kViaRecent);
  }
  std::sort(cand.begin(), cand.end());
  cand.erase(std::unique(cand.begin(), cand.end()), cand.end());
  cand.erase(std::remove_if(cand.begin(), cand.end(),
                            [&](uint32_t p) { return sc.excluded[p] || s.person(p).opted_out; }),
             cand.end());

  // --- components (everything counted over visible docs before `ref`, so a
  // history query sees only its own past)
  const int64_t ref = o.now != 0 ? o.now : s.max_timestamp() + 1;
  const int64_t recent_from = ref - static_cast<int64_t>(o.recent_days * 86400.0);
  auto before = [&](uint32_t d) { return filter.Visible(s, d) && s.doc(d).timestamp < ref; };

  // Contact with the asker: people who shared a thread with them (replies included).
  absl::flat_hash_map<uint32_t, double> contact;
  if (want_contact && !o.asker.empty()) {
    const uint32_t a = s.FindPerson(o.asker);
    if (a != kNone) {
      const auto docs = s.PersonDocs(a);
      uint32_t last_thread = kNone;
      size_t threads = 0;
      for (size_t i = docs.size(); i-- > 0 && threads < 500;) {
        const uint32_t d = docs[i];
        if (!before(d) || s.doc(d).thread == last_thread) continue;
        last_thread = s.doc(d).thread;
        ++threads;
        size_t seen = 0;
        for (uint32_t e : s.ThreadDocs(last_thread)) {
          if (++seen > o.max_thread_docs) break;
          const uint32_t q = s.doc(e).author;
          if (q != kNone && q != a && before(e)) contact[q] += 1;
        }
      }
      for (auto& [q, n] : contact) n = std::log1p(n);
    }
  }

  std::sort(via.begin(), via.end());
  std::vector<Scored> scored;
  scored.reserve(cand.size());
  double max_vote = 0, max_ppr = 0, max_prior = 0, max_recent = 0, max_topic = 0, max_contact = 0;
  // Without an explicit `now`, a person's activity (recent, idle days) is
  // measured by the clock of the community of their newest visible document,
  // as the vote's decay is: an archive's experts are not idle because another
  // community kept talking after it ended.
  auto person_ref = [&](uint32_t p) -> int64_t {
    if (o.now != 0) return ref;
    const auto docs = s.PersonDocs(p);
    for (size_t i = docs.size(), n = 0; i-- > 0 && n < 16; ++n) {
      if (filter.Visible(s, docs[i])) return std::min(ref, s.community_max_timestamp(s.doc(docs[i]).community) + 1);
    }
    return ref;
  };
  for (uint32_t p : cand) {
    Scored x{p, 0, 0, 0, 0, 0, 0, 0, sc.vote[p], have_ppr ? static_cast<double>(ws.score(p)) : 0.0};
    PersonActivity::Counts counts;
    const int64_t p_ref = person_ref(p);
    const int64_t p_recent_from = p_ref - (ref - recent_from);
    const int64_t to = o.to == 0 ? p_ref : std::min(o.to, p_ref);
    if ((want_activity || want_topic) && o.activity != nullptr &&
        o.activity->Count(s, p, o.group_mask, o.from, to, p_recent_from, &counts) &&
        (!want_topic || o.activity->CountTopics(s, p, o.group_mask, o.from, to, qtopic_ids, topic_n.data()))) {
      x.answers = counts.answers;
      x.accepted = counts.accepted;
      x.questions = counts.questions;
      x.activity = counts.activity;
      x.recent_activity = counts.recent;
      x.idle_days = counts.last > 0 ? static_cast<double>(p_ref - counts.last) / 86400.0 : 36500.0;
      x.prior = std::log1p(counts.activity);
      x.recent = std::log1p(counts.recent);
      for (size_t k = 0; want_topic && k < qtopics.size(); ++k) {
        x.topic += qtopics[k].second * std::log1p(topic_n[k]);
        topic_n[k] = 0;
      }
    } else if (want_activity || want_topic) {
      double all = 0, recent = 0;
      int64_t last = 0;
      for (uint32_t d : s.PersonDocs(p)) {
        if (!before(d)) continue;
        const DocInfo& di = s.doc(d);
        double n = 0;
        if (di.kind == indexer::RecordKind::kAnswer) {
          n = 1 + (di.accepted ? 1 : 0);
          ++x.answers;
          x.accepted += di.accepted;
        } else if (di.kind == indexer::RecordKind::kQuestion) {
          ++x.questions;
        } else if (di.parent != kNone) {
          n = 1;
        }
        all += n;
        if (di.timestamp >= p_recent_from) recent += n;
        last = std::max(last, di.timestamp);
        if (want_topic && di.kind != indexer::RecordKind::kQuestion) {
          for (uint32_t t : s.DocTopics(d)) {
            for (size_t k = 0; k < qtopics.size(); ++k) {
              if (qtopics[k].first == t) topic_n[k] += 1;
            }
          }
        }
      }
      x.activity = all;
      x.recent_activity = recent;
      x.idle_days = last > 0 ? static_cast<double>(p_ref - last) / 86400.0 : 36500.0;
      x.prior = std::log1p(all);
      x.recent = std::log1p(recent);
      for (size_t k = 0; k < qtopics.size(); ++k) {
        x.topic += qtopics[k].second * std::log1p(topic_n[k]);
        topic_n[k] = 0;
      }
    }
    if (!contact.empty()) {
      if (auto it = contact.find(p); it != contact.end()) x.contact = it->second;
    }
    for (auto it = std::lower_bound(via.begin(), via.end(), std::make_pair(p, uint8_t{0}));
         it != via.end() && it->first == p; ++it) {
      x.via |= it->second;
    }
    max_vote = std::max(max_vote, x.vote_raw);
    max_ppr = std::max(max_ppr, x.ppr_raw);
    max_prior = std::max(max_prior, x.prior);
    max_recent = std::max(max_recent, x.recent);
    max_topic = std::max(max_topic, x.topic);
    max_contact = std::max(max_contact, x.contact);
    scored.push_back(x);
  }
  auto norm = [](double v, double m) { return m > 0 ? v / m : 0.0; };
  std::vector<Scored> out;
  out.reserve(scored.size());
  for (Scored& x : scored) {
    x.vote = norm(x.vote_raw, max_vote);
    x.ppr = norm(x.ppr_raw, max_ppr);
    x.prior = norm(x.prior, max_prior);
    x.recent = norm(x.recent, max_recent);
    x.topic = norm(x.topic, max_topic);
    x.contact = norm(x.contact, max_contact);
    x.score = o.w_vote * x.vote + o.w_ppr * x.ppr + o.w_prior * x.prior + o.w_recent * x.recent +
              o.w_topic * x.topic + o.w_contact * x.contact;
    if (x.score > 0) out.push_back(x);
  }
  if (o.model != nullptr && !out.empty()) {
    std::vector<CandidateFeatures> rows;
    rows.reserve(out.size());
    for (const Scored& x : out) rows.push_back(Featurize(x));
    WK_ASSIGN_OR_RETURN(std::vector<float> pred, o.model->Score(rows));
    for (size_t i = 0; i < out.size(); ++i) out[i].model = out[i].score = pred[i];
  }
  return out;
}

// Up to `max` documents of one person's contributions as evidence, in
// EvidenceBefore order; within a class, one document per thread before a
// second one of any thread already shown, so answers in five threads show
// before three messages of one long thread.
void SelectEvidence(const Snapshot& s, std::span<const Contribution> mine, size_t max, std::vector<Evidence>* out) {
  if (max == 0 || mine.empty()) return;
  std::vector<const Contribution*> order;
  order.reserve(mine.size());
  for (const Contribution& c : mine) order.push_back(&c);
  auto cls = [](const Contribution* c) { return EvidenceClass(internal::RoleName(c->role)); };
  std::stable_sort(order.begin(), order.end(), [&](const Contribution* a, const Contribution* b) {
    return cls(a) != cls(b) ? cls(a) < cls(b) : a->amount > b->amount;
  });
  std::vector<uint32_t> threads;  // shown so far
  std::vector<uint8_t> taken(order.size(), 0);
  for (size_t begin = 0; begin < order.size() && out->size() < max;) {
    size_t end = begin;
    while (end < order.size() && cls(order[end]) == cls(order[begin])) ++end;
    for (int pass = 0; pass < 2; ++pass) {
      for (size_t i = begin; i < end && out->size() < max; ++i) {
        if (taken[i]) continue;
        const uint32_t t = s.doc(order[i]->doc).thread;
        const bool seen = std::find(threads.begin(), threads.end(), t) != threads.end();
        if (pass == 0 && seen) continue;
        if (!seen) threads.push_back(t);
        taken[i] = 1;
        out->push_back({s.doc(order[i]->doc).docid, order[i]->amount, internal::RoleName(order[i]->role)});
      }
    }
    begin = end;
  }
}

std::vector<Expert> PopularityFor(const Snapshot& s, const AskOptions& o) {
  PopularityOptions po;
  po.k = o.k;
  po.offset = o.offset;
  po.group_mask = o.group_mask;
  po.from = o.from;
  po.to = o.to;
  po.exclude_persons = o.exclude_persons;
  if (o.method == Method::kRecentPopularity) {
    const int64_t ref = o.now != 0 ? o.now : s.max_timestamp();
    po.from = std::max(po.from, ref - static_cast<int64_t>(o.recent_days * 86400.0));
    if (po.to == 0 || po.to > ref) po.to = ref;
  }
  return RankByPopularity(s, po);
}

}  // namespace

int EvidenceClass(std::string_view role) {
  if (role == "question") return 1;
  if (role == "thread" || role == "mention") return 2;
  return 0;
}

bool EvidenceBefore(const Evidence& a, const Evidence& b) {
  const int ca = EvidenceClass(a.role), cb = EvidenceClass(b.role);
  return ca != cb ? ca < cb : a.contribution > b.contribution;
}

const std::array<const char*, kNumRankFeatures>& FeatureNames() {
  static const std::array<const char*, kNumRankFeatures> names = {
      "vote",       "ppr",          "prior",         "recent",           "topic",   "contact",   "log_vote_raw",
      "log_activity", "log_recent_activity", "acceptance_ratio", "log_answers", "log_questions", "log_idle_days", "blend"};
  return names;
}

absl::StatusOr<std::vector<CandidateFeatures>> ExtractFeatures(const Snapshot& s,
                                                               std::span<const indexer::SearchHit> hits,
                                                               const AskOptions& in) {
  if (absl::Status st = CheckOptions(in); !st.ok()) return st;
  AskOptions o = WithMethod(in, in.method);
  o.model = nullptr;
  const internal::DocFilter filter = internal::MakeFilter(s, o.group_mask, o.from, o.to, o.topics);
  WK_ASSIGN_OR_RETURN(std::vector<Scored> scored, Score(s, hits, o, filter, /*features=*/true));
  std::vector<CandidateFeatures> out;
  out.reserve(scored.size());
  for (const Scored& x : scored) out.push_back(Featurize(x));
  return out;
}

absl::StatusOr<std::vector<uint32_t>> CandidatePeople(const Snapshot& s, std::span<const indexer::SearchHit> hits,
                                                      const AskOptions& in) {
  if (absl::Status st = CheckOptions(in); !st.ok()) return st;
  const AskOptions o = WithMethod(in, in.method);
  std::vector<uint32_t> out;
  if (o.method == Method::kPopularity || o.method == Method::kRecentPopularity) {
    AskOptions all = o;
    all.k = s.num_persons();
    all.offset = 0;
    for (const Expert& e : PopularityFor(s, all)) out.push_back(e.person);
    return out;
  }
  const internal::DocFilter filter = internal::MakeFilter(s, o.group_mask, o.from, o.to, o.topics);
  WK_ASSIGN_OR_RETURN(std::vector<Scored> scored, Score(s, hits, o, filter, false));
  for (const Scored& x : scored) out.push_back(x.p);
  return out;
}

absl::StatusOr<ExpertPpr> ExpertPprInput(const Snapshot& s, std::span<const indexer::SearchHit> hits,
                                         const AskOptions& in) {
  if (absl::Status st = CheckOptions(in); !st.ok()) return st;
  const AskOptions o = WithMethod(in, in.method);
  const internal::DocFilter filter = internal::MakeFilter(s, o.group_mask, o.from, o.to, o.topics);
  internal::VoteScratch& sc = internal::ThreadVoteScratch();
  internal::Vote(s, hits, o, filter, &sc);
  if (sc.hit_docs.empty()) return ExpertPpr{};
  return PprInput(s, sc, o);
}

absl::StatusOr<std::vector<Expert>> RankExperts(const Snapshot& s, std::span<const indexer::SearchHit> hits,
                                                const AskOptions& in) {
  if (absl::Status st = CheckOptions(in); !st.ok()) return st;
  const AskOptions o = WithMethod(in, in.method);
  if (o.method == Method::kPopularity || o.method == Method::kRecentPopularity) return PopularityFor(s, o);
  const internal::DocFilter filter = internal::MakeFilter(s, o.group_mask, o.from, o.to, o.topics);
  std::vector<uint32_t> query_topics;
  WK_ASSIGN_OR_RETURN(std::vector<Scored> scored, Score(s, hits, o, filter, false, &query_topics));
  internal::VoteScratch& sc = internal::ThreadVoteScratch();
  // Direct evidence first (AskOptions::evidence_first): people without any
  // matching document follow everyone with one, whatever their score.
  // A vote below min_vote_share of the best one is weak evidence: that person
  // is listed with them.
  auto tier = [&](const Scored& x) {
    return UpperTier(o.evidence_first, o.min_vote_share, x.vote_raw, x.vote) ? 0 : 1;
  };
  auto better = [&](const Scored& a, const Scored& b) {
    if (tier(a) != tier(b)) return tier(a) < tier(b);
    return a.score > b.score || (a.score == b.score && s.person(a.p).id < s.person(b.p).id);
  };
  bool any_evidence = false;
  // The lowest upper-tier score over all candidates: a lower-tier expert's
  // reported score is capped at it, so the scores never rise down the list.
  double upper_min = std::numeric_limits<double>::infinity();
  for (const Scored& x : scored) {
    any_evidence |= x.vote_raw > 0;
    if (tier(x) == 0) upper_min = std::min(upper_min, x.score);
  }
  const size_t want = std::min(scored.size(), o.offset + o.k);
  std::partial_sort(scored.begin(), scored.begin() + static_cast<std::ptrdiff_t>(want), scored.end(), better);
  if (o.offset >= want) return std::vector<Expert>{};

  // Contributions grouped by person for evidence.
  std::vector<Contribution>& contrib = sc.contributions;
  std::sort(contrib.begin(), contrib.end(), [](const Contribution& a, const Contribution& b) {
    return a.person < b.person || (a.person == b.person && (a.amount > b.amount || (a.amount == b.amount && a.doc < b.doc)));
  });
  std::vector<Expert> out;
  std::vector<std::pair<uint32_t, uint32_t>> topic_counts;
  std::vector<uint32_t> topic_ids;
  for (size_t i = o.offset; i < want; ++i) {
    const Scored& x = scored[i];
    const PersonInfo& info = s.person(x.p);
    Expert e;
    e.person = x.p;
    e.id = info.id;
    e.name = info.name;
    e.score = tier(x) == 1 ? std::min(x.score, upper_min) : x.score;
    e.components = {{"vote", x.vote},       {"ppr", x.ppr},           {"prior", x.prior},
                    {"recent", x.recent},   {"topic", x.topic},       {"contact", x.contact},
                    {"vote_raw", x.vote_raw}, {"ppr_raw", x.ppr_raw}};
    if (o.model != nullptr) e.components.emplace_back("model", x.model);
    if (!o.explain) {
      out.push_back(std::move(e));
      continue;
    }
    e.last_active = internal::LastVisibleActivity(s, x.p, filter);
    auto lo = std::lower_bound(contrib.begin(), contrib.end(), x.p,
                               [](const Contribution& c, uint32_t p) { return c.person < p; });
    int answered = 0, accepted = 0, asked = 0, wrote = 0, threads = 0, mentioned = 0;
    topic_counts.clear();
    auto hi = lo;
    while (hi != contrib.end() && hi->person == x.p) ++hi;
    SelectEvidence(s, std::span<const Contribution>(lo, hi), o.max_evidence, &e.evidence);
    for (auto it = lo; it != hi; ++it) {
      switch (it->role) {
        case Role::kAccepted: ++accepted; [[fallthrough]];
        case Role::kAnswer: ++answered; break;
        case Role::kQuestion: ++asked; break;
        case Role::kAuthor: ++wrote; break;
        case Role::kThread: ++threads; break;
        case Role::kMention: ++mentioned; break;
      }
      for (uint32_t t : s.DocTopics(it->doc)) {
        auto tc = std::find_if(topic_counts.begin(), topic_counts.end(), [&](const auto& q) { return q.first == t; });
        if (tc == topic_counts.end()) {
          topic_counts.emplace_back(t, 1);
        } else {
          ++tc->second;
        }
      }
    }
    // The matching documents' topics: first the query's own (its
    // kQueryTopics most characteristic, computed by Score) that the person's
    // matches carry, at most kWhyQueryTopics of them and in the query's order
    // ("blas-lapack" for "LAPACK", not a big generic topic the matches also
    // carry), then by the person's strength in them (engine/topic_strength.h,
    // what sets people apart), then by matching documents. Without a matching
    // document: the query's topics the person has written on.
    const bool evidence = x.vote_raw > 0;
    const bool weak = evidence && o.evidence_first && tier(x) == 1;
    if (!evidence) {
      for (uint32_t t : query_topics) topic_counts.emplace_back(t, 0);
    }
    {
      topic_ids.clear();
      for (const auto& tc : topic_counts) topic_ids.push_back(tc.first);
      TopicStrengthOptions so;
      so.group_mask = filter.mask;
      so.max_docs = PersonActivity::kStrengthDocs;  // bounded per expert; older documents count little
      std::vector<double> strength;
      if (o.activity == nullptr || !o.activity->TopicStrengths(s, x.p, so, topic_ids, &strength)) {
        strength = TopicStrengthsOf(s, x.p, topic_ids, so);
      }
      std::vector<size_t> order(topic_counts.size());
      for (size_t i = 0; i < order.size(); ++i) order[i] = i;
      // The first kWhyQueryTopics query topics the matches carry lead, in the query's order.
      std::vector<size_t> query_rank(topic_counts.size(), query_topics.size());
      size_t leading = 0;
      for (size_t q = 0; q < query_topics.size() && leading < kWhyQueryTopics; ++q) {
        for (size_t i = 0; i < topic_counts.size(); ++i) {
          if (topic_counts[i].first != query_topics[q]) continue;
          query_rank[i] = q;
          ++leading;
          break;
        }
      }
      std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        if (query_rank[a] != query_rank[b]) return query_rank[a] < query_rank[b];
        if (strength[a] != strength[b]) return strength[a] > strength[b];
        if (topic_counts[a].second != topic_counts[b].second) return topic_counts[a].second > topic_counts[b].second;
        return s.topic_name(topic_counts[a].first) < s.topic_name(topic_counts[b].first);
      });
      for (size_t t = 0; t < order.size() && t < o.max_topics; ++t) {
        if (!evidence && !(strength[order[t]] > 0)) break;
        e.topics.push_back(s.topic_name(topic_counts[order[t]].first));
      }
    }

    std::vector<std::string> parts;
    if (answered) {
      parts.push_back(accepted ? absl::StrFormat("answered %d matching question%s (%d accepted)", answered,
                                                 answered == 1 ? "" : "s", accepted)
                               : absl::StrFormat("answered %d matching question%s", answered, answered == 1 ? "" : "s"));
    }
    if (wrote) parts.push_back(absl::StrFormat("wrote %d matching message%s", wrote, wrote == 1 ? "" : "s"));
    if (asked) parts.push_back(absl::StrFormat("asked %d matching question%s", asked, asked == 1 ? "" : "s"));
    if (threads) parts.push_back(absl::StrFormat("took part in %d matching thread%s", threads, threads == 1 ? "" : "s"));
    if (mentioned) parts.push_back(absl::StrFormat("mentioned in %d matching document%s", mentioned, mentioned == 1 ? "" : "s"));
    if (!evidence) {  // how the candidate got in without a matching document
      if ((x.via & kViaTopic) || !e.topics.empty()) parts.push_back("writes on the question's topics");
      if (x.via & kViaRecent) parts.push_back("among the most active lately in the matches' communities");
      if (x.ppr_raw > 0) parts.push_back("connected to the matching discussions in the graph");
    }
    if (x.contact > 0) parts.push_back("has shared threads with the asker");  // AskOptions::asker
    if (parts.empty()) parts.push_back("connected to the matching discussions");
    std::string reason = absl::StrJoin(parts, ", ");
    if (!evidence) reason = absl::StrCat("no matching document; ", reason);
    if (weak) reason = absl::StrCat(WeakEvidencePrefix(x.vote), reason);
    if (e.last_active != 0) absl::StrAppend(&reason, ", last active ", FormatDate(e.last_active));
    if (!e.topics.empty()) absl::StrAppend(&reason, "; topics: ", absl::StrJoin(e.topics, ", "));
    if ((!evidence || weak) && any_evidence && o.evidence_first) absl::StrAppend(&reason, LowerTierSuffix(o.min_vote_share));
    e.reason = std::move(reason);
    out.push_back(std::move(e));
  }
  return out;
}

std::string WeakEvidencePrefix(double vote_share) {
  return absl::StrCat(kWeakEvidenceHead, VotePercent(vote_share), " % of the best); ");
}

std::string LowerTierSuffix(double min_vote_share) {
  return min_vote_share > 0 ? absl::StrCat("; listed after everyone with more matching evidence (vote at least ",
                                           VotePercent(min_vote_share), " % of the best)")
                            : std::string("; listed after everyone with a matching document");
}

std::vector<Expert> RankByPopularity(const Snapshot& s, const PopularityOptions& o) {
  const internal::DocFilter filter = internal::MakeFilter(s, o.group_mask, o.from, o.to, {});
  std::vector<uint8_t> excluded(s.num_persons(), 0);
  for (const std::string& id : o.exclude_persons) {
    const uint32_t p = s.FindPerson(id);
    if (p != kNone) excluded[p] = 1;
  }
  std::vector<std::pair<uint32_t, uint32_t>> counts;  // (person, messages)
  for (uint32_t p = 0; p < s.num_persons(); ++p) {
    if (excluded[p] || s.person(p).opted_out) continue;
    uint32_t n = 0;
    for (uint32_t d : s.PersonDocs(p)) {
      const auto kind = s.doc(d).kind;
      if (kind == indexer::RecordKind::kQuestion || kind == indexer::RecordKind::kComment) continue;
      n += filter.Visible(s, d);
    }
    if (n > 0) counts.emplace_back(p, n);
  }
  const size_t want = std::min(counts.size(), o.offset + o.k);
  std::partial_sort(counts.begin(), counts.begin() + static_cast<std::ptrdiff_t>(want), counts.end(),
                    [&](const auto& a, const auto& b) {
                      return a.second > b.second || (a.second == b.second && s.person(a.first).id < s.person(b.first).id);
                    });
  std::vector<Expert> out;
  for (size_t i = o.offset; i < want; ++i) {
    const auto [p, n] = counts[i];
    Expert e;
    e.person = p;
    e.id = s.person(p).id;
    e.name = s.person(p).name;
    e.score = n;
    e.components = {{"messages", static_cast<double>(n)}};
    e.last_active = internal::LastVisibleActivity(s, p, filter);
    e.reason = absl::StrFormat("%d answers/messages", n);
    if (e.last_active != 0) absl::StrAppend(&e.reason, ", last active ", FormatDate(e.last_active));
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace whoknows::engine

#ifndef WHOKNOWS_ENGINE_RANK_H_
#define WHOKNOWS_ENGINE_RANK_H_

// "Who knows about X": expert ranking over BM25 hits from the indexer.
//
// 1. Voting (Balog et al.'s Model 2): every visible hit document that passes
//    the filters gives its normalised BM25 score (score / best score) to its
//    people, times a role weight and a time decay 2^(-age / half_life):
//      answer author w_answer (+ w_accepted when accepted), question asker
//      w_asker, mail/chat/post/comment author w_author, mentioned w_mention,
//      authors of the other visible docs in the hit's thread w_thread
//      (+ w_accepted * w_thread for an accepted answer). One role (the
//      strongest) per person per document.
//    Q&A: the thread is the unit of expertise. An answer is scored with the
//    better of its own BM25 score and its question's (credit_answerers), so
//    the answerer is credited with the question they answered even when the
//    answer's own text is short or missing; answers carry the question's
//    topics (tags) already (Snapshot::DocTopics).
// 2. Propagation: personalized PageRank (forward push) over the snapshot
//    graph, seeded by the voting mass on person vertices and the hit mass on
//    doc vertices, skipping edges the caller cannot see.
// 3. Candidates: the people of the hits (and of the PPR mass), plus people
//    strong on the query's topics (authors of the docs of its top topic
//    vertices) and people recently active in the hits' communities.
// 4. Blend of components, each normalised by its maximum over candidates:
//      w_vote * vote + w_ppr * ppr + w_prior * prior + w_recent * recent
//      + w_topic * topic + w_contact * contact
//    prior   = log(1 + answers + accepted + replies), all visible docs
//    recent  = the same count over the recent_days before `now`
//    topic   = person-topic strength: sum over the query's topics t (from the
//              hit docs' topics, weighted by hit mass * idf; or the question's
//              own tags, AskOptions::query_topics, weighted by idf) of
//              q(t) * log(1 + the person's docs on t)
//    contact = log(1 + interactions) between the asker and the person in the
//              contact graph (replies, shared threads); 0 without an asker
//    The graph components are ppr, topic and contact (Method::kNoGraph drops
//    them and the topic candidates).
//    With a learned model (AskOptions::model) its score replaces the blend.
// 5. Order: people with direct evidence (a vote: they wrote, answered, asked,
//    were mentioned in or took part in a matching document's thread) come
//    first, by score; people without any (candidates from propagation, topic
//    profiles or recent activity) follow them, by score, and their why says
//    so and how they got in (AskOptions::evidence_first). A vote under
//    AskOptions::min_vote_share of the best one counts as weak evidence: that
//    person follows with them. Lower-tier scores are capped at the lowest
//    upper-tier score, so scores never rise down the list.
// Every component is reported per expert.

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "whoknows/engine/person_activity.h"
#include "whoknows/engine/ppr.h"
#include "whoknows/engine/snapshot.h"
#include "whoknows/indexer/index.h"

namespace whoknows::engine {

class RankModel;  // whoknows/engine/rank_model.h

enum class Method {
  kWhoknows,    // the full blend
  kPopularity,  // most answers/messages (ignores the query)
  kBm25Voting,  // Model 2 voting only: no graph, decay, prior or thread votes
  kNoPpr,
  kNoDecay,
  kNoThread,
  kNoPrior,
  kRecentPopularity,  // most answers/messages in the recent_days before `now`
  kNoGraph,           // whoknows without ppr, topic, contact and topic candidates
};
// "whoknows", "popularity", "bm25-voting", "whoknows-no-ppr", "whoknows-no-decay",
// "whoknows-no-thread", "whoknows-no-prior", "recent-popularity", "whoknows-no-graph".
std::string_view MethodName(Method m);
absl::StatusOr<Method> ParseMethod(std::string_view name);
std::vector<Method> AllMethods();

struct AskOptions {
  size_t k = 10;
  size_t offset = 0;
  GroupBits group_mask = kAllGroups;          // the caller's groups (Snapshot::GroupMask)
  std::vector<std::string> exclude_persons;   // person ids
  std::vector<std::string> topics;            // docs must carry any of these; empty = all
  // The question's own topics (the tags its asker supplied; not a filter): when any is known,
  // the query's topic distribution is these, idf-weighted, instead of the one inferred from
  // the hits' topics. It drives the topic component and the topic candidates.
  std::vector<std::string> query_topics;
  int64_t from = 0;                           // docs with timestamp < from are ignored (0 = unbounded)
  int64_t to = 0;                             // docs with timestamp >= to are ignored (0 = unbounded)
  int64_t now = 0;  // decay reference; 0 = the newest doc of each document's community

  double half_life_days = 365 * 2;     // mail, chat and generic posts
  double half_life_days_qa = 180;  // Stack Exchange questions, answers, comments
  bool use_decay = true;
  double w_answer = 1.0;
  double w_accepted = 2.0;  // routing validation (issue 10)
  double w_asker = 0.6;     // routing validation (issue 10)
  double w_author = 1.0;
  double w_comment = 0.0;  // Stack Exchange comment author
  double w_mention = 0.2;
  double w_thread = 1.0;     // other authors of a hit's mail/chat thread
  double w_thread_qa = 0.0;  // other authors of a hit's Q&A thread (answers now carry the question's score)
  size_t max_thread_docs = 200;  // thread expansion per hit is capped

  // Q&A: an answer is also scored with its question's BM25 score (Model 2
  // with the thread text as the answer's document).
  bool credit_answerers = true;

  double w_vote = 1.0;
  double w_ppr = 0.1;
  double w_prior = 0.7;
  double w_recent = 0.0;
  double recent_days = 365;  // window of `recent` and of kRecentPopularity
  double w_topic = 0.0;
  double w_contact = 0.0;
  // Person id of who asks ("" = unknown): the contact component measures the
  // candidate's interactions with them. Not excluded unless listed there too.
  std::string asker;
  // false: no graph component at all (ppr, topic, contact, topic candidates).
  bool use_graph = true;
  size_t topic_candidates = 50;   // extra candidates from the query's top topics (0 = none)
  size_t recent_candidates = 50;  // extra candidates from recent activity (0 = none)
  // false: skip evidence, topics and reasons (ids, scores and components only).
  bool explain = true;
  // A learned ranker (rank_model.h): when set, candidates are ordered by its
  // score over FeatureNames() instead of the blend (bm25-voting ignores it).
  std::shared_ptr<const RankModel> model;
  PprOptions ppr{.alpha = 0.4, .r_max = 1e-5};  // group_mask is taken from group_mask above

  size_t max_evidence = 5;
  size_t max_topics = 5;
  Method method = Method::kWhoknows;
  // Precomputed per-person counts of this snapshot (PersonActivity::Build):
  // when set, the prior/recent/activity components read them in O(log docs)
  // per candidate instead of scanning the candidate's documents (same values).
  // Built from another snapshot, it is ignored.
  std::shared_ptr<const PersonActivity> activity;
  // Step 5 above: people with a matching document before everyone without
  // one. false: one list by score (the learned model may then put active
  // people without any evidence above the only author of a rare term).
  bool evidence_first = true;
  // With evidence_first: a person whose normalised vote (the "vote"
  // component, vote_raw over the query's best vote_raw) is below this share
  // has only weak evidence (say, one common word of the question in a few
  // messages) and is listed with the people without any, after everyone with
  // strong evidence. 0: any vote counts. A lower-tier expert's score is capped
  // at the lowest upper-tier score among all candidates, so scores never rise
  // down the list (the "model" component keeps the learned score).
  double min_vote_share = 0.1;
};

// Step 5's upper tier (AskOptions::evidence_first, min_vote_share): a person
// with raw vote `vote_raw`, `vote_share` of the query's best, has strong
// matching evidence. RankExperts and the delta merge both order by it.
inline bool UpperTier(bool evidence_first, double min_vote_share, double vote_raw, double vote_share) {
  return evidence_first && vote_raw > 0 && !(vote_share < min_vote_share);
}

// The words an expert's reason carries in the lower tier (RankExperts and the
// delta merge): WeakEvidencePrefix before a reason with a vote of
// `vote_share` of the best, LowerTierSuffix after every lower-tier reason
// when someone has a vote.
std::string WeakEvidencePrefix(double vote_share);
std::string LowerTierSuffix(double min_vote_share);
inline constexpr char kWeakEvidenceHead[] = "little matching evidence (vote ";

// `base` with the components `method` removes switched off.
AskOptions WithMethod(AskOptions base, Method method);

struct Evidence {
  uint32_t docid = 0;
  double contribution = 0;  // vote mass this doc gave the person
  std::string role;         // "answer", "accepted-answer", "question", "author", "mention", "thread"
};

struct Expert {
  uint32_t person = kNone;  // person index in the snapshot
  std::string id;
  std::string name;
  double score = 0;
  std::vector<std::pair<std::string, double>> components;  // "vote", "ppr", "prior", "recent", "topic", "contact" (normalised), "vote_raw", "ppr_raw"
  std::vector<Evidence> evidence;                          // best first
  std::vector<std::string> topics;                          // from visible evidence docs
  int64_t last_active = 0;                                  // newest visible doc
  std::string reason;
};

// Ranks people for the query whose BM25 hits are `hits` (from the indexer,
// over the same snapshot). Hits whose docid is unknown to the snapshot, that
// the caller cannot see, or that fail the filters are ignored. Opted-out and
// excluded people are never returned. Thread-safe (per-thread scratch).
// Returns InvalidArgument for bad options (negative weights, alpha outside
// (0,1]); an empty vector when nothing matches.
absl::StatusOr<std::vector<Expert>> RankExperts(const Snapshot& snapshot, std::span<const indexer::SearchHit> hits,
                                                const AskOptions& options);

struct PopularityOptions {
  size_t k = 10;
  size_t offset = 0;
  GroupBits group_mask = kAllGroups;
  int64_t from = 0;  // count docs with from <= timestamp < to (0 = unbounded)
  int64_t to = 0;
  std::vector<std::string> exclude_persons;
};

// Baseline: people with the most visible answers / messages (questions and
// comments do not count) in the window, ignoring the query. kRecentPopularity
// is this with from = now - recent_days (now = AskOptions::now, else the
// newest doc).
std::vector<Expert> RankByPopularity(const Snapshot& snapshot, const PopularityOptions& options);

// Voting only (step 1 above) into a dense per-person array, for reuse by
// connect: returns (person index, vote) for people with a positive vote,
// highest first. Applies visibility, filters and opt-out.
std::vector<std::pair<uint32_t, double>> VoteScores(const Snapshot& snapshot, std::span<const indexer::SearchHit> hits,
                                                    const AskOptions& options);

// Per-candidate features of the learned ranker, in this order: the six
// normalised components (vote, ppr, prior, recent, topic, contact), then
// log(1+vote_raw), log(1+activity), log(1+recent activity), acceptance ratio
// (accepted / answers), log(1+answers), log(1+questions), log(1+days since
// last active), the blend score. The graph features are ppr, topic, contact.
inline constexpr size_t kNumRankFeatures = 14;
const std::array<const char*, kNumRankFeatures>& FeatureNames();
struct CandidateFeatures {
  uint32_t person = kNone;
  std::array<float, kNumRankFeatures> x{};
};
// The candidates RankExperts would score for these hits and options, with
// their features (any order; no model is applied).
absl::StatusOr<std::vector<CandidateFeatures>> ExtractFeatures(const Snapshot& snapshot,
                                                               std::span<const indexer::SearchHit> hits,
                                                               const AskOptions& options);

// The candidate set RankExperts scores for these hits and options (person
// indices with a positive blended score, any order): what any ranking depth
// can reach. For eval's candidate recall.
absl::StatusOr<std::vector<uint32_t>> CandidatePeople(const Snapshot& snapshot,
                                                      std::span<const indexer::SearchHit> hits,
                                                      const AskOptions& options);

// The personalized PageRank that RankExperts runs (its propagation step): half
// the seed mass on the voted people (by vote), half on the hit documents (by
// hit mass), and options.ppr restricted to the caller's groups and window.
// `seeds` is empty when nothing votes (RankExperts then runs no PPR). For
// benchmarks and tests of the push as FindExperts uses it.
struct ExpertPpr {
  std::vector<Seed> seeds;
  PprOptions options;
};
absl::StatusOr<ExpertPpr> ExpertPprInput(const Snapshot& snapshot, std::span<const indexer::SearchHit> hits,
                                         const AskOptions& options);

// "YYYY-MM-DD" (UTC) for a Unix time.
std::string FormatDate(int64_t t);

}  // namespace whoknows::engine

#endif  // WHOKNOWS_ENGINE_RANK_H_

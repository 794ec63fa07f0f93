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
// 2. Propagation: personalized PageRank (forward push) over the snapshot
//    graph, seeded by the voting mass on person vertices and the hit mass on
//    doc vertices, skipping edges the caller cannot see.
// 3. Blend: w_vote * vote/max_vote + w_ppr * ppr/max_ppr + w_prior * prior,
//    prior = log(1 + answers + accepted) / log(1 + max over candidates),
//    counted over visible docs.
// Every component is reported per expert.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "whoknows/engine/ppr.h"
#include "whoknows/engine/snapshot.h"
#include "whoknows/indexer/index.h"

namespace whoknows::engine {

enum class Method {
  kWhoknows,    // the full blend
  kPopularity,  // most answers/messages (ignores the query)
  kBm25Voting,  // Model 2 voting only: no graph, decay, prior or thread votes
  kNoPpr,
  kNoDecay,
  kNoThread,
  kNoPrior,
};
// "whoknows", "popularity", "bm25-voting", "whoknows-no-ppr", "whoknows-no-decay",
// "whoknows-no-thread", "whoknows-no-prior".
std::string_view MethodName(Method m);
absl::StatusOr<Method> ParseMethod(std::string_view name);
std::vector<Method> AllMethods();

struct AskOptions {
  size_t k = 10;
  size_t offset = 0;
  GroupBits group_mask = kAllGroups;          // the caller's groups (Snapshot::GroupMask)
  std::vector<std::string> exclude_persons;   // person ids
  std::vector<std::string> topics;            // docs must carry any of these; empty = all
  int64_t from = 0;                           // docs with timestamp < from are ignored (0 = unbounded)
  int64_t to = 0;                             // docs with timestamp >= to are ignored (0 = unbounded)
  int64_t now = 0;  // decay reference; 0 = the newest doc of each document's community

  double half_life_days = 365 * 2;     // mail, chat and generic posts
  double half_life_days_qa = 180;  // Stack Exchange questions, answers, comments
  bool use_decay = true;
  double w_answer = 1.0;
  double w_accepted = 1.0;
  double w_asker = 0.3;
  double w_author = 1.0;
  double w_comment = 0.0;  // Stack Exchange comment author
  double w_mention = 0.2;
  double w_thread = 1.0;     // other authors of a hit's mail/chat thread
  double w_thread_qa = 0.25;  // other authors of a hit's Q&A thread
  size_t max_thread_docs = 200;  // thread expansion per hit is capped

  double w_vote = 1.0;
  double w_ppr = 0.1;
  double w_prior = 0.7;
  PprOptions ppr{.alpha = 0.4, .r_max = 1e-5};  // group_mask is taken from group_mask above

  size_t max_evidence = 5;
  size_t max_topics = 5;
  Method method = Method::kWhoknows;
};

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
  std::vector<std::pair<std::string, double>> components;  // "vote", "ppr", "prior" (raw and weighted)
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
// comments do not count) in the window, ignoring the query.
std::vector<Expert> RankByPopularity(const Snapshot& snapshot, const PopularityOptions& options);

// Voting only (step 1 above) into a dense per-person array, for reuse by
// connect: returns (person index, vote) for people with a positive vote,
// highest first. Applies visibility, filters and opt-out.
std::vector<std::pair<uint32_t, double>> VoteScores(const Snapshot& snapshot, std::span<const indexer::SearchHit> hits,
                                                    const AskOptions& options);

// "YYYY-MM-DD" (UTC) for a Unix time.
std::string FormatDate(int64_t t);

}  // namespace whoknows::engine

#endif  // WHOKNOWS_ENGINE_RANK_H_

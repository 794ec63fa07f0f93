#ifndef WHOKNOWS_ENGINE_CONNECT_MODEL_H_
#define WHOKNOWS_ENGINE_CONNECT_MODEL_H_

// Link prediction for "who should I connect with", as of any point in time:
//
// - InteractionGraph: person-person interactions of a snapshot with the time
//   each pair first replied (a doc whose reply_to parent has the other as
//   author, either way) and first became contacts (a reply, or both posting
//   in a thread of at most max_thread_contacts authors, as
//   Snapshot::contacts()). Everything "as of T" counts only events strictly
//   before T, so a ranking as of a past time sees no later interaction.
// - PredictLinks: the standard link-prediction baselines over the reply graph
//   (who replied to whom): common neighbours, Adamic-Adar, resource
//   allocation, Jaccard, candidates at distance two (networkx's definitions).
// - ConnectFeaturizer: candidates of a person (distance two in the reply
//   graph, personalized PageRank over the contact graph, the recently active)
//   with features (ConnectFeatureNames()).
// - ConnectHistory + ConnectModel: the organisation's own first interactions
//   label which features predict the next ones. For each history time T (a
//   fraction of the docs before `end`), each person active before T with a
//   first interaction in [T, end) (a reply with someone who was not yet a
//   contact at T) is one group, ranked as of T; an XGBoost ranker
//   (LtrBooster) learns from the groups. SuggestConnections uses the model
//   when ConnectOptions::model is set (the hand-tuned PPR ranking otherwise).
//
// Thread safety: InteractionGraph and ConnectModel are immutable (share
// them); a ConnectFeaturizer is thread-compatible (one per thread).

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "whoknows/engine/ltr_booster.h"
#include "whoknows/engine/rank_model.h"
#include "whoknows/engine/snapshot.h"

namespace whoknows::engine {

inline constexpr int64_t kNever = INT64_MAX;

class InteractionGraph {
 public:
  struct Edge {
    uint32_t to = 0;
    int64_t first_reply = kNever;    // first reply either way (kNever: none)
    int64_t first_contact = kNever;  // first reply or shared thread
    GroupBits mask = 0;              // groups of the justifying docs
  };
  // O(D + thread pairs); max_thread_contacts as SnapshotOptions.
  static std::shared_ptr<const InteractionGraph> Build(const Snapshot& snapshot, size_t max_thread_contacts = 50);

  uint32_t num_persons() const { return static_cast<uint32_t>(offsets_.size() - 1); }
  // Person p's pairs, sorted by `to`.
  std::span<const Edge> Row(uint32_t p) const {
    return std::span<const Edge>(edges_.data() + offsets_[p], offsets_[p + 1] - offsets_[p]);
  }
  size_t num_pairs() const { return edges_.size() / 2; }

 private:
  std::vector<uint32_t> offsets_{0};
  std::vector<Edge> edges_;
};

enum class LinkMethod { kCommonNeighbours, kAdamicAdar, kResourceAllocation, kJaccard };
std::string_view LinkMethodName(LinkMethod m);  // "common-neighbours", "adamic-adar", ...

// Scores of every person at distance two from p in the reply graph as of
// `as_of` (0 = all) under `mask`, best first (ties by person id), skipping
// persons with blocked[q] != 0 (blocked may be empty). Adamic-Adar sums
// 1/log(deg z), resource allocation 1/deg z over common neighbours z;
// Jaccard = |N(p) ∩ N(q)| / |N(p) ∪ N(q)|.
std::vector<std::pair<uint32_t, double>> PredictLinks(const Snapshot& snapshot, const InteractionGraph& graph,
                                                      uint32_t p, LinkMethod method, GroupBits mask, int64_t as_of,
                                                      std::span<const uint8_t> blocked);

inline constexpr size_t kNumConnectFeatures = 20;
const std::array<const char*, kNumConnectFeatures>& ConnectFeatureNames();

struct ConnectCandidate {
  uint32_t person = kNone;
  std::array<float, kNumConnectFeatures> x{};
};

struct ConnectFeatureOptions {
  GroupBits group_mask = kAllGroups;
  int64_t as_of = 0;                 // 0 = after the snapshot's newest doc, and each
                                     // community's recent activity and idle days by its own
                                     // clock (its newest doc): an archive ten years older than
                                     // the index's live list is not ten years idle
  size_t max_link_candidates = 200;  // best reply-graph Adamic-Adar at distance two
  size_t max_ppr_candidates = 100;   // best PPR over the contact graph
  size_t max_recent_candidates = 50;  // most active in the last recent_days, of the person's communities
  double recent_days = 365;
  double ppr_alpha = 0.15;
  double ppr_r_max = 1e-4;
  size_t topic_docs = 200;  // newest docs per person for topic similarity
};

class ConnectFeaturizer {
 public:
  // O(D + pairs) to count activity and degrees as of options.as_of.
  ConnectFeaturizer(const Snapshot& snapshot, const InteractionGraph& graph, const ConnectFeatureOptions& options);

  // Candidates for p with features (any order): never p, p's contacts as of
  // as_of, opted-out people, people not active before as_of, or `exclude`.
  std::vector<ConnectCandidate> Candidates(uint32_t p, std::span<const uint32_t> exclude = {});
  // Contacts of p as of as_of (sorted).
  std::vector<uint32_t> ContactsAsOf(uint32_t p) const;
  bool ActiveAsOf(uint32_t p) const { return activity_[p] > 0; }
  int64_t as_of() const { return as_of_; }

 private:
  const std::vector<std::pair<uint32_t, float>>& TopicVector(uint32_t p);
  bool Sees(const InteractionGraph::Edge& e) const { return (e.mask & o_.group_mask) != 0; }
  bool Reply(const InteractionGraph::Edge& e) const { return Sees(e) && e.first_reply < as_of_; }
  bool Contact(const InteractionGraph::Edge& e) const { return Sees(e) && e.first_contact < as_of_; }

  const Snapshot& s_;
  const InteractionGraph& g_;
  ConnectFeatureOptions o_;
  int64_t as_of_ = 0;
  std::vector<uint32_t> reply_deg_, contact_deg_, activity_, recent_, recent90_, new_contacts_;
  std::vector<float> wdeg_;  // weighted contact degree (reply 1, thread-only 0.5)
  std::vector<int64_t> last_active_;
  std::vector<int64_t> person_ref_;  // the clock p's recency is measured by (as_of_, or see as_of)
  // The most recently active people of each community (index: community, kNone's last), best first.
  std::vector<std::vector<uint32_t>> recent_top_;
  std::vector<std::vector<uint32_t>> communities_;  // per person, sorted (lazily)
  std::vector<uint8_t> topic_done_;  // topics_ and communities_ computed
  std::vector<std::vector<std::pair<uint32_t, float>>> topics_;
  // scratch (dense, reset per call)
  std::vector<double> cn_, aa_, ra_, ccn_, caa_, reserve_, residual_;
  std::vector<uint8_t> blocked_, in_;
};

struct ConnectTrainOptions {
  TrainOptions train;
  ConnectFeatureOptions features;  // as_of is set per history time
  // History times: these fractions of the docs before `end`, in time order.
  std::vector<double> history_fractions = {0.5, 0.6, 0.7, 0.8};
  size_t max_groups_per_time = 1000;  // sampled by a hash of the person id
};

struct ConnectHistoryGroup {
  int64_t as_of = 0;
  uint32_t person = kNone;
  std::vector<uint32_t> truth;  // first interactions in [as_of, end)
  std::vector<ConnectCandidate> candidates;
  std::vector<uint8_t> relevant;  // parallel to candidates
};

// The training groups (see the top). Only interactions strictly before `end`
// are labels, and every group is ranked as of its own time < end.
std::vector<ConnectHistoryGroup> ConnectHistory(const Snapshot& snapshot, const InteractionGraph& graph, int64_t end,
                                                const ConnectTrainOptions& options);

class ConnectModel {
 public:
  // FailedPrecondition when fewer than options.train.min_groups groups have a
  // relevant candidate (the hand-tuned ranking stays); Internal for XGBoost.
  static absl::StatusOr<std::shared_ptr<const ConnectModel>> Train(std::span<const ConnectHistoryGroup> groups,
                                                                  const ConnectTrainOptions& options);
  // Serialised form (a header line, then XGBoost's JSON model); InvalidArgument when malformed.
  static absl::StatusOr<std::shared_ptr<const ConnectModel>> FromBytes(std::string_view bytes);
  absl::StatusOr<std::string> ToBytes() const;

  absl::StatusOr<std::vector<float>> Predict(std::span<const ConnectCandidate> rows) const;
  size_t train_groups() const { return train_groups_; }
  size_t train_rows() const { return train_rows_; }
  const ConnectFeatureOptions& features() const { return features_; }

 private:
  ConnectModel() = default;
  std::unique_ptr<LtrBooster> booster_;
  ConnectFeatureOptions features_;
  size_t train_groups_ = 0, train_rows_ = 0;
};

// p's candidates (featurizer->Candidates) ordered by the model's score, best
// first (ties by person id), as (person, score, features). Internal for an
// XGBoost error.
struct RankedCandidate {
  uint32_t person = kNone;
  double score = 0;
  std::array<float, kNumConnectFeatures> x{};
};
absl::StatusOr<std::vector<RankedCandidate>> RankWithModel(const Snapshot& snapshot, ConnectFeaturizer* featurizer,
                                                           const ConnectModel& model, uint32_t p,
                                                           std::span<const uint32_t> exclude = {});

}  // namespace whoknows::engine

#endif  // WHOKNOWS_ENGINE_CONNECT_MODEL_H_

#ifndef WHOKNOWS_ENGINE_CONNECT_H_
#define WHOKNOWS_ENGINE_CONNECT_H_

// "Who should I connect with": forward-push PPR from a person over the
// snapshot graph (person-person reply edges, person-doc-topic paths) visible
// to the caller, discounted by popularity (score / degree^beta), excluding
// the person, their existing contacts and opted-out people. Link-prediction
// baselines (common neighbours, Adamic-Adar) over the contact graph.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "whoknows/engine/connect_model.h"
#include "whoknows/engine/ppr.h"
#include "whoknows/engine/rank.h"
#include "whoknows/engine/snapshot.h"
#include "whoknows/indexer/index.h"

namespace whoknows::engine {

enum class ConnectMethod { kWhoknows, kCommonNeighbors, kAdamicAdar };

struct ConnectOptions {
  size_t k = 10;
  GroupBits group_mask = kAllGroups;
  double beta = 0.0;    // popularity discount: ppr / degree^beta
  double w_graph = 1.0;  // weight of the normalised graph score
  double w_about = 1.0;  // weight of the normalised vote for `about_hits`; when about_hits is
                         // non-empty only people with a positive vote are suggested
  // Push budget: work <= 1 / (alpha * r_max) pushes. 1e-5 is ~10x cheaper on the synthetic
  // 1M-post corpus but loses most of r-devel's quality (hits@10 0.61 -> 0.07: the mass no longer
  // reaches people 3-4 hops away), so the default stays 1e-6 (bench/RESULTS.md
  // "SuggestConnections at 1M"; `serve --connect-r-max` chooses another).
  PprOptions ppr{.alpha = 0.15, .r_max = 1e-6};  // group_mask comes from group_mask above
  AskOptions about;  // voting weights/filters for about_hits (its group_mask is overridden)
  std::vector<std::string> exclude_persons;
  size_t max_reasons = 3;
  ConnectMethod method = ConnectMethod::kWhoknows;
  // The learned connect ranking (connect_model.h) replaces the hand-tuned PPR
  // graph score for kWhoknows when set; `interactions` must then be the
  // snapshot's InteractionGraph (built per call when null). Features are
  // counted as of `as_of` (0 = after the snapshot's newest doc).
  std::shared_ptr<const ConnectModel> model;
  std::shared_ptr<const InteractionGraph> interactions;
  int64_t as_of = 0;
};

struct Connection {
  uint32_t person = kNone;
  std::string id;
  std::string name;
  double score = 0;
  std::vector<std::pair<std::string, double>> components;  // "graph", "about", ...
  std::vector<std::string> mutual_contacts;      // names, up to max_reasons
  std::vector<std::string> shared_topics;        // up to max_reasons
  std::vector<std::string> communities_bridged;  // candidate's communities the person is not in
  std::string reason;
};

// NotFound if `person_id` is unknown; InvalidArgument for bad options.
// Thread-safe (per-thread scratch).
absl::StatusOr<std::vector<Connection>> SuggestConnections(const Snapshot& snapshot, std::string_view person_id,
                                                           std::span<const indexer::SearchHit> about_hits,
                                                           const ConnectOptions& options);

// Person indices of p's contacts visible under `mask`, sorted. O(degree).
std::vector<uint32_t> ContactsOf(const Snapshot& snapshot, uint32_t p, GroupBits mask);
// |N(a) ∩ N(b)| over the visible contact graph (merge of two sorted rows).
double CommonNeighbors(const Snapshot& snapshot, uint32_t a, uint32_t b, GroupBits mask);
// sum over common neighbours z of 1 / log(deg(z)) (visible degrees), as
// networkx.adamic_adar_index.
double AdamicAdar(const Snapshot& snapshot, uint32_t a, uint32_t b, GroupBits mask);

}  // namespace whoknows::engine

#endif  // WHOKNOWS_ENGINE_CONNECT_H_

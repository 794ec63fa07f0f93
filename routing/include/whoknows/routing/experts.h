#ifndef WHOKNOWS_ROUTING_EXPERTS_H_
#define WHOKNOWS_ROUTING_EXPERTS_H_

// The one hook between ranking and balance: re-ranks an engine expert list
// (best first) by load, used by FindExperts and by `eval --balance` alike.

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "whoknows/engine/rank.h"
#include "whoknows/indexer/index.h"
#include "whoknows/routing/routing.h"

namespace whoknows::routing {

// The source type of a question, from the documents it matched (`hits`,
// best first): kMail when more than half of the first `n` hits that
// `snapshot` knows are mail (indexer::RecordKind::kMail); kOther otherwise.
QuestionSource QuestionSourceOf(const engine::Snapshot& snapshot, std::span<const indexer::SearchHit> hits,
                                size_t n = 20);

// Reorders *experts with Balance() at `now`, with the settings of the
// question's source type `source` (QuestionSourceOf; OptionsForSource; a
// mail question whose settings differ says so in the reason), sets each one's score to the
// balanced score and adds the components "load" (routed in the window),
// "load_capacity" and "load_penalty" (in units of the pool's score spread),
// "outcome_factor" for people whose recent outcomes moved their answer chance
// (BalanceOptions::outcome_weight),
// and the load note to the reason. With `snapshot` (the one the experts were
// ranked on), each person's activity (documents authored) scales their
// capacity by BalanceOptions::activity_weight. InvalidArgument for bad options.
absl::Status BalanceExperts(std::vector<engine::Expert>* experts, const LoadModel& model, int64_t now,
                            const BalanceOptions& options, const engine::Snapshot* snapshot = nullptr,
                            QuestionSource source = QuestionSource::kOther);

// How many candidates to rank so that balancing can lift people from below
// the page: offset + k + 1, at least options.pool.
size_t BalanceDepth(size_t offset, size_t k, const BalanceOptions& options);

}  // namespace whoknows::routing

#endif  // WHOKNOWS_ROUTING_EXPERTS_H_

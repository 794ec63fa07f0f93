#include "whoknows/routing/experts.h"

#include <algorithm>

#include "whoknows/engine/snapshot.h"

namespace whoknows::routing {

absl::Status BalanceExperts(std::vector<engine::Expert>* experts, const LoadModel& model, int64_t now,
                            const BalanceOptions& options, const engine::Snapshot* snapshot) {
  std::vector<Candidate> cands;
  cands.reserve(experts->size());
  for (const engine::Expert& e : *experts) {
    double activity = 0;
    if (snapshot != nullptr && e.person < snapshot->num_persons()) activity = snapshot->person(e.person).doc_count;
    cands.push_back({e.id, e.score, activity});
  }
  absl::StatusOr<std::vector<BalancedCandidate>> order = Balance(cands, model, now, options);
  if (!order.ok()) return order.status();
  std::vector<engine::Expert> out;
  out.reserve(experts->size());
  for (const BalancedCandidate& b : *order) {
    engine::Expert e = std::move((*experts)[b.index]);
    if (!b.note.empty()) {  // inside the pool
      e.score = b.score;
      e.components.emplace_back("load", static_cast<double>(b.load.routed));
      e.components.emplace_back("load_capacity", b.capacity);
      e.components.emplace_back("load_penalty", b.penalty);
      if (b.outcome_factor != 1.0) e.components.emplace_back("outcome_factor", b.outcome_factor);
      e.reason += e.reason.empty() ? b.note : "; " + b.note;
    }
    out.push_back(std::move(e));
  }
  *experts = std::move(out);
  return absl::OkStatus();
}

size_t BalanceDepth(size_t offset, size_t k, const BalanceOptions& options) {
  return std::max(offset + k + 1, options.pool);
}

}  // namespace whoknows::routing

#include "whoknows/routing/experts.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "absl/strings/str_format.h"
#include "whoknows/engine/snapshot.h"

namespace whoknows::routing {

QuestionSource QuestionSourceOf(const engine::Snapshot& snapshot, std::span<const indexer::SearchHit> hits,
                                size_t n) {
  size_t known = 0, mail = 0;
  for (const indexer::SearchHit& h : hits) {
    if (known == n) break;
    const uint32_t d = snapshot.DocIndex(h.docid);
    if (d >= snapshot.num_docs()) continue;  // not in this snapshot (e.g. ingested since)
    ++known;
    if (snapshot.doc(d).kind == indexer::RecordKind::kMail) ++mail;
  }
  return 2 * mail > known ? QuestionSource::kMail : QuestionSource::kOther;
}

absl::Status BalanceExperts(std::vector<engine::Expert>* experts, const LoadModel& model, int64_t now,
                            const BalanceOptions& given, const engine::Snapshot* snapshot, QuestionSource source) {
  if (!std::isfinite(given.mail_weight) || !std::isfinite(given.mail_share_cap) ||
      !std::isfinite(given.mail_free_load)) {
    return absl::InvalidArgumentError(
        "balance mail_weight, mail_share_cap and mail_free_load must be finite (< 0 = unset)");
  }
  const BalanceOptions options = OptionsForSource(given, source);
  std::string source_note;
  if (source == QuestionSource::kMail &&
      (given.mail_weight >= 0 || given.mail_share_cap >= 0 || given.mail_free_load >= 0)) {
    source_note = absl::StrFormat("mail question: balanced with weight %g, share cap %g, free load %g",
                                  options.weight, options.share_cap, options.free_load);
  }
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
      if (!source_note.empty()) e.reason += "; " + source_note;
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

#include "whoknows/engine/delta.h"

#include <algorithm>
#include <limits>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "whoknows/engine/rank.h"

namespace whoknows::engine {
namespace {

double* Component(Expert& e, const char* name) {
  for (auto& [k, v] : e.components) {
    if (k == name) return &v;
  }
  e.components.emplace_back(name, 0.0);
  return &e.components.back().second;
}

double VoteRaw(const Expert& e) {
  for (const auto& [k, v] : e.components) {
    if (k == "vote_raw") return v;
  }
  return 0;
}

// The reason's tier words as RankExperts writes them, for the merged tiers: a
// base expert whose vote is now weak against a newer best (or strong again),
// and a delta-only one.
void SetTierWording(Expert& e, bool upper, double raw, double best, double min_vote_share) {
  std::string& r = e.reason;
  if (absl::StartsWith(r, kWeakEvidenceHead)) {
    const size_t end = r.find("; ");
    r.erase(0, end == std::string::npos ? r.size() : end + 2);
  }
  const std::string suffix = LowerTierSuffix(min_vote_share);  // the base's, from the same options
  if (const size_t at = r.find(suffix); at != std::string::npos) r.erase(at, suffix.size());
  if (upper) return;
  if (raw > 0) r = absl::StrCat(WeakEvidencePrefix(best > 0 ? raw / best : 0), r);
  if (best > 0) r += suffix;
}

}  // namespace

std::vector<Expert> MergeDeltaExperts(std::vector<Expert> base, std::vector<Expert> delta, const DeltaMerge& m) {
  const double scale = m.base_best > 0 && m.delta_best > 0 ? m.delta_best / m.base_best : 1.0;
  // The base's vote normaliser: its largest raw vote (vote = vote_raw / that).
  double norm = 0;
  for (Expert& e : base) {
    const double v = *Component(e, "vote"), raw = *Component(e, "vote_raw");
    if (v > 0 && raw > 0) norm = std::max(norm, raw / v);
  }
  if (norm <= 0) {  // no base votes: the delta's largest one
    for (Expert& e : delta) norm = std::max(norm, *Component(e, "vote_raw") * scale);
  }
  bool changed = false;
  absl::flat_hash_map<std::string, size_t> at;
  for (size_t i = 0; i < base.size(); ++i) at.emplace(base[i].id, i);
  for (Expert& d : delta) {
    const double raw = *Component(d, "vote_raw") * scale;
    if (raw <= 0 || norm <= 0) continue;
    changed = true;
    SetTierWording(d, /*upper=*/true, 0, 0, m.min_vote_share);  // the delta's own tiers: set again below
    for (Evidence& ev : d.evidence) ev.contribution *= scale;
    auto it = at.find(d.id);
    if (it == at.end()) {
      Expert e;
      e.id = d.id;
      e.name = d.name;
      e.score = m.w_vote * raw / norm;
      e.components = {{"vote", raw / norm}, {"ppr", 0}, {"prior", 0}, {"recent", 0}, {"topic", 0}, {"contact", 0},
                      {"vote_raw", raw}, {"ppr_raw", 0}};
      e.evidence = std::move(d.evidence);
      e.topics = std::move(d.topics);
      e.last_active = d.last_active;
      e.reason = absl::StrCat(d.reason, " (documents ingested since the last snapshot merge)");
      at.emplace(e.id, base.size());
      base.push_back(std::move(e));
      continue;
    }
    Expert& e = base[it->second];
    const bool had_evidence = *Component(e, "vote_raw") > 0;
    e.score += m.w_vote * raw / norm;
    *Component(e, "vote_raw") += raw;
    *Component(e, "vote") += raw / norm;
    e.evidence.insert(e.evidence.end(), std::make_move_iterator(d.evidence.begin()),
                      std::make_move_iterator(d.evidence.end()));
    std::stable_sort(e.evidence.begin(), e.evidence.end(), EvidenceBefore);
    if (e.evidence.size() > m.max_evidence) e.evidence.resize(m.max_evidence);
    for (std::string& t : d.topics) {
      if (e.topics.size() >= m.max_topics) break;
      if (std::find(e.topics.begin(), e.topics.end(), t) == e.topics.end()) e.topics.push_back(std::move(t));
    }
    e.last_active = std::max(e.last_active, d.last_active);
    if (had_evidence) {
      absl::StrAppend(&e.reason, "; also ", d.reason, " (ingested since the last snapshot merge)");
    } else {  // the base's "no matching document" no longer holds
      e.reason = absl::StrCat(d.reason, " (documents ingested since the last snapshot merge)");
    }
  }
  if (!changed) return base;  // the base's own order (and tie-breaks) untouched
  // As RankExperts (AskOptions::evidence_first, min_vote_share): people with
  // strong matching evidence first, measured against the best merged vote.
  double best = norm;
  for (const Expert& e : base) best = std::max(best, VoteRaw(e));
  auto upper = [&](const Expert& e) {
    const double raw = VoteRaw(e);
    return UpperTier(m.evidence_first, m.min_vote_share, raw, best > 0 ? raw / best : 0);
  };
  std::stable_sort(base.begin(), base.end(), [&](const Expert& a, const Expert& b) {
    const bool ea = upper(a), eb = upper(b);
    if (ea != eb) return ea;
    return a.score != b.score ? a.score > b.score : a.id < b.id;
  });
  double upper_min = std::numeric_limits<double>::infinity();
  for (const Expert& e : base) {
    if (upper(e)) upper_min = std::min(upper_min, e.score);
  }
  for (Expert& e : base) {
    if (!upper(e)) e.score = std::min(e.score, upper_min);
    if (m.evidence_first) SetTierWording(e, upper(e), VoteRaw(e), best, m.min_vote_share);
  }
  return base;
}

}  // namespace whoknows::engine

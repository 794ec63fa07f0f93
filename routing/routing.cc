#include <algorithm>
#include <nlohmann/json.hpp>

#include "absl/strings/str_format.h"
#include "whoknows/base/strings.h"
#include "whoknows/indexer/index.h"
#include "whoknows/routing/routing.h"

namespace whoknows::routing {
namespace {

constexpr std::string_view kEntryTag = "r:";
constexpr std::string_view kAvailTag = "avail";

}  // namespace

std::string_view OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kPending: return "pending";
    case Outcome::kAnswered: return "answered";
    case Outcome::kDeclined: return "declined";
    case Outcome::kNoResponse: return "no-response";
    case Outcome::kHelpful: return "helpful";
  }
  return "pending";
}

absl::StatusOr<Outcome> ParseOutcome(std::string_view name) {
  for (Outcome o : {Outcome::kPending, Outcome::kAnswered, Outcome::kDeclined, Outcome::kNoResponse,
                    Outcome::kHelpful}) {
    if (OutcomeName(o) == name) return o;
  }
  if (name == "no_response") return Outcome::kNoResponse;
  return absl::InvalidArgumentError(
      absl::StrFormat("unknown outcome '%s' (answered, declined, no-response, helpful)", name));
}

std::string EntryKey(std::string_view person, std::string_view routing_id) {
  return absl::StrFormat("%s%s%s", indexer::PersonDataPrefix(person), kEntryTag, routing_id);
}

std::string AvailabilityKey(std::string_view person) {
  return absl::StrFormat("%s%s", indexer::PersonDataPrefix(person), kAvailTag);
}

std::string EncodeEntry(const RoutingEntry& e) {
  nlohmann::json j = {{"id", e.routing_id}, {"person", e.person},      {"q", e.question}, {"vis", e.visibility},
                      {"by", e.recorded_by}, {"t", e.time},            {"o", std::string(OutcomeName(e.outcome))},
                      {"ot", e.outcome_time}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string EncodeAvailability(std::string_view person, const Availability& a) {
  return nlohmann::json{{"person", std::string(person)}, {"away_until", a.away_until}, {"max_per_week", a.max_per_week}}
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

absl::StatusOr<std::string_view> DecodeMetadata(std::string_view key, std::string_view value, RoutingEntry* entry,
                                                Availability* avail) {
  const size_t sep = key.find('\x1f');
  if (sep == std::string_view::npos) return absl::InvalidArgumentError(absl::StrFormat("metadata %s: no person", key));
  const std::string_view tail = key.substr(sep + 1);
  try {
    const nlohmann::json j = nlohmann::json::parse(value);
    if (tail.starts_with(kEntryTag)) {
      RoutingEntry e;
      e.routing_id = j.at("id").get<std::string>();
      e.person = j.at("person").get<std::string>();
      e.question = j.value("q", "");
      e.visibility = j.value("vis", "internal");
      e.recorded_by = j.value("by", "");
      e.time = j.at("t").get<int64_t>();
      absl::StatusOr<Outcome> o = ParseOutcome(j.value("o", "pending"));
      if (!o.ok()) return absl::InvalidArgumentError(absl::StrFormat("metadata %s: %s", key, o.status().message()));
      e.outcome = *o;
      e.outcome_time = j.value("ot", int64_t{0});
      *entry = std::move(e);
      return std::string_view("entry");
    }
    if (tail == kAvailTag) {
      entry->person = j.at("person").get<std::string>();
      avail->away_until = j.value("away_until", int64_t{0});
      avail->max_per_week = j.value("max_per_week", uint32_t{0});
      return std::string_view("avail");
    }
  } catch (const nlohmann::json::exception& ex) {
    return absl::InvalidArgumentError(absl::StrFormat("metadata %s: %s", key, ex.what()));
  }
  return absl::InvalidArgumentError(absl::StrFormat("metadata %s: unknown kind", key));
}

std::string MakeRoutingId(std::string_view question, int64_t time, uint64_t salt) {
  uint64_t h = Fnv1a(question);
  h = Fnv1a(absl::StrFormat("%d/%d", time, salt), h);
  return absl::StrFormat("%016x", h);
}

std::string QuestionHash(std::string_view text) { return absl::StrFormat("h:%016x", Fnv1a(text)); }

// --- LoadModel

void LoadModel::Add(const RoutingEntry& e) {
  std::lock_guard<std::mutex> lock(mu_);
  PersonState& st = people_[e.person];
  for (RoutingEntry& x : st.entries) {
    if (x.routing_id == e.routing_id) {  // a rewrite of the same entry
      x = e;
      return;
    }
  }
  auto pos = std::upper_bound(st.entries.begin(), st.entries.end(), e.time,
                              [](int64_t t, const RoutingEntry& x) { return t < x.time; });
  st.entries.insert(pos, e);
  ++entries_;
  std::pair<int64_t, std::string> q(e.time, e.routing_id);
  auto qpos = std::lower_bound(questions_.begin(), questions_.end(), q);
  if (qpos == questions_.end() || *qpos != q) questions_.insert(qpos, std::move(q));
}

bool LoadModel::SetOutcome(std::string_view person, std::string_view routing_id, Outcome outcome, int64_t time) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = people_.find(absl::string_view(person.data(), person.size()));
  if (it == people_.end()) return false;
  for (RoutingEntry& x : it->second.entries) {
    if (x.routing_id == routing_id) {
      x.outcome = outcome;
      x.outcome_time = time;
      return true;
    }
  }
  return false;
}

void LoadModel::SetAvailability(std::string_view person, const Availability& a) {
  std::lock_guard<std::mutex> lock(mu_);
  PersonState& st = people_[std::string(person)];
  st.avail = a;
  st.has_avail = true;
  if (a.away_until > 0) {
    away_[std::string(person)] = a.away_until;
  } else {
    away_.erase(absl::string_view(person.data(), person.size()));
  }
}

void LoadModel::ErasePerson(std::string_view person) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = people_.find(absl::string_view(person.data(), person.size()));
  if (it == people_.end()) return;
  entries_ -= it->second.entries.size();
  people_.erase(it);
  away_.erase(absl::string_view(person.data(), person.size()));
  // questions_ keeps the routing ids: other people may share them, and a
  // question routed only to the erased person still happened.
}

void LoadModel::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  people_.clear();
  entries_ = 0;
  questions_.clear();
  away_.clear();
}

PersonLoad LoadModel::Get(std::string_view person, int64_t now, int64_t window, size_t recent_questions,
                          int64_t outcome_window) const {
  PersonLoad l;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = people_.find(absl::string_view(person.data(), person.size()));
  if (it == people_.end()) return l;
  const PersonState& st = it->second;
  l.capacity = st.avail.max_per_week;
  l.away_until = st.avail.away_until;
  auto hi = std::upper_bound(st.entries.begin(), st.entries.end(), now,
                             [](int64_t t, const RoutingEntry& x) { return t < x.time; });
  auto lo = std::upper_bound(st.entries.begin(), hi, now - window,
                             [](int64_t t, const RoutingEntry& x) { return t < x.time; });
  l.routed = static_cast<uint32_t>(hi - lo);
  if (recent_questions > 0) {
    auto qhi = std::upper_bound(questions_.begin(), questions_.end(), now,
                                [](int64_t t, const std::pair<int64_t, std::string>& q) { return t < q.first; });
    const size_t total = std::min<size_t>(recent_questions, static_cast<size_t>(qhi - questions_.begin()));
    l.recent_total = static_cast<uint32_t>(total);
    if (total > 0) {
      const std::pair<int64_t, std::string>& first = *(qhi - static_cast<std::ptrdiff_t>(total));
      for (auto e = hi; e != st.entries.begin();) {
        --e;
        if (std::make_pair(e->time, e->routing_id) < first) break;
        ++l.recent;
      }
    }
  }
  for (auto e = st.entries.begin(); e != hi; ++e) {
    switch (e->outcome) {
      case Outcome::kDeclined: ++l.declined; break;
      case Outcome::kNoResponse: ++l.no_response; break;
      case Outcome::kAnswered:
      case Outcome::kHelpful: ++l.answered; break;
      case Outcome::kPending: break;
    }
    if (e->outcome == Outcome::kPending || e->outcome_time > now ||
        (outcome_window > 0 && e->outcome_time <= now - outcome_window)) {
      continue;
    }
    if (e->outcome == Outcome::kAnswered || e->outcome == Outcome::kHelpful) {
      ++l.recent_answered;
    } else {
      ++l.recent_unanswered;
    }
  }
  return l;
}

std::vector<std::string> LoadModel::Away(int64_t now) const {
  std::vector<std::string> out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [p, until] : away_) {
    if (until > now) out.push_back(p);
  }
  std::sort(out.begin(), out.end());
  return out;
}

absl::StatusOr<RoutingEntry> LoadModel::Find(std::string_view person, std::string_view routing_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = people_.find(absl::string_view(person.data(), person.size()));
  if (it != people_.end()) {
    for (const RoutingEntry& x : it->second.entries) {
      if (x.routing_id == routing_id) return x;
    }
  }
  return absl::NotFoundError(absl::StrFormat("no routing %s to %s", routing_id, person));
}

std::vector<RoutingEntry> LoadModel::Entries(std::string_view person, size_t limit) const {
  std::vector<RoutingEntry> out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (person.empty()) {
      out.reserve(entries_);
      for (const auto& [p, st] : people_) out.insert(out.end(), st.entries.begin(), st.entries.end());
    } else if (auto it = people_.find(absl::string_view(person.data(), person.size())); it != people_.end()) {
      out = it->second.entries;
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const RoutingEntry& a, const RoutingEntry& b) {
    return a.time != b.time ? a.time > b.time : (a.routing_id != b.routing_id ? a.routing_id < b.routing_id
                                                                              : a.person < b.person);
  });
  if (limit > 0 && out.size() > limit) out.resize(limit);
  return out;
}

absl::StatusOr<Availability> LoadModel::GetAvailability(std::string_view person) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = people_.find(absl::string_view(person.data(), person.size()));
  if (it == people_.end() || !it->second.has_avail) return Availability{};
  return it->second.avail;
}

size_t LoadModel::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_;
}

LoadFigures ComputeLoadFigures(std::span<const uint32_t> counts, size_t questions) {
  LoadFigures f;
  f.questions = questions;
  if (counts.empty()) return f;
  std::vector<double> x(counts.begin(), counts.end());
  std::sort(x.begin(), x.end());
  double sum = 0, weighted = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sum += x[i];
    weighted += static_cast<double>(i + 1) * x[i];
    if (x[i] > 0) ++f.distinct_people;
  }
  if (questions > 0) f.max_share = x.back() / static_cast<double>(questions);
  if (sum > 0) {
    const double n = static_cast<double>(x.size());
    f.gini = (2 * weighted) / (n * sum) - (n + 1) / n;
  }
  return f;
}

}  // namespace whoknows::routing

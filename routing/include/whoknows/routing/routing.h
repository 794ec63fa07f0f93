#ifndef WHOKNOWS_ROUTING_ROUTING_H_
#define WHOKNOWS_ROUTING_ROUTING_H_

// Routing that does not burn out the experts.
//
// The routing log records which people a question was routed to and what
// came of it; availability records who is away and how many questions a week
// they accept. Both are personal data kept in the index's user metadata
// (indexer::IndexWriter::PutMetadata) under indexer::PersonDataPrefix(person),
// so they commit atomically, survive restarts and crashes, and are erased
// with the person. This library holds the plain parts: the entry encoding,
// the in-memory load model rebuilt from those entries, and the balance
// re-ranking (a pure function of a candidate list and the load model). No
// Xapian, no gRPC.

#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace whoknows::routing {

enum class Outcome { kPending = 0, kAnswered, kDeclined, kNoResponse, kHelpful };
// "pending", "answered", "declined", "no-response", "helpful".
std::string_view OutcomeName(Outcome o);
// Also accepts "no_response". InvalidArgument naming the value otherwise.
absl::StatusOr<Outcome> ParseOutcome(std::string_view name);

// One person's share of one routed question.
struct RoutingEntry {
  std::string routing_id;  // shared by every person the question went to
  std::string person;      // person id
  std::string question;    // question id or a hash of its text (never the text)
  std::string visibility;  // visibility group of the question ("internal" unless given)
  std::string recorded_by; // caller name
  int64_t time = 0;        // routed at (epoch seconds)
  Outcome outcome = Outcome::kPending;
  int64_t outcome_time = 0;
};

struct Availability {
  int64_t away_until = 0;     // not routed before this time (0 = available)
  uint32_t max_per_week = 0;  // capacity: routed questions per 7 days (0 = the server default)
};

// Metadata keys and values (JSON). Keys: PersonDataPrefix(person) + "r:" +
// routing id, and PersonDataPrefix(person) + "avail".
std::string EntryKey(std::string_view person, std::string_view routing_id);
std::string AvailabilityKey(std::string_view person);
std::string EncodeEntry(const RoutingEntry& e);
std::string EncodeAvailability(std::string_view person, const Availability& a);
// Parses one metadata (key, value) under a person's prefix; sets exactly one
// of *entry / *avail (for "avail", entry->person is the person) and returns
// which ("entry", "avail"), or InvalidArgument
// naming the key for anything malformed (the caller counts and skips it).
absl::StatusOr<std::string_view> DecodeMetadata(std::string_view key, std::string_view value, RoutingEntry* entry,
                                                Availability* avail);
// A stable routing id for a question routed at `time` (hex FNV-1a of both plus a salt).
std::string MakeRoutingId(std::string_view question, int64_t time, uint64_t salt);
// Hash of a question's text, for callers that have no id: "sha:" is not
// claimed; this is "h:" + 16 hex digits of FNV-1a.
std::string QuestionHash(std::string_view text);

// A person's load at some time.
struct PersonLoad {
  uint32_t routed = 0;      // routed questions in the window before now
  uint32_t recent = 0;      // of the last `recent_questions` routed questions (LoadModel::Get)
  uint32_t recent_total = 0;  // how many questions that window holds (<= recent_questions)
  uint32_t declined = 0;    // over the whole log
  uint32_t no_response = 0;
  uint32_t answered = 0;    // answered or helpful
  uint32_t capacity = 0;    // per week: the person's max_per_week, else 0
  int64_t away_until = 0;
  // Outcomes recorded in (now - outcome_window, now] (by outcome time; LoadModel::Get's outcome_window,
  // 0 = every outcome recorded up to now): answered or helpful, and no response or declined.
  uint32_t recent_answered = 0;
  uint32_t recent_unanswered = 0;
};

// In-memory view of the routing log and availability, rebuilt from the
// index at start-up and kept in step with every committed write.
// Thread-safe (one mutex; lookups are O(log n) per person).
class LoadModel {
 public:
  static constexpr int64_t kWeek = 7 * 86400;

  void Add(const RoutingEntry& e);
  // False when the person has no such routing.
  bool SetOutcome(std::string_view person, std::string_view routing_id, Outcome outcome, int64_t time);
  void SetAvailability(std::string_view person, const Availability& a);
  void ErasePerson(std::string_view person);
  void Clear();

  // Load of `person` at `now`: routings in (now - window, now], and among
  // the last `recent_questions` questions routed to anyone up to now.
  // Outcomes (recent_answered / recent_unanswered) count those recorded at or
  // before `now` and after now - outcome_window (0: all).
  PersonLoad Get(std::string_view person, int64_t now, int64_t window = kWeek, size_t recent_questions = 0,
                 int64_t outcome_window = 0) const;
  // People away at `now`.
  std::vector<std::string> Away(int64_t now) const;
  // The entry of (person, routing id), or NotFound.
  absl::StatusOr<RoutingEntry> Find(std::string_view person, std::string_view routing_id) const;
  // Entries (of `person`, or everyone when empty), newest first, at most `limit` (0 = all).
  std::vector<RoutingEntry> Entries(std::string_view person, size_t limit) const;
  absl::StatusOr<Availability> GetAvailability(std::string_view person) const;
  size_t size() const;

 private:
  struct PersonState {
    std::vector<RoutingEntry> entries;  // sorted by time
    Availability avail;
    bool has_avail = false;
  };
  mutable std::mutex mu_;
  absl::flat_hash_map<std::string, PersonState> people_;
  size_t entries_ = 0;
  std::vector<std::pair<int64_t, std::string>> questions_;  // (time, routing id), sorted, one per routing
  absl::flat_hash_map<std::string, int64_t> away_;  // people with an away_until set (Away() scans only these)
};

// --- the balance re-ranking
//
// Scores may have any sign and scale (the learned ranker's are pairwise
// margins, the blend's are positive), so load is charged in units of the
// pool's own score spread (the first candidate's score minus the last one's
// in the pool): each of the first `pool` candidates gets
//     score' = score - spread * (weight * u^exponent + decline_weight * decline_rate)
//     u = max(routed / capacity, recent_share / share_cap)
// where routed counts the questions routed to the person in the last
// window_days, capacity is their max_per_week (scaled to the window) or
// default_capacity; recent_share is the person's share of the last
// recent_questions questions routed to anyone (so load also counts where
// questions are rarer than one a week; share_cap 0 turns it off); decline_rate
// = (declined + no_response / 2) / (outcomes + 2) (smoothed so one decline does
// not sink anyone). A free person is charged nothing, so a loaded person is
// passed only by free people whose score is within weight * u^exponent of the
// spread below theirs: the swap is score-gap aware (a clear favourite keeps
// their place; a near tie goes to whoever is free).
//   activity_weight: capacity relative to the person's own history: a
// candidate's default capacity and share_cap are scaled by (1 +
// activity_weight * activity / the largest activity in the pool), so people
// who answer a lot can take more before they count as loaded.
//   keep_top_margin: the first candidate keeps the first place, whatever their
// load, when ahead of the second by at least this fraction of the spread (the
// rest are still balanced below them); < 0 turns it off.
//   route_k: > 0 re-ranks only who fills the first route_k places (the people
// a question is routed to): they are the route_k best by balanced score, listed
// in their original order, and everyone else follows in the original order, so
// a loaded person moved out of the routed places lands just below them instead
// of far down the list. 0 re-sorts the whole pool by balanced score.
// People at or over a capacity they set themselves (max_per_week) go after
// everyone under theirs, marked "at capacity". Only the first `pool`
// candidates are re-ranked (the rest keep their order below them), so a free
// but unrelated person far down the list never jumps to the top. weight = 0
// and decline_weight = 0 give back the input order.
struct BalanceOptions {
  // Defaults: the setting chosen on the validation splits of the four Stack
  // Exchange sites (routing) and r-devel (replies) together, with outcomes fed
  // back in the replay: the marginal-gain assignment below with feedback from
  // outcomes (README "Balanced routing", bench/RESULTS.md).
  double weight = 0.4;
  double exponent = 4.0;
  // Routed questions per week when the person set none. 6 (was 3): on a busy
  // mailing list (r-devel, ~9 threads a week) 3 bound before the share cap and
  // cost MRR; chosen with --balance-grid capacity (bench/RESULTS.md).
  double default_capacity = 6.0;
  double decline_weight = 0.5;
  double window_days = 7;
  size_t pool = 20;
  size_t recent_questions = 20;
  double share_cap = 0.4;  // a person holding this share of recent questions counts as full
  double activity_weight = 0;
  double keep_top_margin = -1;
  size_t route_k = 3;
  // Marginal-gain assignment (gain_depth > 0, with route_k > 0) instead of
  // the spread charge above: the route_k routed people are the set, chosen
  // among the first gain_depth candidates, that maximises
  //     expected reciprocal rank of the resulting list - sum of their load prices
  // where the list is the routed people in their original order, then the rest
  // of the pool in the original order (a busy person passed over lands just
  // below the routed ones, marked "busy"); the chance that candidate i is the
  // person who answers is softmax(gain_beta * (score_i - score_0) / spread)
  // over the pool; a person's load price is weight * u^exponent +
  // decline_weight * decline_rate (u as above), in units of reciprocal rank.
  // So a busy expert keeps a routed place where they are far ahead of the
  // next free candidate (passing them would cost much expected rank) and
  // gives it up where a near-equal free person exists: the opportunity cost is
  // per question. keep_top_margin is not used in this mode.
  size_t gain_depth = 6;
  double gain_beta = 4.0;
  // Feedback from recent outcomes (RecordOutcome), both modes: people who
  // answered the questions routed to them lately are lifted, people who let
  // them go unanswered (no response or declined) are lowered, before the load
  // is priced. Over the outcomes recorded in the last outcome_days, a
  // candidate's answer rate is shrunk towards the pool's rate rho (all
  // candidates' outcomes together) by outcome_prior pseudo-outcomes:
  //     m = ((answered + outcome_prior * rho) / (outcomes + outcome_prior)) / rho
  // and their chance of answering is multiplied by m^outcome_weight (the
  // score moves by spread * outcome_weight * ln(m) / gain_beta, the same thing
  // in score units); the pool is re-ordered by that score. Someone without
  // recent outcomes keeps m = 1. outcome_weight 0 turns it off. This counters
  // drift: who answers changes after the ranker was trained, and balancing
  // routes some questions to the next people, whose answers then count.
  double outcome_weight = 1.0;
  double outcome_prior = 2.0;
  double outcome_days = 90;
  // Per source type: a mail question (most of the pool's evidence is mail:
  // mailing-list threads, where several people reply to each question and a
  // few core members reply to most; routing::QuestionSourceOf) is balanced
  // with these in place of weight, share_cap and free_load
  // (routing::OptionsForSource); < 0 = the same as every other question.
  // Balance() itself ignores them.
  double mail_weight = -1;
  double mail_share_cap = -1;
  double mail_free_load = -1;
  // Loads below this fraction of full are free (both modes): the load term
  // is weight * x^exponent with x = max(0, u - free_load) / (1 - free_load),
  // so people under free_load x their capacity and share cap are never
  // passed for load, and the price still reaches weight at u = 1 (and rises
  // faster above it). 0 = the plain u^exponent; must be < 1.
  double free_load = 0;
};

// The source type of a question, for the per-source settings above.
enum class QuestionSource { kOther = 0, kMail };
std::string_view QuestionSourceName(QuestionSource s);  // "other", "mail"
// `o` with the settings of source `s` in place (for kMail: mail_weight,
// mail_share_cap and mail_free_load where >= 0); the per-source fields of the
// result are unset.
BalanceOptions OptionsForSource(const BalanceOptions& o, QuestionSource s);

struct Candidate {
  std::string person;
  double score = 0;
  double activity = 0;  // the person's past activity (e.g. documents authored); 0 = unknown
};

struct BalancedCandidate {
  size_t index = 0;       // into the input
  double score = 0;       // balanced score
  double penalty = 0;     // (score - balanced score) / spread: the load charge in spread units
  PersonLoad load;
  double capacity = 0;    // the capacity used (per window)
  bool at_capacity = false;
  std::string note;       // for the reason: "2 routed in 7 days of capacity 3, ... (-0.40 spread)"
  double outcome_factor = 1;  // m^outcome_weight (BalanceOptions::outcome_weight); 1 = no recent outcomes
};

// Re-ranks `candidates` (best first) by load at `now`. Returns one entry per
// input candidate, in the new order (stable for ties). InvalidArgument for a
// negative or non-finite option, window_days <= 0 or default_capacity <= 0.
absl::StatusOr<std::vector<BalancedCandidate>> Balance(std::span<const Candidate> candidates, const LoadModel& model,
                                                       int64_t now, const BalanceOptions& options);

// --- load figures of a replay
struct LoadFigures {
  double max_share = 0;         // largest fraction of routed questions that went to one person
  double gini = 0;              // Gini coefficient of routed counts over the population
  size_t distinct_people = 0;   // people routed at least one question
  size_t questions = 0;
};
// `counts`: routed questions per person over a population (zeros included).
LoadFigures ComputeLoadFigures(std::span<const uint32_t> counts, size_t questions);

}  // namespace whoknows::routing

#endif  // WHOKNOWS_ROUTING_ROUTING_H_

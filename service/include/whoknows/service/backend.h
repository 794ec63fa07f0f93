#ifndef WHOKNOWS_SERVICE_BACKEND_H_
#define WHOKNOWS_SERVICE_BACKEND_H_

// The local query backend: indexer (Xapian) + engine (graph snapshot) glue,
// shared by the CLI and the gRPC service. No gRPC types here.
//
// Thread-safe: queries run concurrently on the current snapshot (a
// shared_ptr swapped atomically after each commit); they never wait for
// ingest and never see half an update. Ingest/OptOut/Erase are serialised.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "whoknows/indexer/index.h"
#include "whoknows/indexer/record.h"
#include "whoknows/network/network.h"
#include "whoknows/ranker/ranker.h"
#include "whoknows/routing/routing.h"

namespace whoknows::service {

// Roles are not a line: reader < ingester < admin; service (queries + the
// routing log: RecordRouting, RecordOutcome, ListRoutings) and hr (queries +
// the talent network: GetTalentNetwork, GetTopicCoverage) sit beside
// ingester, above reader and below admin. RoleAllows() is the one check.
enum class Role { kReader = 0, kIngester = 1, kAdmin = 2, kService = 3, kHr = 4 };
// Whether a caller with role `have` may call a method that needs `need`.
bool RoleAllows(Role have, Role need);

// Who is asking. `groups` are the visibility groups the caller may see
// (e.g. "public", "internal", "partner-acme"); empty = every group (the
// local CLI and a server without --tokens).
struct Caller {
  std::string name = "local";
  std::vector<std::string> groups;
  Role role = Role::kAdmin;
  // The person this caller is (tokens file `person=<id>`); "" = nobody. Such a
  // caller may set its own availability and list its own routings.
  std::string person;
};

// The largest query text (FindExperts text, SuggestConnections about) in bytes:
// room for a whole question with its log, stack trace or the mail it came in.
// Long text is reduced to its most informative terms before retrieval.
inline constexpr size_t kMaxQueryBytes = 64 * 1024;

// InvalidArgument naming the limit when `text` is over kMaxQueryBytes;
// `what` names the field ("query text", "about text").
absl::Status CheckQuerySize(std::string_view what, std::string_view text);

struct ExpertsQuery {
  std::string text;                      // required, <= kMaxQueryBytes (64 KiB)
  size_t k = 10;                         // 1..1000
  size_t offset = 0;
  std::vector<std::string> communities;  // filters (empty = all)
  std::vector<std::string> topics;
  std::vector<std::string> exclude;      // person ids or identity keys
  int64_t from = 0, to = 0;              // time window, epoch seconds (0 = open)
  // Load-balanced ranking (routing/routing.h); unset = the server default.
  std::optional<bool> balance;
  // Who asks (person id or identity key; "" = unknown): their reply
  // neighbourhood feeds the ranking (engine::AskOptions::asker).
  std::string asker;
  // The strong-evidence tier (engine::AskOptions::min_vote_share; unset = its
  // default) and one list by score instead (!evidence_first).
  std::optional<double> min_vote_share;
  bool mix_evidence = false;
};

struct Evidence {
  std::string id;        // record id
  std::string title;     // title or first line
  std::string snippet;
  std::string source;
  std::string thread_id;
  std::string kind;      // question, answer, mail, ...
  std::string role;      // how the person relates: author, accepted-answer, asker, thread, mentioned
  int64_t timestamp = 0;
  double score = 0;
};

struct ExpertResult {
  std::string person_id;
  std::string name;
  double score = 0;
  std::vector<std::pair<std::string, double>> components;  // vote, ppr, prior, ...
  std::vector<Evidence> evidence;
  std::vector<std::string> topics;
  int64_t last_active = 0;
  std::string reason;
};

struct ExpertsAnswer {
  std::vector<ExpertResult> experts;
  bool has_more = false;  // another page exists after offset + k
  uint64_t documents_matched = 0;
  // Which ranker ordered the experts (ranker::Ranker::Describe()).
  std::string ranker;
};

struct ConnectQuery {
  std::string person;  // person id or identity key
  std::string about;   // optional focus text
  size_t k = 10;
};

struct ConnectionResult {
  std::string person_id;
  std::string name;
  double score = 0;
  std::vector<std::string> mutual_contacts;      // display names
  std::vector<std::string> shared_topics;
  std::vector<std::string> bridged_communities;  // communities of theirs the asker is not in
  std::string reason;
};

struct TopicStrength {
  std::string topic;
  double strength = 0;    // person-topic strength (engine/topic_strength.h)
  uint64_t documents = 0;
  // Added with person-topic strength; empty/zero from older servers.
  double share = 0;                                         // documents / the person's documents
  std::vector<std::pair<std::string, uint64_t>> by_role;    // role name -> documents (non-zero only)
  int64_t first_active = 0, last_active = 0;
  uint64_t recent = 0, previous = 0;                        // documents in the last trend window / the one before
  std::string trend;                                        // rising, declining, steady, inactive
};

struct ProfileResult {
  std::string person_id;
  std::string name;
  std::vector<std::string> aliases;
  bool opted_out = false;
  uint64_t documents = 0;
  int64_t first_active = 0, last_active = 0;
  std::vector<TopicStrength> topics;
  std::vector<Evidence> top_documents;
  std::vector<std::pair<std::string, uint64_t>> contacts;   // name, interactions
  std::vector<std::pair<int, uint64_t>> activity_by_year;   // year, documents
};

struct TopicResult {
  std::string topic;
  uint64_t documents = 0;
  std::vector<std::pair<std::string, double>> top_people;  // name, person-topic strength, strongest first
  double trend = 0;  // (docs in the last period + 1) / (docs in the period before + 1) (1 = flat)
  // Added with person-topic strength; empty/zero from older servers.
  uint64_t recent = 0, previous = 0;  // docs in the last period / the one before
  std::string direction;              // rising, declining, steady, inactive (engine::TrendOf)
  std::vector<std::string> spellings;  // the index's spellings merged into this topic
};

// `topics` lookups and listing (ListTopicsRequest).
struct TopicsQuery {
  size_t limit = 20;                // 0 = all
  std::vector<std::string> topics;  // only these, any spelling (Snapshot::FindTopic); empty = most documents first
  uint32_t period_days = 90;        // trend period
};

struct IngestCounts {
  uint64_t received = 0, indexed = 0, duplicates = 0, skipped = 0;
  std::vector<std::pair<std::string, uint64_t>> skipped_by_reason;
};

struct BackendOptions {
  bool writable = false;  // hold the index's single writer (server / ingest)
  indexer::IndexOptions index;
  size_t retrieve_n = 200;  // BM25 documents per query
  // Read from these shards (paths or tcp://HOST:PORT of xapian-tcpsrv)
  // instead of db_dir; with `writable`, write to them too.
  std::vector<std::string> shards;
  // > 0: a read-only replica. Every `follow_seconds` check whether the index
  // (e.g. a copy kept current by xapian-replicate) has a new revision and, if
  // so, build and swap in a new snapshot. GetStats reports the lag.
  double follow_seconds = 0;
  // Reuse SuggestConnections answers (without `about`) until the next
  // snapshot swap (ingest, replication): the same person asked again costs a
  // lookup instead of a personalized PageRank.
  bool connect_cache = true;
  // Reuse FindExperts answers until the next snapshot swap: the same request
  // (text, k, page, filters, exclusions, asker) from a caller with the same
  // groups, while the same people are away, costs a lookup. Not for balanced
  // calls (their answer depends on the routing load), nor over remote shards (a
  // shard that is down gives UNAVAILABLE). At most ~64 MB of answers.
  bool experts_cache = true;
  // SuggestConnections' push budget (engine::ConnectOptions::ppr.r_max); 0 = the engine default.
  double connect_r_max = 0;
  // FindExperts' push budget (engine::AskOptions::ppr.r_max); 0 = the engine default.
  double experts_r_max = 0;
  routing::BalanceOptions balance;  // the balance trade-off (README "Balanced routing")
  bool balance_by_default = false;  // FindExperts without an explicit balance option
  // The learned ranker (ranker/ranker.h): every backend serves the one stored in
  // the index (reloaded with each snapshot, so replicas follow the writer); a
  // writable one with train_ranker retrains it on a background thread when
  // ranker::NeedsTraining says so (at open and after each ingest). Off by
  // default (answers stay put unless asked); `whoknows serve` turns it on.
  bool train_ranker = false;
  ranker::RankerOptions ranker;
  // A writable single index whose snapshot holds at least delta_min_documents
  // documents: each Ingest makes its documents visible through a small delta
  // consulted by FindExperts (engine/delta.h) instead of a new snapshot, and a
  // background thread merges the delta into the snapshot (the other calls see
  // the new documents from then on). Smaller: each Ingest splices them into the
  // snapshot before returning (~0.2 s at 100k documents), visible to every call.
  size_t delta_min_documents = 100000;
  // false: only Backend::MergeDelta merges the delta (tests).
  bool merge_in_background = true;
};

// Backend::TrainRanker's answer.
struct RankerTraining {
  bool trained = false;       // false: the stored ranker was current (not forced)
  size_t history_now = 0;     // history queries in the index
  std::string ranker;         // the ranker now served (Describe())
  bool learned = false;
  double seconds = 0;         // wall time of the training
  double feature_seconds = 0, train_seconds = 0;  // of which: candidate features, XGBoost
};

// RecordRouting: a question routed to people.
struct RoutingRecord {
  std::string question_id;    // record id of the question, or
  std::string question_text;  // its text (only a hash is stored)
  std::vector<std::string> people;  // person ids or identity keys, 1..100
  int64_t time = 0;                 // epoch seconds; 0 = now
  std::string visibility;           // group of the question; "" = "internal"
};

class Backend {
 public:
  // Opens (and with options.writable creates) the index at `db_dir` and
  // builds the first snapshot.
  static absl::StatusOr<std::unique_ptr<Backend>> Open(const std::string& db_dir, const BackendOptions& options);
  virtual ~Backend() = default;

  // InvalidArgument: empty text or text over kMaxQueryBytes, k == 0 or > 1000.
  virtual absl::StatusOr<ExpertsAnswer> FindExperts(const ExpertsQuery& q, const Caller& caller) = 0;
  // NotFound: unknown person.
  virtual absl::StatusOr<std::vector<ConnectionResult>> SuggestConnections(const ConnectQuery& q,
                                                                           const Caller& caller) = 0;
  virtual absl::StatusOr<ProfileResult> GetPerson(const std::string& person, const Caller& caller) = 0;
  virtual absl::StatusOr<std::vector<TopicResult>> ListTopics(size_t limit, const Caller& caller) = 0;
  virtual absl::StatusOr<indexer::IndexStats> GetStats() = 0;
  // Adds records (bad ones counted), commits, and swaps in a new snapshot
  // before returning. FailedPrecondition when not writable.
  virtual absl::StatusOr<IngestCounts> Ingest(std::vector<indexer::Record> records,
                                              std::vector<std::pair<std::string, std::string>> bad) = 0;
  virtual absl::Status OptOut(const std::string& person, bool opted_out) = 0;
  virtual absl::StatusOr<uint64_t> Erase(const std::string& person) = 0;
  // Talent network (network/network.h) over what `caller` may see;
  // options.group_mask is replaced by the caller's groups. Unimplemented by default.
  virtual absl::StatusOr<network::CoverageReport> GetTopicCoverage(const network::NetworkOptions& options,
                                                                   const Caller& caller);
  virtual absl::StatusOr<network::NetworkReport> GetTalentNetwork(const network::NetworkOptions& options,
                                                                  const Caller& caller);
  // Trains the learned ranker now (force, or when ranker::NeedsTraining),
  // stores it in the index and serves it. FailedPrecondition when not writable.
  virtual absl::StatusOr<RankerTraining> TrainRanker(bool force) {
    (void)force;
    return absl::UnimplementedError("TrainRanker");
  }
  // Number of documents / persons in the current snapshot.
  virtual uint64_t documents() const = 0;
  virtual uint64_t persons() const = 0;

  // --- routing log and availability (durable in the index, erased with the person)
  // Returns the routing id. NotFound for an unknown person; InvalidArgument
  // without a question or people; PermissionDenied for a visibility group the
  // caller may not see.
  virtual absl::StatusOr<std::string> RecordRouting(const RoutingRecord& r, const Caller& caller) {
    (void)r, (void)caller;
    return absl::UnimplementedError("RecordRouting");
  }
  // NotFound when `person` was not routed `routing_id`. time 0 = now.
  virtual absl::Status RecordOutcome(const std::string& routing_id, const std::string& person,
                                     routing::Outcome outcome, int64_t time, const Caller& caller) {
    (void)routing_id, (void)person, (void)outcome, (void)time, (void)caller;
    return absl::UnimplementedError("RecordOutcome");
  }
  // By an admin or the person's own caller (Caller::person); PermissionDenied otherwise.
  virtual absl::Status SetAvailability(const std::string& person, const routing::Availability& a,
                                       const Caller& caller) {
    (void)person, (void)a, (void)caller;
    return absl::UnimplementedError("SetAvailability");
  }
  // Newest first; only entries whose visibility group the caller sees. An
  // admin or service caller sees everyone's (person "" = all); a caller bound
  // to a person only their own.
  virtual absl::StatusOr<std::vector<routing::RoutingEntry>> ListRoutings(const std::string& person, size_t limit,
                                                                          const Caller& caller) {
    (void)person, (void)limit, (void)caller;
    return absl::UnimplementedError("ListRoutings");
  }
  // Topics with documents, trend and strongest people; q.topics looks
  // topics up in any spelling (unknown ones are left out). The default
  // serves q.limit and q.period_days 90 from ListTopics; InvalidArgument
  // for q.period_days 0.
  virtual absl::StatusOr<std::vector<TopicResult>> FindTopics(const TopicsQuery& q, const Caller& caller);
  // Merges documents ingested since the last snapshot (the delta) into it now
  // and returns when done: answers are then a fresh server's. No-op by default.
  virtual absl::Status MergeDelta() { return absl::OkStatus(); }
};

}  // namespace whoknows::service

#endif  // WHOKNOWS_SERVICE_BACKEND_H_

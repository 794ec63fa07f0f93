#ifndef WHOKNOWS_SERVICE_GRPC_CLIENT_H_
#define WHOKNOWS_SERVICE_GRPC_CLIENT_H_

// A client of a `whoknows serve` server, returning the same structs as the
// local Backend (so the CLI prints both alike). No gRPC types here.
// Thread-safe: calls may run concurrently on one client.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "whoknows/indexer/index.h"
#include "whoknows/service/backend.h"

namespace whoknows::service {

class RemoteClient {
 public:
  // `address` is HOST:PORT, or replicas as IP:PORT,IP:PORT,... (IP literals
  // of one family): one channel, calls spread round-robin. `token` (may be empty) is sent as
  // `authorization: Bearer <token>`. A non-empty `ca_file` (PEM) turns on TLS
  // and verifies the server against it. Connects lazily: an unreachable server
  // shows up as Unavailable on the first call. NotFound when ca_file cannot be read.
  static absl::StatusOr<std::unique_ptr<RemoteClient>> Connect(const std::string& address, const std::string& token,
                                                               const std::string& ca_file);
  ~RemoteClient();

  // Per-call deadline (default 30 s).
  void set_timeout_seconds(double seconds) { timeout_seconds_ = seconds; }

  // Errors are the server's status codes (InvalidArgument, NotFound,
  // Unauthenticated, PermissionDenied, Unavailable, DeadlineExceeded, ...).
  // q.offset is sent as a page token.
  absl::StatusOr<ExpertsAnswer> FindExperts(const ExpertsQuery& q);
  absl::StatusOr<std::vector<ConnectionResult>> SuggestConnections(const ConnectQuery& q);
  absl::StatusOr<ProfileResult> GetPerson(const std::string& person);
  // Talent network (role hr or admin).
  absl::StatusOr<network::CoverageReport> GetTopicCoverage(const network::NetworkOptions& options);
  absl::StatusOr<network::NetworkReport> GetTalentNetwork(const network::NetworkOptions& options);
  absl::StatusOr<std::vector<TopicResult>> ListTopics(size_t limit);
  absl::StatusOr<std::vector<TopicResult>> FindTopics(const TopicsQuery& q);
  absl::StatusOr<indexer::IndexStats> GetStats();
  absl::Status OptOut(const std::string& person, bool opted_out);
  absl::StatusOr<uint64_t> Erase(const std::string& person);
  // Streams JSONL-shaped objects (one JSON object per string, fields as in
  // the Message proto) in one Ingest call; InvalidArgument for a string that
  // is not a JSON object with fields of the right types.
  absl::StatusOr<IngestCounts> Ingest(const std::vector<std::string>& json_messages);
  // The routing log (see Backend).
  absl::StatusOr<std::string> RecordRouting(const RoutingRecord& r);
  absl::Status RecordOutcome(const std::string& routing_id, const std::string& person, routing::Outcome outcome,
                             int64_t time);
  absl::Status SetAvailability(const std::string& person, const routing::Availability& a);
  absl::StatusOr<std::vector<routing::RoutingEntry>> ListRoutings(const std::string& person, size_t limit);

 private:
  struct Impl;
  explicit RemoteClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  double timeout_seconds_ = 30;
};

}  // namespace whoknows::service

#endif  // WHOKNOWS_SERVICE_GRPC_CLIENT_H_

#ifndef WHOKNOWS_SERVICE_API_H_
#define WHOKNOWS_SERVICE_API_H_

// The whoknows.v1 calls over a Backend, independent of the transport. The gRPC
// server (service/server.cc) and the HTTP/JSON server (http/) both call these,
// so authentication, roles, request validation, defaults, page tokens and the
// conversion to messages live in one place and both answer alike.
// Includes the generated .pb.h only (no gRPC).

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "whoknows/indexer/record.h"
#include "whoknows/service/backend.h"
#include "whoknows/service/tokens.h"
#include "whoknows/v1/whoknows.pb.h"

namespace whoknows::service {

class Api {
 public:
  // `tokens` nullptr: no authentication, every caller is a local admin who
  // sees every group. `backend` must outlive the Api.
  Api(Backend* backend, std::unique_ptr<TokenTable> tokens) : backend_(backend), tokens_(std::move(tokens)) {}

  // Checks `authorization` ("Bearer <token>", the header or metadata value)
  // and that the caller's role is at least `min`: Unauthenticated when
  // missing/unknown, PermissionDenied when the role does not allow `min`
  // (RoleAllows: service sits beside ingester, so it passes reader checks
  // but not ingester or admin ones).
  absl::StatusOr<Caller> Authorize(std::string_view authorization, Role min) const;
  bool has_tokens() const { return tokens_ != nullptr; }
  Backend* backend() const { return backend_; }

  // Role: reader. InvalidArgument for empty/over-long text, bad k, a
  // malformed page token; NotFound for an unknown person.
  absl::Status FindExperts(const Caller& caller, const v1::FindExpertsRequest& req,
                           v1::FindExpertsResponse* resp) const;
  absl::Status SuggestConnections(const Caller& caller, const v1::SuggestConnectionsRequest& req,
                                  v1::SuggestConnectionsResponse* resp) const;
  absl::Status GetPerson(const Caller& caller, const v1::GetPersonRequest& req, v1::GetPersonResponse* resp) const;
  absl::Status ListTopics(const Caller& caller, const v1::ListTopicsRequest& req, v1::ListTopicsResponse* resp) const;
  absl::Status GetStats(const Caller& caller, const v1::GetStatsRequest& req, v1::GetStatsResponse* resp) const;
  // Role: admin.
  absl::Status OptOut(const Caller& caller, const v1::OptOutRequest& req, v1::OptOutResponse* resp) const;
  absl::Status Erase(const Caller& caller, const v1::EraseRequest& req, v1::EraseResponse* resp) const;
  // Routing log and availability (issue 14). Role: service (or admin).
  absl::Status RecordRouting(const Caller& caller, const v1::RecordRoutingRequest& req,
                             v1::RecordRoutingResponse* resp) const;
  absl::Status RecordOutcome(const Caller& caller, const v1::RecordOutcomeRequest& req,
                             v1::RecordOutcomeResponse* resp) const;
  // Role: reader; the Backend further allows only an admin or the person's own
  // token (Caller::person).
  absl::Status SetAvailability(const Caller& caller, const v1::SetAvailabilityRequest& req,
                               v1::SetAvailabilityResponse* resp) const;
  // Role: reader; everyone's entries for service/admin, otherwise only the
  // caller's own person (Backend::ListRoutings).
  absl::Status ListRoutings(const Caller& caller, const v1::ListRoutingsRequest& req,
                            v1::ListRoutingsResponse* resp) const;

  // Role: hr or admin (RoleAllows). The talent network over what the caller
  // may see; InvalidArgument for out-of-range thresholds, NotFound for an
  // unknown community. GetTalentNetwork: include_svg adds the community map.
  absl::Status GetTopicCoverage(const Caller& caller, const v1::GetTopicCoverageRequest& req,
                                v1::GetTopicCoverageResponse* resp) const;
  absl::Status GetTalentNetwork(const Caller& caller, const v1::GetTalentNetworkRequest& req,
                                v1::GetTalentNetworkResponse* resp) const;

 private:
  Backend* backend_;
  std::unique_ptr<TokenTable> tokens_;
};

// The smallest role for each call (Ingest: kIngester).
constexpr Role kQueryRole = Role::kReader;
constexpr Role kIngestRole = Role::kIngester;
constexpr Role kAdminRole = Role::kAdmin;
constexpr Role kRoutingRole = Role::kService;  // RecordRouting, RecordOutcome

constexpr Role kTalentRole = Role::kHr;  // hr or admin, see RoleAllows

// One Ingest stream: messages go through the JSONL parser (so gRPC, HTTP and
// files share one parser) and are committed every `batch` messages and by
// Flush(); bad ones are counted by reason, never dropped silently.
class IngestStream {
 public:
  IngestStream(Backend* backend, std::string default_source, size_t batch)
      : backend_(backend), default_source_(std::move(default_source)), batch_(batch == 0 ? 5000 : batch) {}

  // Adds one message; commits when the batch is full (the error is the commit's).
  absl::Status Add(const v1::Message& m);
  // Counts a message that could not be decoded at all (`reason` e.g. "bad-json").
  absl::Status AddBad(std::string reason, std::string detail);
  // Commits what is pending; the documents are visible to queries after it.
  absl::Status Flush();
  const IngestCounts& total() const { return total_; }

 private:
  absl::Status MaybeFlush();

  Backend* backend_;
  std::string default_source_;
  size_t batch_;
  indexer::ReadOptions options_;
  std::vector<indexer::Record> records_;
  std::vector<std::pair<std::string, std::string>> bad_;
  IngestCounts total_;
};

// Message -> one JSONL object (the README's JSONL shape).
std::string MessageToJsonl(const v1::Message& m);

}  // namespace whoknows::service

#endif  // WHOKNOWS_SERVICE_API_H_

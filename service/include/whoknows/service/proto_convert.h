#ifndef WHOKNOWS_SERVICE_PROTO_CONVERT_H_
#define WHOKNOWS_SERVICE_PROTO_CONVERT_H_

// The one mapping between the Backend structs and the whoknows.v1 messages,
// shared by the gRPC server and client and the HTTP/JSON server. Includes the
// generated .pb.h only (no gRPC).

#include <vector>

#include "whoknows/indexer/index.h"
#include "whoknows/service/backend.h"
#include "whoknows/v1/whoknows.pb.h"

namespace whoknows::service {

// Backend struct -> message.
void ToProto(const Evidence& in, v1::Evidence* out);
void ToProto(const ExpertsAnswer& in, v1::FindExpertsResponse* out);  // not next_page_token
void ToProto(const std::vector<ConnectionResult>& in, v1::SuggestConnectionsResponse* out);
void ToProto(const ProfileResult& in, v1::GetPersonResponse* out);
void ToProto(const std::vector<TopicResult>& in, v1::ListTopicsResponse* out);
void ToProto(const indexer::IndexStats& in, v1::GetStatsResponse* out);
void ToProto(const IngestCounts& in, v1::IngestResponse* out);
void ToProto(const RoutingRecord& in, v1::RecordRoutingRequest* out);
void ToProto(const routing::Availability& in, v1::SetAvailabilityRequest* out);  // not person
void ToProto(const routing::RoutingEntry& in, v1::RoutingEntry* out);
void ToProto(const std::vector<routing::RoutingEntry>& in, v1::ListRoutingsResponse* out);

// Message -> Backend struct.
Evidence FromProto(const v1::Evidence& in);
ExpertsAnswer FromProto(const v1::FindExpertsResponse& in);  // has_more = !next_page_token.empty()
std::vector<ConnectionResult> FromProto(const v1::SuggestConnectionsResponse& in);
ProfileResult FromProto(const v1::GetPersonResponse& in);
std::vector<TopicResult> FromProto(const v1::ListTopicsResponse& in);
indexer::IndexStats FromProto(const v1::GetStatsResponse& in);
IngestCounts FromProto(const v1::IngestResponse& in);
RoutingRecord FromProto(const v1::RecordRoutingRequest& in);
routing::Availability FromProto(const v1::SetAvailabilityRequest& in);
// An unknown outcome name reads as pending.
routing::RoutingEntry FromProto(const v1::RoutingEntry& in);
std::vector<routing::RoutingEntry> FromProto(const v1::ListRoutingsResponse& in);

}  // namespace whoknows::service

#endif  // WHOKNOWS_SERVICE_PROTO_CONVERT_H_

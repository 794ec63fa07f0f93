#ifndef WHOKNOWS_SERVICE_NETWORK_PROTO_H_
#define WHOKNOWS_SERVICE_NETWORK_PROTO_H_

// Talent network <-> whoknows.v1 messages (server and client). Private to whoknows_server.

#include "absl/status/statusor.h"
#include "whoknows/network/network.h"
#include "whoknows/v1/whoknows.pb.h"

namespace whoknows::service {

// InvalidArgument for out-of-range thresholds. TimeWindow's exclusive `to`
// becomes the inclusive NetworkOptions::to.
absl::StatusOr<network::NetworkOptions> OptionsFromProto(const v1::TalentQuery& q);
void OptionsToProto(const network::NetworkOptions& o, v1::TalentQuery* q);

void ToProto(const network::CoverageReport& r, v1::GetTopicCoverageResponse* out);
network::CoverageReport FromProto(const v1::GetTopicCoverageResponse& in, const network::NetworkOptions& options);
void ToProto(const network::NetworkReport& r, v1::GetTalentNetworkResponse* out);
network::NetworkReport FromProto(const v1::GetTalentNetworkResponse& in, const network::NetworkOptions& options);

}  // namespace whoknows::service

#endif  // WHOKNOWS_SERVICE_NETWORK_PROTO_H_

#ifndef WHOKNOWS_SERVICE_STATUS_HTTP_H_
#define WHOKNOWS_SERVICE_STATUS_HTTP_H_

// The HTTP status for each canonical (absl == gRPC) status code, as in
// google.api.http / grpc-gateway. Defined in service/status_convert.cc next to
// the absl <-> gRPC mapping, so there is one table. No gRPC types here.

#include <string_view>

#include "absl/status/status.h"

namespace whoknows::service {

// 200 for OK; 400 INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE; 401
// UNAUTHENTICATED; 403 PERMISSION_DENIED; 404 NOT_FOUND; 409 ALREADY_EXISTS,
// ABORTED; 429 RESOURCE_EXHAUSTED; 499 CANCELLED; 501 UNIMPLEMENTED; 503
// UNAVAILABLE; 504 DEADLINE_EXCEEDED; 500 otherwise.
int HttpStatusCode(absl::StatusCode code);
// The gRPC name of the code: "INVALID_ARGUMENT", "NOT_FOUND", ...
std::string_view GrpcCodeName(absl::StatusCode code);

}  // namespace whoknows::service

#endif  // WHOKNOWS_SERVICE_STATUS_HTTP_H_

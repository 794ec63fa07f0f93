#ifndef WHOKNOWS_SERVICE_STATUS_CONVERT_H_
#define WHOKNOWS_SERVICE_STATUS_CONVERT_H_

// The one mapping between absl::Status and grpc::Status (gRPC 1.51 has no
// converter). The HTTP status of each code is defined next to it
// (status_convert.cc, declared in whoknows/service/status_http.h); the Backend
// struct <-> whoknows.v1 message mapping is in whoknows/service/proto_convert.h.
// Private to service/*.cc: includes gRPC headers.

#include "absl/status/status.h"
#include "grpcpp/support/status.h"
#include "whoknows/service/proto_convert.h"
#include "whoknows/service/status_http.h"

namespace whoknows::service {

// Same code, same message. OK maps to grpc::Status::OK.
grpc::Status ToGrpcStatus(const absl::Status& s);
// The reverse, for the client side.
absl::Status FromGrpcStatus(const grpc::Status& s);

}  // namespace whoknows::service

#endif  // WHOKNOWS_SERVICE_STATUS_CONVERT_H_

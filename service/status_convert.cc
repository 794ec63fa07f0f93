#include "status_convert.h"

#include <string>
#include <utility>
#include <vector>

namespace whoknows::service {
namespace {

// All 17 canonical codes have equal values in both enums; prove it.
#define WK_SAME_CODE(absl_name, grpc_name)                                                                      \
  static_assert(static_cast<int>(absl::StatusCode::absl_name) == static_cast<int>(grpc::StatusCode::grpc_name), \
                #absl_name " differs between absl and gRPC")
WK_SAME_CODE(kOk, OK);
WK_SAME_CODE(kCancelled, CANCELLED);
WK_SAME_CODE(kUnknown, UNKNOWN);
WK_SAME_CODE(kInvalidArgument, INVALID_ARGUMENT);
WK_SAME_CODE(kDeadlineExceeded, DEADLINE_EXCEEDED);
WK_SAME_CODE(kNotFound, NOT_FOUND);
WK_SAME_CODE(kAlreadyExists, ALREADY_EXISTS);
WK_SAME_CODE(kPermissionDenied, PERMISSION_DENIED);
WK_SAME_CODE(kResourceExhausted, RESOURCE_EXHAUSTED);
WK_SAME_CODE(kFailedPrecondition, FAILED_PRECONDITION);
WK_SAME_CODE(kAborted, ABORTED);
WK_SAME_CODE(kOutOfRange, OUT_OF_RANGE);
WK_SAME_CODE(kUnimplemented, UNIMPLEMENTED);
WK_SAME_CODE(kInternal, INTERNAL);
WK_SAME_CODE(kUnavailable, UNAVAILABLE);
WK_SAME_CODE(kDataLoss, DATA_LOSS);
WK_SAME_CODE(kUnauthenticated, UNAUTHENTICATED);
#undef WK_SAME_CODE

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  const int code = static_cast<int>(s.code());
  return {code >= 0 && code <= 16 ? static_cast<grpc::StatusCode>(code) : grpc::StatusCode::UNKNOWN,
          std::string(s.message())};
}

absl::Status FromGrpcStatus(const grpc::Status& s) {
  if (s.ok()) return absl::OkStatus();
  const int code = static_cast<int>(s.error_code());
  return {code >= 0 && code <= 16 ? static_cast<absl::StatusCode>(code) : absl::StatusCode::kUnknown,
          s.error_message()};
}

// The HTTP side of the same table (google.api.http / grpc-gateway mapping).
int HttpStatusCode(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kCancelled:
      return 499;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kUnavailable:
      return 503;
    default:
      return 500;  // UNKNOWN, INTERNAL, DATA_LOSS
  }
}

std::string_view GrpcCodeName(absl::StatusCode code) {
  static constexpr std::string_view kNames[] = {
      "OK",        "CANCELLED",         "UNKNOWN",        "INVALID_ARGUMENT",    "DEADLINE_EXCEEDED", "NOT_FOUND",
      "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
      "OUT_OF_RANGE", "UNIMPLEMENTED",   "INTERNAL",       "UNAVAILABLE",         "DATA_LOSS",         "UNAUTHENTICATED"};
  const int i = static_cast<int>(code);
  return i >= 0 && i <= 16 ? kNames[i] : "UNKNOWN";
}

}  // namespace whoknows::service

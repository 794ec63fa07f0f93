#ifndef WHOKNOWS_HTTP_ROUTES_H_
#define WHOKNOWS_HTTP_ROUTES_H_

// The route table: one entry per whoknows.v1 call exposed over HTTP. The
// router dispatches on it and openapi.cc documents it, so the two cannot
// disagree. Private to http/.

#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "whoknows/service/api.h"

namespace whoknows::http {

struct Route {
  enum class Body { kNone, kJson, kJsonLines };
  std::string_view method;   // GET, POST, DELETE
  std::string_view pattern;  // "/v1/people/{person}/connections": {field} is one path segment
  std::string_view rpc;      // the whoknows.v1.WhoKnows method
  std::string_view summary;
  service::Role role;        // the smallest role allowed
  const google::protobuf::Descriptor* request;
  const google::protobuf::Descriptor* response;
  Body body;
  // nullptr for Ingest (JSON Lines body, handled by Router::HandleIngest).
  absl::Status (*call)(const service::Api& api, const service::Caller& caller, const google::protobuf::Message& req,
                       google::protobuf::Message* resp);
};

const std::vector<Route>& Routes();

}  // namespace whoknows::http

#endif  // WHOKNOWS_HTTP_ROUTES_H_

#ifndef WHOKNOWS_HTTP_ROUTER_H_
#define WHOKNOWS_HTTP_ROUTER_H_

// The HTTP/JSON face of whoknows.v1, without the transport: one request in,
// one response out. Requests and responses are the whoknows.v1 messages in
// protobuf's canonical JSON mapping, on google.api.http-style resource paths
// (query parameters are the request's field names, e.g. ?text=...&k=5,
// repeated fields repeat, nested ones are dotted: window.from=...). Every
// call goes through service::Api, the same code the gRPC server calls.
//
//   GET    /v1/experts?text=...             FindExperts          reader
//   GET    /v1/people/{person}              GetPerson            reader
//   GET    /v1/people/{person}/connections  SuggestConnections   reader
//   GET    /v1/topics                       ListTopics           reader
//   GET    /v1/stats                        GetStats             reader
//   POST   /v1/messages  (JSON Lines body)  Ingest               ingester
//   POST   /v1/people/{person}/optout       OptOut               admin
//   DELETE /v1/people/{person}              Erase                admin
//   GET    /healthz, /v1/openapi.json, / and the page's files   no token
//
// Errors: {"error": {"code": <http>, "status": "<gRPC code name>",
// "message": "..."}} with the HTTP status of the gRPC code (status_http.h).

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "whoknows/service/api.h"

namespace whoknows::http {

struct Request {
  std::string method;         // "GET", "POST", ...
  std::string target;         // path and query, as sent: "/v1/experts?text=r%20packages"
  std::string authorization;  // the Authorization header ("Bearer <token>"), may be empty
  std::string body;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
};

// The JSON error body and HTTP status of `status` (not OK).
Response ErrorResponse(const absl::Status& status);
// An error whose HTTP status is not a gRPC code's (405, 413, ...).
Response ErrorResponse(int http_status, const absl::Status& status);

class Router {
 public:
  // `api` must outlive the router. Thread-safe (Handle is const and the Api is).
  Router(const service::Api* api, size_t ingest_batch) : api_(api), ingest_batch_(ingest_batch) {}

  Response Handle(const Request& req) const;

 private:
  Response HandleIngest(const Request& req, const service::Caller& caller) const;

  const service::Api* api_;
  size_t ingest_batch_;
};

// The OpenAPI 3.0 document of the routes above, with the schemas generated
// from the whoknows.v1 descriptors (openapi.cc).
std::string OpenApiJson();

// Decodes %XX and '+' (query strings only); false on a malformed escape.
bool PercentDecode(std::string_view in, bool plus_is_space, std::string* out);

}  // namespace whoknows::http

#endif  // WHOKNOWS_HTTP_ROUTER_H_

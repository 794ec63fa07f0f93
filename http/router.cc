#include "whoknows/http/router.h"

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "assets.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"
#include "routes.h"
#include "whoknows/service/proto_convert.h"
#include "whoknows/service/status_http.h"

namespace whoknows::http {
namespace {

namespace pb = google::protobuf;
using service::Api;
using service::Caller;

template <typename Req, typename Resp, absl::Status (Api::*Method)(const Caller&, const Req&, Resp*) const>
absl::Status Call(const Api& api, const Caller& caller, const pb::Message& req, pb::Message* resp) {
  return (api.*Method)(caller, static_cast<const Req&>(req), static_cast<Resp*>(resp));
}

std::string StatusText(const pb::util::Status& s) {
  return std::string(s.message().data(), s.message().size());
}

// A query parameter or path segment into the field `name` of `m` (a proto
// field name or its JSON name; dotted for nested messages). Repeated fields
// append.
absl::Status SetField(pb::Message* m, std::string_view name, const std::string& value) {
  const size_t dot = name.find('.');
  const std::string head(name.substr(0, dot));
  const pb::Descriptor* d = m->GetDescriptor();
  const pb::FieldDescriptor* f = d->FindFieldByName(head);
  for (int i = 0; f == nullptr && i < d->field_count(); ++i) {
    if (d->field(i)->json_name() == head) f = d->field(i);
  }
  if (f == nullptr) {
    return absl::InvalidArgumentError(absl::StrFormat("unknown parameter \"%s\" for %s", name, d->name()));
  }
  const pb::Reflection* r = m->GetReflection();
  if (dot != std::string_view::npos) {
    if (f->cpp_type() != pb::FieldDescriptor::CPPTYPE_MESSAGE || f->is_repeated()) {
      return absl::InvalidArgumentError(absl::StrFormat("parameter \"%s\": %s is not a message", name, head));
    }
    return SetField(r->MutableMessage(m, f), name.substr(dot + 1), value);
  }
  auto bad = [&](std::string_view what) {
    return absl::InvalidArgumentError(absl::StrFormat("parameter \"%s\": \"%s\" is not %s", name, value, what));
  };
  const bool rep = f->is_repeated();
  switch (f->cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_STRING:
      rep ? r->AddString(m, f, value) : r->SetString(m, f, value);
      return absl::OkStatus();
    case pb::FieldDescriptor::CPPTYPE_INT32: {
      int32_t v;
      if (!absl::SimpleAtoi(value, &v)) return bad("an integer");
      rep ? r->AddInt32(m, f, v) : r->SetInt32(m, f, v);
      return absl::OkStatus();
    }
    case pb::FieldDescriptor::CPPTYPE_INT64: {
      int64_t v;
      if (!absl::SimpleAtoi(value, &v)) return bad("an integer");
      rep ? r->AddInt64(m, f, v) : r->SetInt64(m, f, v);
      return absl::OkStatus();
    }
    case pb::FieldDescriptor::CPPTYPE_UINT32: {
      uint32_t v;
      if (!absl::SimpleAtoi(value, &v)) return bad("an unsigned integer");
      rep ? r->AddUInt32(m, f, v) : r->SetUInt32(m, f, v);
      return absl::OkStatus();
    }
    case pb::FieldDescriptor::CPPTYPE_UINT64: {
      uint64_t v;
      if (!absl::SimpleAtoi(value, &v)) return bad("an unsigned integer");
      rep ? r->AddUInt64(m, f, v) : r->SetUInt64(m, f, v);
      return absl::OkStatus();
    }
    case pb::FieldDescriptor::CPPTYPE_DOUBLE:
    case pb::FieldDescriptor::CPPTYPE_FLOAT: {
      double v;
      if (!absl::SimpleAtod(value, &v)) return bad("a number");
      if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_DOUBLE) {
        rep ? r->AddDouble(m, f, v) : r->SetDouble(m, f, v);
      } else {
        rep ? r->AddFloat(m, f, static_cast<float>(v)) : r->SetFloat(m, f, static_cast<float>(v));
      }
      return absl::OkStatus();
    }
    case pb::FieldDescriptor::CPPTYPE_BOOL: {
      bool v;
      if (!absl::SimpleAtob(value, &v)) return bad("true or false");
      rep ? r->AddBool(m, f, v) : r->SetBool(m, f, v);
      return absl::OkStatus();
    }
    case pb::FieldDescriptor::CPPTYPE_ENUM: {
      const pb::EnumValueDescriptor* e = f->enum_type()->FindValueByName(value);
      if (e == nullptr) return bad(absl::StrFormat("a value of %s", f->enum_type()->name()));
      rep ? r->AddEnum(m, f, e) : r->SetEnum(m, f, e);
      return absl::OkStatus();
    }
    case pb::FieldDescriptor::CPPTYPE_MESSAGE:
      break;
  }
  return absl::InvalidArgumentError(absl::StrFormat("parameter \"%s\" names a message; use its fields", name));
}

std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  for (absl::string_view s : absl::StrSplit(absl::string_view(path.data(), path.size()), '/', absl::SkipEmpty())) {
    out.emplace_back(s.data(), s.size());
  }
  return out;
}

// Matches `path` against a route pattern; fills {field} -> decoded segment.
bool Match(std::string_view pattern, const std::vector<std::string_view>& segs,
           std::vector<std::pair<std::string, std::string>>* params) {
  std::vector<std::string_view> pat = Segments(pattern);
  if (pat.size() != segs.size()) return false;
  params->clear();
  for (size_t i = 0; i < pat.size(); ++i) {
    if (pat[i].size() > 2 && pat[i].front() == '{' && pat[i].back() == '}') {
      std::string v;
      if (!PercentDecode(segs[i], false, &v) || v.empty()) return false;
      params->emplace_back(std::string(pat[i].substr(1, pat[i].size() - 2)), std::move(v));
    } else if (pat[i] != segs[i]) {
      return false;
    }
  }
  return true;
}

Response JsonResponse(const pb::Message& m) {
  pb::util::JsonPrintOptions opts;
  opts.always_print_primitive_fields = true;  // zeros and empty lists are spelled out for the page
  Response r;
  pb::util::Status s = pb::util::MessageToJsonString(m, &r.body, opts);
  if (!s.ok()) return ErrorResponse(absl::InternalError(StatusText(s)));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

const Asset* FindAsset(std::string_view path) {
  if (path == "/") path = "/index.html";
  for (const Asset& a : Assets()) {
    if (a.path == path) return &a;
  }
  return nullptr;
}

}  // namespace

const std::vector<Route>& Routes() {
  using R = Route;
  using service::Role;
  namespace v1 = whoknows::v1;
  static const std::vector<Route> kRoutes = {
      {"GET", "/v1/experts", "FindExperts", "Who knows about text? Ranked people with evidence.", Role::kReader,
       v1::FindExpertsRequest::descriptor(), v1::FindExpertsResponse::descriptor(), R::Body::kNone,
       &Call<v1::FindExpertsRequest, v1::FindExpertsResponse, &Api::FindExperts>},
      {"GET", "/v1/people/{person}", "GetPerson", "A person's profile.", Role::kReader,
       v1::GetPersonRequest::descriptor(), v1::GetPersonResponse::descriptor(), R::Body::kNone,
       &Call<v1::GetPersonRequest, v1::GetPersonResponse, &Api::GetPerson>},
      {"GET", "/v1/people/{person}/connections", "SuggestConnections",
       "People the person should connect with, with reasons.", Role::kReader,
       v1::SuggestConnectionsRequest::descriptor(), v1::SuggestConnectionsResponse::descriptor(), R::Body::kNone,
       &Call<v1::SuggestConnectionsRequest, v1::SuggestConnectionsResponse, &Api::SuggestConnections>},
      {"GET", "/v1/topics", "ListTopics", "Topics with document counts, top people and trend.", Role::kReader,
       v1::ListTopicsRequest::descriptor(), v1::ListTopicsResponse::descriptor(), R::Body::kNone,
       &Call<v1::ListTopicsRequest, v1::ListTopicsResponse, &Api::ListTopics>},
      {"GET", "/v1/stats", "GetStats", "Index statistics.", Role::kReader, v1::GetStatsRequest::descriptor(),
       v1::GetStatsResponse::descriptor(), R::Body::kNone,
       &Call<v1::GetStatsRequest, v1::GetStatsResponse, &Api::GetStats>},
      {"POST", "/v1/messages", "Ingest",
       "Ingest messages: one whoknows.v1.Message (JSON) per line; answers once they are committed and visible.",
       Role::kIngester, v1::Message::descriptor(), v1::IngestResponse::descriptor(), R::Body::kJsonLines, nullptr},
      {"POST", "/v1/people/{person}/optout", "OptOut", "Opt a person out of (or back into) recommendations.",
       Role::kAdmin, v1::OptOutRequest::descriptor(), v1::OptOutResponse::descriptor(), R::Body::kJson,
       &Call<v1::OptOutRequest, v1::OptOutResponse, &Api::OptOut>},
      {"DELETE", "/v1/people/{person}", "Erase", "Erase a person's documents and identity data.", Role::kAdmin,
       v1::EraseRequest::descriptor(), v1::EraseResponse::descriptor(), R::Body::kNone,
       &Call<v1::EraseRequest, v1::EraseResponse, &Api::Erase>},
      // Routing log and availability (issue 14).
      {"POST", "/v1/routings", "RecordRouting", "Log that a question was routed to people; returns the routing id.",
       service::kRoutingRole, v1::RecordRoutingRequest::descriptor(), v1::RecordRoutingResponse::descriptor(),
       R::Body::kJson, &Call<v1::RecordRoutingRequest, v1::RecordRoutingResponse, &Api::RecordRouting>},
      {"GET", "/v1/routings", "ListRoutings",
       "Routing log entries, newest first: everyone's for service/admin, otherwise the caller's own.",
       Role::kReader, v1::ListRoutingsRequest::descriptor(), v1::ListRoutingsResponse::descriptor(), R::Body::kNone,
       &Call<v1::ListRoutingsRequest, v1::ListRoutingsResponse, &Api::ListRoutings>},
      {"POST", "/v1/routings/{routing_id}/outcome", "RecordOutcome",
       "Log what came of a routing for one person (answered, declined, ignored...).", service::kRoutingRole,
       v1::RecordOutcomeRequest::descriptor(), v1::RecordOutcomeResponse::descriptor(), R::Body::kJson,
       &Call<v1::RecordOutcomeRequest, v1::RecordOutcomeResponse, &Api::RecordOutcome>},
      {"PUT", "/v1/people/{person}/availability", "SetAvailability",
       "Set a person's availability (away_until, max_per_week): an admin or the person's own token.",
       Role::kReader, v1::SetAvailabilityRequest::descriptor(), v1::SetAvailabilityResponse::descriptor(),
       R::Body::kJson, &Call<v1::SetAvailabilityRequest, v1::SetAvailabilityResponse, &Api::SetAvailability>},
      // Talent network (issue 11).
      {"GET", "/v1/coverage", "GetTopicCoverage",
       "Skills inventory and bus factor per topic (talent network); parameters query.window.from, query.community, ...",
       Role::kHr, v1::GetTopicCoverageRequest::descriptor(), v1::GetTopicCoverageResponse::descriptor(),
       R::Body::kNone, &Call<v1::GetTopicCoverageRequest, v1::GetTopicCoverageResponse, &Api::GetTopicCoverage>},
      {"GET", "/v1/network", "GetTalentNetwork",
       "Communities, brokers and influencers of the contact graph; include_svg=true adds the community map (SVG).",
       Role::kHr, v1::GetTalentNetworkRequest::descriptor(), v1::GetTalentNetworkResponse::descriptor(),
       R::Body::kNone, &Call<v1::GetTalentNetworkRequest, v1::GetTalentNetworkResponse, &Api::GetTalentNetwork>},
  };
  return kRoutes;
}

bool PercentDecode(std::string_view in, bool plus_is_space, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      int v = 0;
      if (i + 2 >= in.size()) return false;
      for (int k = 1; k <= 2; ++k) {
        char h = in[i + k];
        v <<= 4;
        if (h >= '0' && h <= '9') {
          v |= h - '0';
        } else if (h >= 'a' && h <= 'f') {
          v |= h - 'a' + 10;
        } else if (h >= 'A' && h <= 'F') {
          v |= h - 'A' + 10;
        } else {
          return false;
        }
      }
      out->push_back(static_cast<char>(v));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  return true;
}

Response ErrorResponse(int http_status, const absl::Status& status) {
  nlohmann::json j;
  j["error"]["code"] = http_status;
  j["error"]["status"] = std::string(service::GrpcCodeName(status.code()));
  j["error"]["message"] = std::string(status.message());
  Response r;
  r.status = http_status;
  r.body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  r.headers.emplace_back("Cache-Control", "no-store");
  if (http_status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"whoknows\"");
  if (http_status == 429 || http_status == 503) r.headers.emplace_back("Retry-After", "1");
  return r;
}

Response ErrorResponse(const absl::Status& status) {
  return ErrorResponse(service::HttpStatusCode(status.code()), status);
}

Response Router::Handle(const Request& req) const {
  std::string_view target = req.target;
  const size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  const bool get = req.method == "GET" || req.method == "HEAD";

  if (get && path == "/healthz") {
    Response r;
    // Whether calls need a bearer token, so the page can ask for one up front.
    r.body = api_->has_tokens() ? R"({"status":"SERVING","tokens":true})" : R"({"status":"SERVING","tokens":false})";
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
  }
  if (get && path == "/v1/openapi.json") {
    Response r;
    r.body = OpenApiJson();
    return r;
  }
  if (get) {
    if (const Asset* a = FindAsset(path)) {
      Response r;
      r.content_type = std::string(a->content_type);
      r.body = std::string(a->data);
      r.headers.emplace_back("Cache-Control", "no-cache");
      return r;
    }
  }

  const std::vector<std::string_view> segs = Segments(path);
  std::vector<std::pair<std::string, std::string>> params;
  const Route* route = nullptr;
  std::vector<std::string> allowed;
  for (const Route& r : Routes()) {
    if (!Match(r.pattern, segs, &params)) continue;
    allowed.emplace_back(r.method);
    if (r.method == req.method || (req.method == "HEAD" && r.method == "GET")) {
      route = &r;
      break;
    }
  }
  if (route == nullptr && allowed.empty()) {
    return ErrorResponse(absl::NotFoundError(absl::StrFormat("no route for %s %s", req.method, path)));
  }
  if (route == nullptr) {
    Response r = ErrorResponse(405, absl::UnimplementedError(absl::StrFormat(
                                        "%s is not allowed on %s (allowed: %s)", req.method, path,
                                        absl::StrJoin(allowed, ", "))));
    r.headers.emplace_back("Allow", absl::StrJoin(allowed, ", "));
    return r;
  }
  Match(route->pattern, segs, &params);  // the params of the chosen route

  absl::StatusOr<Caller> caller = api_->Authorize(req.authorization, route->role);
  if (!caller.ok()) return ErrorResponse(caller.status());
  if (route->body == Route::Body::kJsonLines) return HandleIngest(req, *caller);

  const pb::Message* proto = pb::MessageFactory::generated_factory()->GetPrototype(route->request);
  std::unique_ptr<pb::Message> request(proto->New());
  if (route->body == Route::Body::kJson && !req.body.empty()) {
    pb::util::Status s = pb::util::JsonStringToMessage(req.body, request.get(), pb::util::JsonParseOptions());
    if (!s.ok()) return ErrorResponse(absl::InvalidArgumentError("request body: " + StatusText(s)));
  }
  for (absl::string_view kv : absl::StrSplit(absl::string_view(query.data(), query.size()), '&', absl::SkipEmpty())) {
    const size_t eq = kv.find('=');
    std::string key, value;
    if (!PercentDecode(std::string_view(kv.data(), eq == absl::string_view::npos ? kv.size() : eq), true, &key) ||
        (eq != absl::string_view::npos &&
         !PercentDecode(std::string_view(kv.data() + eq + 1, kv.size() - eq - 1), true, &value))) {
      return ErrorResponse(absl::InvalidArgumentError("malformed %-escape in the query string"));
    }
    absl::Status s = SetField(request.get(), key, value);
    if (!s.ok()) return ErrorResponse(s);
  }
  for (const auto& [field, value] : params) {
    absl::Status s = SetField(request.get(), field, value);
    if (!s.ok()) return ErrorResponse(s);
  }
  const pb::Message* resp_proto = pb::MessageFactory::generated_factory()->GetPrototype(route->response);
  std::unique_ptr<pb::Message> response(resp_proto->New());
  absl::Status s = route->call(*api_, *caller, *request, response.get());
  if (!s.ok()) return ErrorResponse(s);
  return JsonResponse(*response);
}

Response Router::HandleIngest(const Request& req, const Caller& caller) const {
  service::IngestStream stream(api_->backend(), absl::StrFormat("http:%s", caller.name), ingest_batch_);
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(req.body, '\n')) {
    ++line_no;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    if (line.empty()) continue;
    v1::Message m;
    pb::util::Status ps = pb::util::JsonStringToMessage(pb::StringPiece(line.data(), line.size()), &m,
                                                        pb::util::JsonParseOptions());
    absl::Status s = ps.ok() ? stream.Add(m)
                             : stream.AddBad("bad-json", absl::StrFormat("line %d: %s", line_no, StatusText(ps)));
    if (!s.ok()) return ErrorResponse(s);
  }
  absl::Status s = stream.Flush();
  if (!s.ok()) return ErrorResponse(s);
  v1::IngestResponse resp;
  service::ToProto(stream.total(), &resp);
  return JsonResponse(resp);
}

}  // namespace whoknows::http

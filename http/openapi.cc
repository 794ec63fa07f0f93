// /v1/openapi.json: an OpenAPI 3.0 document generated at startup from the
// route table (routes.h) and the whoknows.v1 descriptors, so it cannot drift
// from the proto: every schema is a message in its canonical JSON mapping
// (JSON field names, 64-bit integers as strings, repeated -> array).

#include <set>
#include <string>
#include <string_view>

#include "google/protobuf/descriptor.h"
#include "nlohmann/json.hpp"
#include "routes.h"
#include "whoknows/http/router.h"
#include "whoknows/service/tokens.h"

namespace whoknows::http {
namespace {

namespace pb = google::protobuf;
using nlohmann::json;

std::string Ref(const pb::Descriptor* d) { return "#/components/schemas/" + d->name(); }

json ScalarSchema(const pb::FieldDescriptor* f, std::set<const pb::Descriptor*>* todo) {
  switch (f->cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_STRING:
      return {{"type", "string"}};
    case pb::FieldDescriptor::CPPTYPE_INT32:
      return {{"type", "integer"}, {"format", "int32"}};
    case pb::FieldDescriptor::CPPTYPE_UINT32:
      return {{"type", "integer"}, {"format", "int64"}, {"minimum", 0}};
    case pb::FieldDescriptor::CPPTYPE_INT64:
      return {{"type", "string"}, {"format", "int64"}};  // proto3 JSON: 64-bit integers are strings
    case pb::FieldDescriptor::CPPTYPE_UINT64:
      return {{"type", "string"}, {"format", "uint64"}};
    case pb::FieldDescriptor::CPPTYPE_DOUBLE:
      return {{"type", "number"}, {"format", "double"}};
    case pb::FieldDescriptor::CPPTYPE_FLOAT:
      return {{"type", "number"}, {"format", "float"}};
    case pb::FieldDescriptor::CPPTYPE_BOOL:
      return {{"type", "boolean"}};
    case pb::FieldDescriptor::CPPTYPE_ENUM: {
      json values = json::array();
      for (int i = 0; i < f->enum_type()->value_count(); ++i) values.push_back(f->enum_type()->value(i)->name());
      return {{"type", "string"}, {"enum", values}};
    }
    case pb::FieldDescriptor::CPPTYPE_MESSAGE:
      todo->insert(f->message_type());
      return {{"$ref", Ref(f->message_type())}};
  }
  return json::object();
}

json FieldSchema(const pb::FieldDescriptor* f, std::set<const pb::Descriptor*>* todo) {
  json s = ScalarSchema(f, todo);
  if (f->is_repeated()) return {{"type", "array"}, {"items", s}};
  return s;
}

json MessageSchema(const pb::Descriptor* d, std::set<const pb::Descriptor*>* todo) {
  json props = json::object();
  for (int i = 0; i < d->field_count(); ++i) props[d->field(i)->json_name()] = FieldSchema(d->field(i), todo);
  return {{"type", "object"}, {"description", "whoknows.v1." + d->name()}, {"properties", props}};
}

// Query parameters of a GET: every field not bound by the path; nested
// message fields are dotted (window.from).
void QueryParams(const pb::Descriptor* d, const std::string& prefix, const std::set<std::string>& path_fields,
                 std::set<const pb::Descriptor*>* todo, json* out) {
  for (int i = 0; i < d->field_count(); ++i) {
    const pb::FieldDescriptor* f = d->field(i);
    const std::string name = prefix + f->name();
    if (path_fields.count(name) != 0) continue;
    if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE && !f->is_repeated()) {
      QueryParams(f->message_type(), name + ".", path_fields, todo, out);
      continue;
    }
    json p = {{"name", name}, {"in", "query"}, {"required", false}, {"schema", FieldSchema(f, todo)}};
    if (f->is_repeated()) {
      p["style"] = "form";
      p["explode"] = true;
    }
    out->push_back(p);
  }
}

json ErrorRef(std::string_view why) {
  return {{"description", why},
          {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}};
}

}  // namespace

std::string OpenApiJson() {
  static const std::string kDoc = [] {
    std::set<const pb::Descriptor*> todo;
    json paths = json::object();
    for (const Route& r : Routes()) {
      std::set<std::string> path_fields;
      json params = json::array();
      std::string_view pat = r.pattern;
      for (size_t open = pat.find('{'); open != std::string_view::npos; open = pat.find('{', open + 1)) {
        const std::string field(pat.substr(open + 1, pat.find('}', open) - open - 1));
        path_fields.insert(field);
        const pb::FieldDescriptor* f = r.request->FindFieldByName(field);
        params.push_back({{"name", field},
                          {"in", "path"},
                          {"required", true},
                          {"schema", f != nullptr ? FieldSchema(f, &todo) : json{{"type", "string"}}}});
      }
      json op = {{"operationId", std::string(r.rpc)},
                 {"summary", std::string(r.summary)},
                 {"x-whoknows-role", std::string(service::RoleName(r.role))}};
      if (r.body == Route::Body::kNone) {
        QueryParams(r.request, "", path_fields, &todo, &params);
      } else {
        todo.insert(r.request);
        const char* type = r.body == Route::Body::kJsonLines ? "application/x-ndjson" : "application/json";
        op["requestBody"] = {
            {"required", r.body == Route::Body::kJsonLines},
            {"description", r.body == Route::Body::kJsonLines ? "JSON Lines: one whoknows.v1.Message per line"
                                                               : "The request message; path fields override it"},
            {"content", {{type, {{"schema", {{"$ref", Ref(r.request)}}}}}}}};
      }
      if (!params.empty()) op["parameters"] = params;
      todo.insert(r.response);
      op["responses"] = {
          {"200", {{"description", "OK"}, {"content", {{"application/json", {{"schema", {{"$ref", Ref(r.response)}}}}}}}}},
          {"400", ErrorRef("INVALID_ARGUMENT, FAILED_PRECONDITION or OUT_OF_RANGE")},
          {"401", ErrorRef("UNAUTHENTICATED: missing or unknown bearer token")},
          {"403", ErrorRef("PERMISSION_DENIED: the token's role may not call this")},
          {"404", ErrorRef("NOT_FOUND")},
          {"413", ErrorRef("request headers or body over the server's limit")},
          {"429", ErrorRef("RESOURCE_EXHAUSTED: too many requests in flight; retry")},
          {"503", ErrorRef("UNAVAILABLE: too many connections or shutting down; retry")},
      };
      std::string lower(r.method);
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      paths[std::string(r.pattern)][lower] = op;
    }
    json plain_ok = {{"200", {{"description", "OK"}, {"content", {{"application/json", {{"schema", {{"type", "object"}}}}}}}}}};
    paths["/healthz"]["get"] = {{"operationId", "Health"}, {"summary", "Liveness: {\"status\":\"SERVING\",\"tokens\":<whether calls need a bearer token>}"},
                                {"security", json::array()}, {"responses", plain_ok}};
    paths["/v1/openapi.json"]["get"] = {{"operationId", "OpenApi"}, {"summary", "This document"},
                                        {"security", json::array()}, {"responses", plain_ok}};

    json schemas = json::object();
    std::set<const pb::Descriptor*> done;
    while (!todo.empty()) {
      const pb::Descriptor* d = *todo.begin();
      todo.erase(todo.begin());
      if (!done.insert(d).second) continue;
      schemas[d->name()] = MessageSchema(d, &todo);
    }
    schemas["Error"] = {
        {"type", "object"},
        {"properties",
         {{"error",
           {{"type", "object"},
            {"properties",
             {{"code", {{"type", "integer"}, {"description", "the HTTP status"}}},
              {"status", {{"type", "string"}, {"description", "the gRPC status code name"}}},
              {"message", {{"type", "string"}}}}}}}}}};
    json doc = {{"openapi", "3.0.3"},
                {"info",
                 {{"title", "whoknows"},
                  {"version", "v1"},
                  {"description",
                   "The whoknows.v1 gRPC API over HTTP: the same messages in protobuf's canonical JSON mapping."}}},
                {"paths", paths},
                {"components",
                 {{"schemas", schemas},
                  {"securitySchemes", {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}}}}},
                {"security", json::array({json{{"bearer", json::array()}}})}};
    return doc.dump(1);
  }();
  return kDoc;
}

}  // namespace whoknows::http

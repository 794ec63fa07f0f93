// The gRPC server: whoknows.v1.WhoKnows on the callback API, plus the standard
// health service and server reflection.
//
// Handlers run the Backend call inline on the gRPC callback thread (the
// Backend is thread-safe and queries run on immutable snapshots). Each handler
// authenticates, checks the role, and checks cancellation / the deadline
// before the heavy work. An Ingest stream converts each message through the
// JSONL parser, commits every `ingest_batch` messages and at the end of the
// stream (also when the stream is cancelled, e.g. by a shutdown deadline),
// and answers only after Backend::Ingest committed and swapped the snapshot.

#include "whoknows/service/server.h"

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "grpcpp/support/server_callback.h"
#include "network_proto.h"
#include "nlohmann/json.hpp"
#include "status_convert.h"
#include "whoknows/base/log.h"
#include "whoknows/base/status_macros.h"
#include "whoknows/indexer/input.h"
#include "whoknows/indexer/readers.h"
#include "whoknows/service/tokens.h"
#include "whoknows/v1/whoknows.grpc.pb.h"

namespace whoknows::service {
namespace {

constexpr char kServiceName[] = "whoknows.v1.WhoKnows";


// Host part of HOST:PORT ("[::1]:80" -> "::1").
std::string_view HostOf(std::string_view host_port) {
  if (!host_port.empty() && host_port.front() == '[') {
    size_t close = host_port.find(']');
    return close == std::string_view::npos ? host_port.substr(1) : host_port.substr(1, close - 1);
  }
  size_t colon = host_port.rfind(':');
  return colon == std::string_view::npos ? host_port : host_port.substr(0, colon);
}

// Message -> one JSONL object, so gRPC ingest and JSONL files share one parser.
std::string MessageToJson(const v1::Message& m) {
  nlohmann::json j = nlohmann::json::object();
  auto str = [&](const char* key, const std::string& v) {
    if (!v.empty()) j[key] = v;
  };
  str("id", m.id());
  str("source", m.source());
  str("kind", m.kind());
  str("author", m.author());
  str("author_name", m.author_name());
  if (m.timestamp() != 0) j["timestamp"] = m.timestamp();
  str("title", m.title());
  str("text", m.text());
  str("thread", m.thread());
  str("reply_to", m.reply_to());
  if (m.mentions_size() > 0) j["mentions"] = std::vector<std::string>(m.mentions().begin(), m.mentions().end());
  if (m.tags_size() > 0) j["tags"] = std::vector<std::string>(m.tags().begin(), m.tags().end());
  str("community", m.community());
  str("visibility", m.visibility());
  if (m.score() != 0) j["score"] = m.score();
  if (m.accepted()) j["accepted"] = true;
  // Replace invalid UTF-8 instead of throwing; the parser sanitises again.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void Merge(const IngestCounts& add, IngestCounts* total) {
  total->indexed += add.indexed;
  total->duplicates += add.duplicates;
  total->skipped += add.skipped;
  for (const auto& [reason, n] : add.skipped_by_reason) {
    bool found = false;
    for (auto& [r, m] : total->skipped_by_reason) {
      if (r == reason) {
        m += n;
        found = true;
      }
    }
    if (!found) total->skipped_by_reason.emplace_back(reason, n);
  }
}

class WhoKnowsService final : public v1::WhoKnows::CallbackService {
 public:
  WhoKnowsService(Backend* backend, std::unique_ptr<TokenTable> tokens, size_t ingest_batch)
      : backend_(backend), tokens_(std::move(tokens)), ingest_batch_(ingest_batch == 0 ? 5000 : ingest_batch) {}

  // Authenticates the call and checks that its role is at least `min`.
  absl::StatusOr<Caller> Authorize(grpc::CallbackServerContext* ctx, Role min) const {
    Caller caller;  // no tokens: local admin, every group
    if (tokens_ != nullptr) {
      std::string_view header;
      const auto& md = ctx->client_metadata();
      auto it = md.find("authorization");
      if (it != md.end()) header = std::string_view(it->second.data(), it->second.size());
      WK_ASSIGN_OR_RETURN(caller, Authenticate(*tokens_, header));
    }
    if (!RoleAllows(caller.role, min)) {
      return absl::PermissionDeniedError(absl::StrFormat("caller %s has role %s; this call needs %s", caller.name,
                                                         RoleName(caller.role), RoleName(min)));
    }
    return caller;
  }

  static absl::Status CheckAlive(grpc::CallbackServerContext* ctx) {
    if (ctx->IsCancelled()) return absl::CancelledError("call cancelled");
    if (ctx->deadline() <= std::chrono::system_clock::now()) return absl::DeadlineExceededError("deadline passed");
    return absl::OkStatus();
  }

  template <typename Fn>
  grpc::ServerUnaryReactor* Unary(grpc::CallbackServerContext* ctx, Role min, Fn&& fn) {
    absl::Status status = [&]() -> absl::Status {
      WK_ASSIGN_OR_RETURN(Caller caller, Authorize(ctx, min));
      WK_RETURN_IF_ERROR(CheckAlive(ctx));
      return fn(caller);
    }();
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    reactor->Finish(ToGrpcStatus(status));
    return reactor;
  }

  grpc::ServerUnaryReactor* FindExperts(grpc::CallbackServerContext* ctx, const v1::FindExpertsRequest* req,
                                        v1::FindExpertsResponse* resp) override {
    return Unary(ctx, Role::kReader, [&](const Caller& caller) -> absl::Status {
      ExpertsQuery q;
      q.text = req->text();
      q.k = req->k() == 0 ? 10 : req->k();
      q.communities.assign(req->communities().begin(), req->communities().end());
      q.topics.assign(req->topics().begin(), req->topics().end());
      q.exclude.assign(req->exclude().begin(), req->exclude().end());
      q.from = req->window().from();
      q.to = req->window().to();
      const uint64_t fp = QueryFingerprint(q);
      if (!req->page_token().empty()) {
        WK_ASSIGN_OR_RETURN(q.offset, DecodePageToken(req->page_token(), fp));
      }
      WK_ASSIGN_OR_RETURN(ExpertsAnswer answer, backend_->FindExperts(q, caller));
      ToProto(answer, resp);
      if (answer.has_more) resp->set_next_page_token(EncodePageToken(q.offset + q.k, fp));
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* SuggestConnections(grpc::CallbackServerContext* ctx,
                                               const v1::SuggestConnectionsRequest* req,
                                               v1::SuggestConnectionsResponse* resp) override {
    return Unary(ctx, Role::kReader, [&](const Caller& caller) -> absl::Status {
      ConnectQuery q;
      q.person = req->person();
      q.about = req->about();
      q.k = req->k() == 0 ? 10 : req->k();
      if (q.person.empty()) return absl::InvalidArgumentError("person is required");
      WK_ASSIGN_OR_RETURN(std::vector<ConnectionResult> out, backend_->SuggestConnections(q, caller));
      ToProto(out, resp);
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* GetPerson(grpc::CallbackServerContext* ctx, const v1::GetPersonRequest* req,
                                      v1::GetPersonResponse* resp) override {
    return Unary(ctx, Role::kReader, [&](const Caller& caller) -> absl::Status {
      if (req->person().empty()) return absl::InvalidArgumentError("person is required");
      WK_ASSIGN_OR_RETURN(ProfileResult p, backend_->GetPerson(req->person(), caller));
      ToProto(p, resp);
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* ListTopics(grpc::CallbackServerContext* ctx, const v1::ListTopicsRequest* req,
                                       v1::ListTopicsResponse* resp) override {
    return Unary(ctx, Role::kReader, [&](const Caller& caller) -> absl::Status {
      const size_t limit = req->limit() == 0 ? 20 : req->limit();
      if (limit > 1000) return absl::InvalidArgumentError("limit must be at most 1000");
      WK_ASSIGN_OR_RETURN(std::vector<TopicResult> out, backend_->ListTopics(limit, caller));
      ToProto(out, resp);
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* GetStats(grpc::CallbackServerContext* ctx, const v1::GetStatsRequest* /*req*/,
                                     v1::GetStatsResponse* resp) override {
    return Unary(ctx, Role::kReader, [&](const Caller& /*caller*/) -> absl::Status {
      WK_ASSIGN_OR_RETURN(indexer::IndexStats s, backend_->GetStats());
      ToProto(s, resp);
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* OptOut(grpc::CallbackServerContext* ctx, const v1::OptOutRequest* req,
                                   v1::OptOutResponse* /*resp*/) override {
    return Unary(ctx, Role::kAdmin, [&](const Caller& caller) -> absl::Status {
      if (req->person().empty()) return absl::InvalidArgumentError("person is required");
      WK_RETURN_IF_ERROR(backend_->OptOut(req->person(), req->opted_out()));
      LogInfo("optout %s=%d by %s", req->person(), req->opted_out() ? 1 : 0, caller.name);
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* Erase(grpc::CallbackServerContext* ctx, const v1::EraseRequest* req,
                                  v1::EraseResponse* resp) override {
    return Unary(ctx, Role::kAdmin, [&](const Caller& caller) -> absl::Status {
      if (req->person().empty()) return absl::InvalidArgumentError("person is required");
      WK_ASSIGN_OR_RETURN(uint64_t removed, backend_->Erase(req->person()));
      resp->set_documents_removed(removed);
      LogInfo("erase %s: %d documents removed by %s", req->person(), removed, caller.name);
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* GetTopicCoverage(grpc::CallbackServerContext* ctx, const v1::GetTopicCoverageRequest* req,
                                             v1::GetTopicCoverageResponse* resp) override {
    return Unary(ctx, Role::kHr, [&](const Caller& caller) -> absl::Status {
      WK_ASSIGN_OR_RETURN(network::NetworkOptions o, OptionsFromProto(req->query()));
      WK_ASSIGN_OR_RETURN(network::CoverageReport r, backend_->GetTopicCoverage(o, caller));
      ToProto(r, resp);
      return absl::OkStatus();
    });
  }

  grpc::ServerUnaryReactor* GetTalentNetwork(grpc::CallbackServerContext* ctx, const v1::GetTalentNetworkRequest* req,
                                             v1::GetTalentNetworkResponse* resp) override {
    return Unary(ctx, Role::kHr, [&](const Caller& caller) -> absl::Status {
      WK_ASSIGN_OR_RETURN(network::NetworkOptions o, OptionsFromProto(req->query()));
      o.include_graph = req->include_graph();
      WK_ASSIGN_OR_RETURN(network::NetworkReport r, backend_->GetTalentNetwork(o, caller));
      ToProto(r, resp);
      return absl::OkStatus();
    });
  }

  grpc::ServerReadReactor<v1::Message>* Ingest(grpc::CallbackServerContext* ctx, v1::IngestResponse* resp) override;

  Backend* backend() const { return backend_; }
  size_t ingest_batch() const { return ingest_batch_; }

 private:
  Backend* backend_;
  std::unique_ptr<TokenTable> tokens_;  // nullptr: no authentication
  size_t ingest_batch_;
};

class IngestReactor final : public grpc::ServerReadReactor<v1::Message> {
 public:
  IngestReactor(WhoKnowsService* service, grpc::CallbackServerContext* ctx, v1::IngestResponse* resp)
      : service_(service), ctx_(ctx), resp_(resp) {
    absl::StatusOr<Caller> caller = service_->Authorize(ctx, Role::kIngester);
    if (!caller.ok()) {
      Finish(ToGrpcStatus(caller.status()));
      return;
    }
    default_source_ = absl::StrFormat("grpc:%s", caller->name);
    // Tells the client the stream was accepted: from here on a shutdown lets
    // it finish (within the grace period) and commits what it sent.
    StartSendInitialMetadata();
    StartRead(&msg_);
  }

  void OnReadDone(bool ok) override {
    if (ok) {
      ++total_.received;
      absl::StatusOr<indexer::Record> r = indexer::ParseJsonRecord(MessageToJson(msg_), options_, default_source_);
      if (r.ok()) {
        records_.push_back(*std::move(r));
      } else {
        // The parser's message is "<reason>: <detail>".
        std::string msg(r.status().message());
        size_t colon = msg.find(':');
        std::string reason = colon == std::string::npos ? "bad-message" : msg.substr(0, colon);
        bad_.emplace_back(std::move(reason),
                          absl::StrFormat("message %d (id %s): %s", total_.received, msg_.id(), msg));
      }
      if (records_.size() + bad_.size() >= service_->ingest_batch()) {
        absl::Status s = Flush();
        if (!s.ok()) {
          Finish(ToGrpcStatus(s));
          return;
        }
      }
      StartRead(&msg_);
      return;
    }
    // End of the stream, or the call was cancelled (client gone, shutdown
    // deadline): commit what arrived either way; re-ingest is idempotent.
    absl::Status s = Flush();
    if (s.ok()) ToProto(total_, resp_);
    if (s.ok() && ctx_->IsCancelled())
      s = absl::CancelledError("ingest stream cancelled (received messages committed)");
    Finish(ToGrpcStatus(s));
  }

  void OnDone() override { delete this; }

 private:
  absl::Status Flush() {
    if (records_.empty() && bad_.empty()) return absl::OkStatus();
    absl::StatusOr<IngestCounts> c = service_->backend()->Ingest(std::move(records_), std::move(bad_));
    records_.clear();
    bad_.clear();
    if (!c.ok()) return c.status();
    Merge(*c, &total_);
    return absl::OkStatus();
  }

  WhoKnowsService* service_;
  grpc::CallbackServerContext* ctx_;
  v1::IngestResponse* resp_;
  indexer::ReadOptions options_;
  std::string default_source_;
  v1::Message msg_;
  std::vector<indexer::Record> records_;
  std::vector<std::pair<std::string, std::string>> bad_;
  IngestCounts total_;
};

grpc::ServerReadReactor<v1::Message>* WhoKnowsService::Ingest(grpc::CallbackServerContext* ctx,
                                                              v1::IngestResponse* resp) {
  return new IngestReactor(this, ctx, resp);
}

class ServerImpl final : public Server {
 public:
  ServerImpl(std::unique_ptr<WhoKnowsService> service, std::unique_ptr<grpc::Server> server, int port,
             std::string address)
      : service_(std::move(service)), server_(std::move(server)), port_(port), address_(std::move(address)) {}

  ~ServerImpl() override {
    Shutdown(0);
    Wait();
  }

  int port() const override { return port_; }
  std::string address() const override { return address_; }

  void Shutdown(double grace_seconds) override {
    std::lock_guard<std::mutex> lock(shutdown_mu_);
    if (shut_down_) return;
    shut_down_ = true;
    if (grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService()) {
      health->SetServingStatus(false);
    }
    const auto deadline =
        std::chrono::system_clock::now() + std::chrono::microseconds(static_cast<int64_t>(grace_seconds * 1e6));
    server_->Shutdown(deadline);
  }

  void Wait() override { server_->Wait(); }

 private:
  std::unique_ptr<WhoKnowsService> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_;
  std::string address_;
  std::mutex shutdown_mu_;
  bool shut_down_ = false;
};

}  // namespace

bool IsLoopbackAddress(std::string_view host_port) {
  std::string_view host = HostOf(host_port);
  return host == "localhost" || host == "::1" || absl::StartsWith(absl::string_view(host.data(), host.size()), "127.");
}

absl::StatusOr<std::unique_ptr<Server>> Server::Start(Backend* backend, const ServerOptions& options) {
  if (backend == nullptr) return absl::InvalidArgumentError("no backend");
  std::unique_ptr<TokenTable> tokens;
  if (!options.tokens_file.empty()) {
    WK_ASSIGN_OR_RETURN(TokenTable t, TokenTable::Load(options.tokens_file));
    tokens = std::make_unique<TokenTable>(std::move(t));
  } else if (!IsLoopbackAddress(options.listen)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "refusing to listen on non-loopback %s without --tokens (anyone could read and erase)", options.listen));
  }
  std::shared_ptr<grpc::ServerCredentials> creds;
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return absl::InvalidArgumentError("TLS needs both --tls-cert and --tls-key");
  }
  if (!options.tls_cert_file.empty()) {
    WK_ASSIGN_OR_RETURN(std::string cert, indexer::ReadFileToString(options.tls_cert_file));
    WK_ASSIGN_OR_RETURN(std::string key, indexer::ReadFileToString(options.tls_key_file));
    grpc::SslServerCredentialsOptions ssl;
    ssl.pem_key_cert_pairs.push_back({std::move(key), std::move(cert)});
    creds = grpc::SslServerCredentials(ssl);
  } else {
    creds = grpc::InsecureServerCredentials();
  }

  auto service = std::make_unique<WhoKnowsService>(backend, std::move(tokens), options.ingest_batch);
  grpc::EnableDefaultHealthCheckService(true);
  // Explicit call: with --as-needed the reflection library is otherwise dropped.
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.listen, creds, &port);
  builder.RegisterService(service.get());
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return absl::UnavailableError(absl::StrFormat("cannot listen on %s", options.listen));
  }
  if (grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService()) {
    health->SetServingStatus(kServiceName, true);
  }
  std::string_view host = HostOf(options.listen);
  std::string address = host.find(':') != std::string_view::npos ? absl::StrFormat("[%s]:%d", host, port)
                                                                 : absl::StrFormat("%s:%d", host, port);
  return std::unique_ptr<Server>(new ServerImpl(std::move(service), std::move(server), port, std::move(address)));
}

}  // namespace whoknows::service

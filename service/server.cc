// The gRPC server: whoknows.v1.WhoKnows on the callback API, plus the standard
// health service and server reflection.
//
// The reader calls run on the admission executor (whoknows/admission: bounded
// workers and queue; RESOURCE_EXHAUSTED beyond, DEADLINE_EXCEEDED for calls
// that expired while queued); admin calls run inline on the gRPC callback
// thread (the Backend is thread-safe and queries run on immutable snapshots). Each handler
// authenticates, checks the role, and checks cancellation / the deadline
// before the heavy work. An Ingest stream converts each message through the
// JSONL parser, commits every `ingest_batch` messages and at the end of the
// stream (also when the stream is cancelled, e.g. by a shutdown deadline),
// and answers only after Backend::Ingest committed and swapped the snapshot.

#include "whoknows/service/server.h"

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
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
#include "status_convert.h"
#include "whoknows/admission/admission.h"
#include "whoknows/base/log.h"
#include "whoknows/base/status_macros.h"
#include "whoknows/indexer/input.h"
#include "whoknows/service/api.h"
#include "whoknows/service/tokens.h"
#include "whoknows/v1/whoknows.grpc.pb.h"

namespace whoknows::service {
namespace {

constexpr char kServiceName[] = "whoknows.v1.WhoKnows";


class WhoKnowsService final : public v1::WhoKnows::CallbackService {
 public:
  WhoKnowsService(Backend* backend, std::unique_ptr<TokenTable> tokens, size_t ingest_batch,
                  const admission::Options& admission)
      : api_(backend, std::move(tokens)),
        ingest_batch_(ingest_batch == 0 ? 5000 : ingest_batch),
        executor_(admission) {}

  // Authenticates the call and checks that its role is at least `min`.
  absl::StatusOr<Caller> Authorize(grpc::CallbackServerContext* ctx, Role min) const {
    std::string_view header;
    const auto& md = ctx->client_metadata();
    auto it = md.find("authorization");
    if (it != md.end()) header = std::string_view(it->second.data(), it->second.size());
    return api_.Authorize(header, min);
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

  // The expensive reader calls: authorised on the gRPC thread, then run by the
  // admission executor (bounded concurrency and queue), so an overload is shed
  // with RESOURCE_EXHAUSTED, a call whose deadline passed while it waited is
  // dropped with DEADLINE_EXCEEDED, and gRPC's own threads stay free for
  // health checks and cheap calls. `fn` must capture by value (it runs later).
  template <typename Fn>
  grpc::ServerUnaryReactor* Admitted(grpc::CallbackServerContext* ctx, Role min, Fn fn) {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    absl::StatusOr<Caller> caller = Authorize(ctx, min);
    absl::Status status = caller.ok() ? CheckAlive(ctx) : caller.status();
    if (!status.ok()) {
      reactor->Finish(ToGrpcStatus(status));
      return reactor;
    }
    executor_.Submit(
        SteadyDeadline(ctx->deadline()), [ctx] { return ctx->IsCancelled(); },
        [ctx, reactor, caller = *std::move(caller), fn = std::move(fn)](const absl::Status& admitted) {
          absl::Status s = admitted;
          if (s.ok()) s = CheckAlive(ctx);
          if (s.ok()) s = fn(caller);
          reactor->Finish(ToGrpcStatus(s));
        });
    return reactor;
  }

  // The client's deadline on the steady clock (max() when it has none).
  static admission::Executor::Clock::time_point SteadyDeadline(std::chrono::system_clock::time_point d) {
    const auto left = d - std::chrono::system_clock::now();
    if (left > std::chrono::hours(24 * 365)) return admission::Executor::Clock::time_point::max();
    return admission::Executor::Clock::now() +
           std::chrono::duration_cast<admission::Executor::Clock::duration>(left);
  }

  admission::Stats admission_stats() const { return executor_.stats(); }

  // Every unary call is the transport-free Api call of the same name (api.h),
  // which the HTTP/JSON server (http/) calls too.
  grpc::ServerUnaryReactor* FindExperts(grpc::CallbackServerContext* ctx, const v1::FindExpertsRequest* req,
                                        v1::FindExpertsResponse* resp) override {
    return Admitted(ctx, kQueryRole, [this, req, resp](const Caller& c) { return api_.FindExperts(c, *req, resp); });
  }

  grpc::ServerUnaryReactor* SuggestConnections(grpc::CallbackServerContext* ctx,
                                               const v1::SuggestConnectionsRequest* req,
                                               v1::SuggestConnectionsResponse* resp) override {
    return Admitted(ctx, kQueryRole, [this, req, resp](const Caller& c) { return api_.SuggestConnections(c, *req, resp); });
  }

  grpc::ServerUnaryReactor* GetPerson(grpc::CallbackServerContext* ctx, const v1::GetPersonRequest* req,
                                      v1::GetPersonResponse* resp) override {
    return Admitted(ctx, kQueryRole, [this, req, resp](const Caller& c) { return api_.GetPerson(c, *req, resp); });
  }

  grpc::ServerUnaryReactor* ListTopics(grpc::CallbackServerContext* ctx, const v1::ListTopicsRequest* req,
                                       v1::ListTopicsResponse* resp) override {
    return Admitted(ctx, kQueryRole, [this, req, resp](const Caller& c) { return api_.ListTopics(c, *req, resp); });
  }

  grpc::ServerUnaryReactor* GetStats(grpc::CallbackServerContext* ctx, const v1::GetStatsRequest* req,
                                     v1::GetStatsResponse* resp) override {
    return Admitted(ctx, kQueryRole, [this, req, resp](const Caller& c) { return api_.GetStats(c, *req, resp); });
  }

  grpc::ServerUnaryReactor* OptOut(grpc::CallbackServerContext* ctx, const v1::OptOutRequest* req,
                                   v1::OptOutResponse* resp) override {
    return Unary(ctx, kAdminRole, [&](const Caller& c) { return api_.OptOut(c, *req, resp); });
  }

  grpc::ServerUnaryReactor* Erase(grpc::CallbackServerContext* ctx, const v1::EraseRequest* req,
                                  v1::EraseResponse* resp) override {
    return Unary(ctx, kAdminRole, [&](const Caller& c) { return api_.Erase(c, *req, resp); });
  }

  grpc::ServerUnaryReactor* GetTopicCoverage(grpc::CallbackServerContext* ctx, const v1::GetTopicCoverageRequest* req,
                                             v1::GetTopicCoverageResponse* resp) override {
    return Admitted(ctx, kTalentRole,
                    [this, req, resp](const Caller& c) { return api_.GetTopicCoverage(c, *req, resp); });
  }

  grpc::ServerUnaryReactor* GetTalentNetwork(grpc::CallbackServerContext* ctx, const v1::GetTalentNetworkRequest* req,
                                             v1::GetTalentNetworkResponse* resp) override {
    return Admitted(ctx, kTalentRole,
                    [this, req, resp](const Caller& c) { return api_.GetTalentNetwork(c, *req, resp); });
  }

  grpc::ServerReadReactor<v1::Message>* Ingest(grpc::CallbackServerContext* ctx, v1::IngestResponse* resp) override;

  // --- routing log and availability (issue 14): writes run inline like the
  // admin calls; ListRoutings is a reader call on the admission executor.
  grpc::ServerUnaryReactor* RecordRouting(grpc::CallbackServerContext* ctx, const v1::RecordRoutingRequest* req,
                                          v1::RecordRoutingResponse* resp) override {
    return Unary(ctx, kRoutingRole, [&](const Caller& c) { return api_.RecordRouting(c, *req, resp); });
  }

  grpc::ServerUnaryReactor* RecordOutcome(grpc::CallbackServerContext* ctx, const v1::RecordOutcomeRequest* req,
                                          v1::RecordOutcomeResponse* resp) override {
    return Unary(ctx, kRoutingRole, [&](const Caller& c) { return api_.RecordOutcome(c, *req, resp); });
  }

  grpc::ServerUnaryReactor* SetAvailability(grpc::CallbackServerContext* ctx, const v1::SetAvailabilityRequest* req,
                                            v1::SetAvailabilityResponse* resp) override {
    return Unary(ctx, kQueryRole, [&](const Caller& c) { return api_.SetAvailability(c, *req, resp); });
  }

  grpc::ServerUnaryReactor* ListRoutings(grpc::CallbackServerContext* ctx, const v1::ListRoutingsRequest* req,
                                         v1::ListRoutingsResponse* resp) override {
    return Admitted(ctx, kQueryRole, [this, req, resp](const Caller& c) { return api_.ListRoutings(c, *req, resp); });
  }

  Backend* backend() const { return api_.backend(); }
  size_t ingest_batch() const { return ingest_batch_; }

 private:
  Api api_;
  size_t ingest_batch_;
  admission::Executor executor_;  // last: its destructor drains calls that use the members above
};

class IngestReactor final : public grpc::ServerReadReactor<v1::Message> {
 public:
  IngestReactor(WhoKnowsService* service, grpc::CallbackServerContext* ctx, v1::IngestResponse* resp)
      : ctx_(ctx), resp_(resp) {
    absl::StatusOr<Caller> caller = service->Authorize(ctx, kIngestRole);
    if (!caller.ok()) {
      Finish(ToGrpcStatus(caller.status()));
      return;
    }
    stream_.emplace(service->backend(), absl::StrFormat("grpc:%s", caller->name), service->ingest_batch());
    // Tells the client the stream was accepted: from here on a shutdown lets
    // it finish (within the grace period) and commits what it sent.
    StartSendInitialMetadata();
    StartRead(&msg_);
  }

  void OnReadDone(bool ok) override {
    if (ok) {
      absl::Status s = stream_->Add(msg_);
      if (!s.ok()) {
        Finish(ToGrpcStatus(s));
        return;
      }
      StartRead(&msg_);
      return;
    }
    // End of the stream, or the call was cancelled (client gone, shutdown
    // deadline): commit what arrived either way; re-ingest is idempotent.
    absl::Status s = stream_->Flush();
    if (s.ok()) ToProto(stream_->total(), resp_);
    if (s.ok() && ctx_->IsCancelled())
      s = absl::CancelledError("ingest stream cancelled (received messages committed)");
    Finish(ToGrpcStatus(s));
  }

  void OnDone() override { delete this; }

 private:
  grpc::CallbackServerContext* ctx_;
  v1::IngestResponse* resp_;
  std::optional<IngestStream> stream_;
  v1::Message msg_;
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
    const admission::Stats a = service_->admission_stats();
    if (a.shed_full + a.shed_waited + a.dropped_deadline > 0) {
      LogInfo("admission: %d calls run, %d shed (queue full), %d shed (waited too long), %d dropped (deadline passed)",
              a.admitted, a.shed_full, a.shed_waited, a.dropped_deadline);
    }
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
  admission::Stats admission_stats() const override { return service_->admission_stats(); }

 private:
  std::unique_ptr<WhoKnowsService> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_;
  std::string address_;
  std::mutex shutdown_mu_;
  bool shut_down_ = false;
};

}  // namespace

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

  admission::Options admission;
  admission.workers = options.max_inflight;
  admission.max_queue = options.max_queue;
  admission.max_wait = std::chrono::milliseconds(options.max_queue_wait_ms);
  auto service = std::make_unique<WhoKnowsService>(backend, std::move(tokens), options.ingest_batch, admission);
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
  std::string_view host = HostOfAddress(options.listen);
  std::string address = host.find(':') != std::string_view::npos ? absl::StrFormat("[%s]:%d", host, port)
                                                                 : absl::StrFormat("%s:%d", host, port);
  return std::unique_ptr<Server>(new ServerImpl(std::move(service), std::move(server), port, std::move(address)));
}

}  // namespace whoknows::service

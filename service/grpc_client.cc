#include "whoknows/service/grpc_client.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "network_proto.h"
#include "nlohmann/json.hpp"
#include "status_convert.h"
#include "whoknows/indexer/input.h"
#include "whoknows/service/tokens.h"
#include "whoknows/v1/whoknows.grpc.pb.h"

namespace whoknows::service {

namespace {
constexpr int kMaxAnswerBytes = 512 << 20;
}  // namespace

struct RemoteClient::Impl {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::WhoKnows::Stub> stub;
  std::string token;

  void Prepare(grpc::ClientContext* ctx, double timeout) const {
    if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
    ctx->set_deadline(std::chrono::system_clock::now() +
                      std::chrono::microseconds(static_cast<int64_t>(timeout * 1e6)));
  }
};

namespace {


absl::StatusOr<v1::Message> JsonToMessage(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return absl::InvalidArgumentError("not a JSON object");
  v1::Message m;
  auto str = [&](const char* key, std::string* out) -> bool {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return true;
    if (!it->is_string()) return false;
    *out = it->get<std::string>();
    return true;
  };
  auto list = [&](const char* key, google::protobuf::RepeatedPtrField<std::string>* out) -> bool {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return true;
    if (!it->is_array()) return false;
    for (const auto& e : *it) {
      if (!e.is_string()) return false;
      out->Add(e.get<std::string>());
    }
    return true;
  };
  bool ok = str("id", m.mutable_id()) && str("source", m.mutable_source()) && str("kind", m.mutable_kind()) &&
            str("author", m.mutable_author()) && str("author_name", m.mutable_author_name()) &&
            str("title", m.mutable_title()) && str("text", m.mutable_text()) && str("thread", m.mutable_thread()) &&
            str("reply_to", m.mutable_reply_to()) && str("community", m.mutable_community()) &&
            str("visibility", m.mutable_visibility()) && list("mentions", m.mutable_mentions()) &&
            list("tags", m.mutable_tags());
  if (!ok) return absl::InvalidArgumentError("a field has the wrong type");
  if (auto it = j.find("timestamp"); it != j.end() && !it->is_null()) {
    if (!it->is_number_integer()) return absl::InvalidArgumentError("timestamp must be integer seconds");
    m.set_timestamp(it->get<int64_t>());
  }
  if (auto it = j.find("score"); it != j.end() && !it->is_null()) {
    if (!it->is_number_integer()) return absl::InvalidArgumentError("score must be an integer");
    m.set_score(it->get<int32_t>());
  }
  if (auto it = j.find("accepted"); it != j.end() && !it->is_null()) {
    if (!it->is_boolean()) return absl::InvalidArgumentError("accepted must be a boolean");
    m.set_accepted(it->get<bool>());
  }
  return m;
}

}  // namespace

RemoteClient::RemoteClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RemoteClient::~RemoteClient() = default;

absl::StatusOr<std::unique_ptr<RemoteClient>> RemoteClient::Connect(const std::string& address,
                                                                    const std::string& token,
                                                                    const std::string& ca_file) {
  if (address.empty()) return absl::InvalidArgumentError("no server address");
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (!ca_file.empty()) {
    absl::StatusOr<std::string> pem = indexer::ReadFileToString(ca_file);
    if (!pem.ok()) return pem.status();
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = *std::move(pem);
    creds = grpc::SslCredentials(ssl);
  } else {
    creds = grpc::InsecureChannelCredentials();
  }
  auto impl = std::make_unique<Impl>();
  // "IP:PORT,IP:PORT,...": replicas behind one channel, calls spread over
  // them round-robin (a replica that is down is skipped until it is back).
  std::string target = address;
  grpc::ChannelArguments args;
  // Talent network and coverage answers over a whole organisation run to tens of
  // MiB (the shared corpus's 22k topics: 29 MB), past gRPC's 4 MiB default.
  args.SetMaxReceiveMessageSize(kMaxAnswerBytes);
  if (address.find(',') != std::string::npos) {
    target = (address.front() == '[' ? "ipv6:" : "ipv4:") + address;
    args.SetLoadBalancingPolicyName("round_robin");
  }
  impl->channel = grpc::CreateCustomChannel(target, creds, args);
  impl->stub = v1::WhoKnows::NewStub(impl->channel);
  impl->token = token;
  return std::unique_ptr<RemoteClient>(new RemoteClient(std::move(impl)));
}

absl::StatusOr<ExpertsAnswer> RemoteClient::FindExperts(const ExpertsQuery& q) {
  v1::FindExpertsRequest req;
  req.set_text(q.text);
  req.set_k(static_cast<uint32_t>(std::min<size_t>(q.k, UINT32_MAX)));
  for (const std::string& s : q.communities) req.add_communities(s);
  for (const std::string& s : q.topics) req.add_topics(s);
  for (const std::string& s : q.exclude) req.add_exclude(s);
  req.mutable_window()->set_from(q.from);
  req.mutable_window()->set_to(q.to);
  if (q.balance.has_value()) req.set_balance(*q.balance ? v1::BALANCE_ON : v1::BALANCE_OFF);
  if (!q.asker.empty()) req.set_asker(q.asker);
  if (q.min_vote_share.has_value()) req.set_min_vote_share(*q.min_vote_share);
  if (q.mix_evidence) req.set_mix_evidence(true);
  if (q.offset > 0) req.set_page_token(EncodePageToken(q.offset, QueryFingerprint(q)));
  v1::FindExpertsResponse resp;
  grpc::ClientContext ctx;
  impl_->Prepare(&ctx, timeout_seconds_);
  grpc::Status s = impl_->stub->FindExperts(&ctx, req, &resp);
  if (!s.ok()) return FromGrpcStatus(s);
  return FromProto(resp);
}

absl::StatusOr<std::vector<ConnectionResult>> RemoteClient::SuggestConnections(const ConnectQuery& q) {
  v1::SuggestConnectionsRequest req;
  req.set_person(q.person);
  req.set_about(q.about);
  req.set_k(static_cast<uint32_t>(std::min<size_t>(q.k, UINT32_MAX)));
  v1::SuggestConnectionsResponse resp;
  grpc::ClientContext ctx;
  impl_->Prepare(&ctx, timeout_seconds_);
  grpc::Status s = impl_->stub->SuggestConnections(&ctx, req, &resp);
  if (!s.ok()) return FromGrpcStatus(s);
  return FromProto(resp);
}

absl::StatusOr<ProfileResult> RemoteClient::GetPerson(const std::string& person) {
  v1::GetPersonRequest req;
  req.set_person(person);
  v1::GetPersonResponse resp;
  grpc::ClientContext ctx;
  impl_->Prepare(&ctx, timeout_seconds_);
  grpc::Status s = impl_->stub->GetPerson(&ctx, req, &resp);
  if (!s.ok()) return FromGrpcStatus(s);
  return FromProto(resp);
}

absl::StatusOr<std::vector<TopicResult>> RemoteClient::ListTopics(size_t limit) {
  TopicsQuery q;
  q.limit = limit;
  return FindTopics(q);
}

absl::StatusOr<std::vector<TopicResult>> RemoteClient::FindTopics(const TopicsQuery& q) {
  v1::ListTopicsRequest req;
  req.set_limit(static_cast<uint32_t>(std::min<size_t>(q.limit, UINT32_MAX)));
  for (const std::string& t : q.topics) req.add_topics(t);
  req.set_period_days(q.period_days);
  v1::ListTopicsResponse resp;
  grpc::ClientContext ctx;
  impl_->Prepare(&ctx, timeout_seconds_);
  grpc::Status s = impl_->stub->ListTopics(&ctx, req, &resp);
  if (!s.ok()) return FromGrpcStatus(s);
  return FromProto(resp);
}

absl::StatusOr<network::CoverageReport> RemoteClient::GetTopicCoverage(const network::NetworkOptions& options) {
  v1::GetTopicCoverageRequest req;
  OptionsToProto(options, req.mutable_query());
  v1::GetTopicCoverageResponse resp;
  grpc::ClientContext ctx;
  impl_->Prepare(&ctx, timeout_seconds_);
  grpc::Status s = impl_->stub->GetTopicCoverage(&ctx, req, &resp);
  if (!s.ok()) return FromGrpcStatus(s);
  return FromProto(resp, options);
}

absl::StatusOr<network::NetworkReport> RemoteClient::GetTalentNetwork(const network::NetworkOptions& options) {
  v1::GetTalentNetworkRequest req;
  OptionsToProto(options, req.mutable_query());
  req.set_include_graph(options.include_graph);
  v1::GetTalentNetworkResponse resp;
  grpc::ClientContext ctx;
  impl_->Prepare(&ctx, timeout_seconds_);
  grpc::Status s = impl_->stub->GetTalentNetwork(&ctx, req, &resp);
  if (!s.ok()) return FromGrpcStatus(s);
  return FromProto(resp, options);
}

absl::StatusOr<indexer::IndexStats> RemoteClient::GetStats() {
  v1::GetStatsRequest req;
  v1::GetStatsResponse resp;
  grpc::ClientContext ctx;
  impl_->Prepare(&ctx, timeout_seconds_);
  grpc::Status s = impl_->stub->GetStats(&ctx, req, &resp);
  if (!s.ok()) return FromGrpcStatus(s);
  return FromProto(resp);
}

absl::Status RemoteClient::OptOut(const std::string& person, bool opted_out) {
  v1::OptOutRequest req;
  req.set_person(person);
  req.set_opted_out(opted_out);
  v1::OptOutResponse resp;
  grpc::ClientContext ctx;
  impl_->Prepare(&ctx, timeout_seconds_);
  return FromGrpcStatus(impl_->stub->OptOut(&ctx, req, &resp));
}

absl::StatusOr<uint64_t> RemoteClient::Erase(const std::string& person) {
  v1::EraseRequest req;
  req.set_person(person);
  v1::EraseResponse resp;
  grpc::ClientContext ctx;
  impl_->Prepare(&ctx, timeout_seconds_);
  grpc::Status s = impl_->stub->Erase(&ctx, req, &resp);
  if (!s.ok()) return FromGrpcStatus(s);
  return resp.documents_removed();
}

absl::StatusOr<IngestCounts> RemoteClient::Ingest(const std::vector<std::string>& json_messages) {
  std::vector<v1::Message> messages;
  messages.reserve(json_messages.size());
  for (size_t i = 0; i < json_messages.size(); ++i) {
    absl::StatusOr<v1::Message> m = JsonToMessage(json_messages[i]);
    if (!m.ok()) return absl::InvalidArgumentError(absl::StrFormat("message %d: %s", i + 1, m.status().message()));
    messages.push_back(*std::move(m));
  }
  v1::IngestResponse resp;
  grpc::ClientContext ctx;
  impl_->Prepare(&ctx, timeout_seconds_);
  std::unique_ptr<grpc::ClientWriter<v1::Message>> writer = impl_->stub->Ingest(&ctx, &resp);
  for (const v1::Message& m : messages) {
    if (!writer->Write(m)) break;  // the server ended the call; Finish() tells why
  }
  writer->WritesDone();
  grpc::Status s = writer->Finish();
  if (!s.ok()) return FromGrpcStatus(s);
  return FromProto(resp);
}

absl::StatusOr<std::string> RemoteClient::RecordRouting(const RoutingRecord& r) {
  v1::RecordRoutingRequest req;
  ToProto(r, &req);
  v1::RecordRoutingResponse resp;
  grpc::ClientContext ctx;
  impl_->Prepare(&ctx, timeout_seconds_);
  grpc::Status s = impl_->stub->RecordRouting(&ctx, req, &resp);
  if (!s.ok()) return FromGrpcStatus(s);
  return resp.routing_id();
}

absl::Status RemoteClient::RecordOutcome(const std::string& routing_id, const std::string& person,
                                         routing::Outcome outcome, int64_t time) {
  v1::RecordOutcomeRequest req;
  req.set_routing_id(routing_id);
  req.set_person(person);
  req.set_outcome(std::string(routing::OutcomeName(outcome)));
  req.set_time(time);
  v1::RecordOutcomeResponse resp;
  grpc::ClientContext ctx;
  impl_->Prepare(&ctx, timeout_seconds_);
  return FromGrpcStatus(impl_->stub->RecordOutcome(&ctx, req, &resp));
}

absl::Status RemoteClient::SetAvailability(const std::string& person, const routing::Availability& a) {
  v1::SetAvailabilityRequest req;
  req.set_person(person);
  ToProto(a, &req);
  v1::SetAvailabilityResponse resp;
  grpc::ClientContext ctx;
  impl_->Prepare(&ctx, timeout_seconds_);
  return FromGrpcStatus(impl_->stub->SetAvailability(&ctx, req, &resp));
}

absl::StatusOr<std::vector<routing::RoutingEntry>> RemoteClient::ListRoutings(const std::string& person,
                                                                             size_t limit) {
  v1::ListRoutingsRequest req;
  req.set_person(person);
  req.set_limit(static_cast<uint32_t>(std::min<size_t>(limit, UINT32_MAX)));
  v1::ListRoutingsResponse resp;
  grpc::ClientContext ctx;
  impl_->Prepare(&ctx, timeout_seconds_);
  grpc::Status s = impl_->stub->ListRoutings(&ctx, req, &resp);
  if (!s.ok()) return FromGrpcStatus(s);
  return FromProto(resp);
}

}  // namespace whoknows::service

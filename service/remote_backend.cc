// Adapts the gRPC RemoteClient to the Backend interface so the CLI's query
// commands work the same over --db and --server.
#include "whoknows/service/grpc_client.h"
#include "whoknows/service/remote.h"

namespace whoknows::service {
namespace {

class RemoteBackend final : public Backend {
 public:
  explicit RemoteBackend(std::unique_ptr<RemoteClient> client) : client_(std::move(client)) {}

  // The caller's identity is the token given at connect time; `caller` is ignored.
  absl::StatusOr<ExpertsAnswer> FindExperts(const ExpertsQuery& q, const Caller&) override {
    return client_->FindExperts(q);
  }
  absl::StatusOr<std::vector<ConnectionResult>> SuggestConnections(const ConnectQuery& q, const Caller&) override {
    return client_->SuggestConnections(q);
  }
  absl::StatusOr<ProfileResult> GetPerson(const std::string& person, const Caller&) override {
    return client_->GetPerson(person);
  }
  absl::StatusOr<std::vector<TopicResult>> ListTopics(size_t limit, const Caller&) override {
    return client_->ListTopics(limit);
  }
  absl::StatusOr<std::vector<TopicResult>> FindTopics(const TopicsQuery& q, const Caller&) override {
    return client_->FindTopics(q);
  }
  absl::StatusOr<indexer::IndexStats> GetStats() override { return client_->GetStats(); }
  absl::StatusOr<IngestCounts> Ingest(std::vector<indexer::Record>,
                                      std::vector<std::pair<std::string, std::string>>) override {
    return absl::UnimplementedError("use RemoteClient::Ingest to stream JSON messages");
  }
  absl::Status OptOut(const std::string& person, bool opted_out) override { return client_->OptOut(person, opted_out); }
  absl::StatusOr<uint64_t> Erase(const std::string& person) override { return client_->Erase(person); }
  absl::StatusOr<std::string> RecordRouting(const RoutingRecord& r, const Caller&) override {
    return client_->RecordRouting(r);
  }
  absl::Status RecordOutcome(const std::string& routing_id, const std::string& person, routing::Outcome outcome,
                             int64_t time, const Caller&) override {
    return client_->RecordOutcome(routing_id, person, outcome, time);
  }
  absl::Status SetAvailability(const std::string& person, const routing::Availability& a, const Caller&) override {
    return client_->SetAvailability(person, a);
  }
  absl::StatusOr<std::vector<routing::RoutingEntry>> ListRoutings(const std::string& person, size_t limit,
                                                                  const Caller&) override {
    return client_->ListRoutings(person, limit);
  }

  absl::StatusOr<network::CoverageReport> GetTopicCoverage(const network::NetworkOptions& o, const Caller&) override {
    return client_->GetTopicCoverage(o);
  }
  absl::StatusOr<network::NetworkReport> GetTalentNetwork(const network::NetworkOptions& o, const Caller&) override {
    return client_->GetTalentNetwork(o);
  }
  uint64_t documents() const override { return 0; }
  uint64_t persons() const override { return 0; }

 private:
  std::unique_ptr<RemoteClient> client_;
};

}  // namespace

void InstallGrpcRemoteConnector() {
  SetRemoteConnector([](const RemoteTarget& t) -> absl::StatusOr<std::unique_ptr<Backend>> {
    auto client = RemoteClient::Connect(t.address, t.token, t.ca_file);
    if (!client.ok()) return client.status();
    return std::unique_ptr<Backend>(std::make_unique<RemoteBackend>(std::move(*client)));
  });
}

}  // namespace whoknows::service

// The routing RPCs end to end: a real server on 127.0.0.1:<ephemeral> with a
// tokens file (service role, a token bound to a person), called with the real
// RemoteClient.
#include <fstream>
#include <memory>
#include <string>

#include "../indexer/test_util.h"
#include "fixture.h"
#include "gtest/gtest.h"
#include "whoknows/base/testing.h"
#include "whoknows/service/backend.h"
#include "whoknows/service/grpc_client.h"
#include "whoknows/service/server.h"
#include "whoknows/service/tokens.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace whoknows::service {
namespace {

using namespace whoknows::routing::testing;
using whoknows::testing::TempDir;

class RoutingServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BackendOptions bo;
    bo.writable = true;
    ASSERT_OK_AND_ASSIGN(backend_, Backend::Open(dir_.Sub("db"), bo));
    ASSERT_OK(backend_->Ingest(Corpus(), {}).status());
    const std::string tokens = dir_.Sub("tokens.txt");
    std::ofstream(tokens) << "tok-reader  rita   reader    public\n"
                             "tok-ingest  igor   ingester  public,internal\n"
                             "tok-svc-in  bot    service   public,internal\n"
                             "tok-svc-pub web    service   public\n"
                             "tok-alice   alice  reader    public  person=alice@example.org\n"
                             "tok-admin   ada    admin     *\n";
    ServerOptions opts;
    opts.listen = "127.0.0.1:0";
    opts.tokens_file = tokens;
    ASSERT_OK_AND_ASSIGN(server_, Server::Start(backend_.get(), opts));
  }
  void TearDown() override {
    server_.reset();
    backend_.reset();
  }
  std::unique_ptr<RemoteClient> Client(const std::string& token) {
    auto c = RemoteClient::Connect(server_->address(), token, "");
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *std::move(c) : nullptr;
  }

  TempDir dir_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Server> server_;
};

TEST_F(RoutingServerTest, RolesAndVisibility) {
  RoutingRecord internal{.question_id = "jsonl:routing:q3", .people = {kCarol, kAlice}, .visibility = "internal"};
  EXPECT_EQ(Client("tok-reader")->RecordRouting(internal).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Client("tok-ingest")->RecordRouting(internal).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Client("tok-svc-pub")->RecordRouting(internal).status().code(), absl::StatusCode::kPermissionDenied);
  ASSERT_OK_AND_ASSIGN(std::string id, Client("tok-svc-in")->RecordRouting(internal));
  ASSERT_OK(Client("tok-svc-in")->RecordOutcome(id, kAlice, routing::Outcome::kHelpful, 0));
  // A public caller never sees the internal question, not even its id.
  auto pub = Client("tok-svc-pub");
  ASSERT_OK_AND_ASSIGN(auto seen, pub->ListRoutings("", 0));
  EXPECT_TRUE(seen.empty());
  EXPECT_EQ(pub->RecordOutcome(id, kAlice, routing::Outcome::kDeclined, 0).code(), absl::StatusCode::kPermissionDenied);
  ASSERT_OK_AND_ASSIGN(seen, Client("tok-alice")->ListRoutings("", 0));
  EXPECT_TRUE(seen.empty());
  ASSERT_OK_AND_ASSIGN(seen, Client("tok-admin")->ListRoutings(kAlice, 0));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].outcome, routing::Outcome::kHelpful);
  EXPECT_EQ(Client("tok-reader")->ListRoutings("", 0).status().code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(RoutingServerTest, AvailabilityAndBalanceOverGrpc) {
  auto alice = Client("tok-alice");
  EXPECT_EQ(alice->SetAvailability(kBob, {0, 1}).code(), absl::StatusCode::kPermissionDenied);
  ASSERT_OK(alice->SetAvailability(kAlice, {absl::ToUnixSeconds(absl::Now()) + 3600, 0}));
  ExpertsQuery q;
  q.text = "xapian index ranking";
  q.balance = true;
  ASSERT_OK_AND_ASSIGN(ExpertsAnswer a, Client("tok-reader")->FindExperts(q));
  ASSERT_FALSE(a.experts.empty());
  for (const ExpertResult& e : a.experts) {
    EXPECT_NE(e.person_id, kAlice);  // away
    bool has_load = false;
    for (const auto& [name, v] : e.components) has_load |= name == "load_penalty";
    EXPECT_TRUE(has_load) << e.person_id;
  }
  q.balance = false;
  ASSERT_OK_AND_ASSIGN(a, Client("tok-reader")->FindExperts(q));
  for (const ExpertResult& e : a.experts) {
    for (const auto& [name, v] : e.components) EXPECT_NE(name, "load_penalty");
  }
}

TEST(TokensTest, ServiceRoleAndPersonBinding) {
  ASSERT_OK_AND_ASSIGN(TokenTable t, TokenTable::Parse("a bot service public\nb me reader public person=mail:x@y\n", "t"));
  EXPECT_EQ(t.Find("a")->role, Role::kService);
  EXPECT_EQ(t.Find("b")->person, "mail:x@y");
  EXPECT_FALSE(TokenTable::Parse("a me reader public someone\n", "t").ok());
  EXPECT_FALSE(TokenTable::Parse("a me reader public person=\n", "t").ok());
}

}  // namespace
}  // namespace whoknows::service

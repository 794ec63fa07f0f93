// End-to-end tests of the gRPC server: a real server on 127.0.0.1:<ephemeral>
// over a real Backend (Xapian index in a temp dir), called with the real
// RemoteClient and raw stubs.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <atomic>
#include <cstring>
#include <map>
#include <sstream>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "../indexer/test_util.h"
#include "cli_run.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "whoknows/base/testing.h"
#include "whoknows/service/backend.h"
#include "whoknows/service/cli.h"
#include "whoknows/service/remote.h"
#include "whoknows/service/grpc_client.h"
#include "whoknows/service/server.h"
#include "whoknows/service/tokens.h"
#include "whoknows/v1/whoknows.grpc.pb.h"

namespace whoknows::service {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using whoknows::testing::TempDir;

constexpr int64_t kT0 = 1600000000;

indexer::Record Rec(std::string id, std::string author, std::string name, std::string title, std::string text,
                    std::string visibility, indexer::RecordKind kind, std::string thread = "",
                    std::string reply_to = "", std::vector<std::string> topics = {}) {
  indexer::Record r;
  r.source = "jsonl:fixture";
  r.id = "jsonl:fixture:" + id;
  r.kind = kind;
  r.thread_id = thread.empty() ? r.id : "jsonl:fixture:" + thread;
  if (!reply_to.empty()) r.reply_to = "jsonl:fixture:" + reply_to;
  r.author_key = "mail:" + author + "@example.org";
  r.author_name = std::move(name);
  r.title = std::move(title);
  r.text = std::move(text);
  r.visibility = std::move(visibility);
  r.community = "search";
  r.topics = std::move(topics);
  r.timestamp = kT0 + static_cast<int64_t>(std::hash<std::string>{}(id) % 100000);
  return r;
}

// alice, bob, dave: public. carol: only in "internal" documents (a thread with alice).
std::vector<indexer::Record> Fixture() {
  using K = indexer::RecordKind;
  return {
      Rec("q1", "alice", "Alice Smith", "How to tune BM25 in Xapian",
          "What k1 and b values work for xapian bm25 ranking?", "public", K::kQuestion, "", "", {"xapian", "ranking"}),
      Rec("a1", "bob", "Bob Jones", "", "For xapian bm25 ranking set k1 to 1.2 and b to 0.75; xapian ranking is fast.",
          "public", K::kAnswer, "q1", "q1", {"xapian", "ranking"}),
      Rec("q2", "dave", "Dave Brown", "Personalized pagerank on graphs", "How do I compute pagerank on a big graph?",
          "public", K::kQuestion, "", "", {"graphs"}),
      Rec("a2", "bob", "Bob Jones", "", "Use forward push for personalized pagerank on a graph.", "public", K::kAnswer,
          "q2", "q2", {"graphs"}),
      Rec("a3", "alice", "Alice Smith", "", "Power iteration also works for pagerank on small graphs.", "public",
          K::kAnswer, "q2", "q2", {"graphs"}),
      Rec("q3", "alice", "Alice Smith", "Xapian secret sauce", "Our internal zanzibar xapian tuning plan.", "internal",
          K::kQuestion, "", "", {"xapian"}),
      Rec("a4", "carol", "Carol Hidden", "", "The zanzibar xapian tuning uses custom weights; zanzibar zanzibar.",
          "internal", K::kAnswer, "q3", "q3", {"xapian"}),
      Rec("a5", "carol", "Carol Hidden", "", "More zanzibar notes about xapian ranking internals.", "internal",
          K::kAnswer, "q3", "q3", {"xapian"}),
  };
}

std::string WriteFile(const std::string& path, const std::string& content) {
  std::ofstream(path) << content;
  return path;
}

// A question pasted whole: `bytes` of text (a log with numbered lines) about xapian bm25 ranking.
std::string LongQuestion(size_t bytes) {
  std::string text = "How do I tune xapian bm25 ranking? The log follows.\n";
  for (int i = 0; text.size() < bytes; ++i) {
    text += absl::StrFormat("line %d: warning in bm25 weight k1=%d.%d b=0.75 at ranking.cc:%d\n", i, i % 3, i % 10,
                            100 + i);
  }
  text.resize(bytes);
  return text;
}

// A server over a fresh index holding Fixture().
class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = dir_.Sub("db");
    BackendOptions bo;
    bo.writable = true;
    ASSERT_OK_AND_ASSIGN(backend_, Backend::Open(db_, bo));
    ASSERT_OK_AND_ASSIGN(IngestCounts c, backend_->Ingest(Fixture(), {}));
    ASSERT_EQ(c.indexed, Fixture().size());
    tokens_file_ = WriteFile(dir_.Sub("tokens.txt"),
                             "# test tokens\n"
                             "tok-reader  rita   reader    public\n"
                             "tok-ingest  igor   ingester  public,internal\n"
                             "tok-admin   ada    admin     *\n"
                             "tok-hr      hal    hr        public\n");
  }
  void TearDown() override {
    server_.reset();
    backend_.reset();
  }

  void Start(ServerOptions opts = {}) {
    opts.listen = "127.0.0.1:0";
    ASSERT_OK_AND_ASSIGN(server_, Server::Start(backend_.get(), opts));
    ASSERT_GT(server_->port(), 0);
  }
  std::unique_ptr<RemoteClient> Client(const std::string& token = "", const std::string& ca = "",
                                       std::string address = "") {
    if (address.empty()) address = server_->address();
    absl::StatusOr<std::unique_ptr<RemoteClient>> c = RemoteClient::Connect(address, token, ca);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *std::move(c) : nullptr;
  }
  std::unique_ptr<v1::WhoKnows::Stub> Stub() {
    return v1::WhoKnows::NewStub(grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
  }
  std::string PersonId(const std::string& who) {
    absl::StatusOr<ProfileResult> p = backend_->GetPerson("mail:" + who + "@example.org", Caller{});
    EXPECT_TRUE(p.ok()) << p.status();
    return p.ok() ? p->person_id : "";
  }
  static std::vector<std::string> Names(const ExpertsAnswer& a) {
    std::vector<std::string> out;
    for (const ExpertResult& e : a.experts) out.push_back(e.name);
    return out;
  }
  static ExpertsQuery Q(std::string text, size_t k = 10) {
    ExpertsQuery q;
    q.text = std::move(text);
    q.k = k;
    return q;
  }

  TempDir dir_;
  std::string db_;
  std::string tokens_file_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Server> server_;
};

TEST_F(ServerTest, EveryRpcHappyPath) {
  Start();
  auto client = Client();
  ASSERT_OK_AND_ASSIGN(ExpertsAnswer a, client->FindExperts(Q("xapian bm25 ranking")));
  ASSERT_FALSE(a.experts.empty());
  EXPECT_THAT(Names(a), Contains("Bob Jones"));
  EXPECT_GT(a.documents_matched, 0u);
  // The same answer as the local backend.
  ASSERT_OK_AND_ASSIGN(ExpertsAnswer local, backend_->FindExperts(Q("xapian bm25 ranking"), Caller{}));
  ASSERT_EQ(a.experts.size(), local.experts.size());
  for (size_t i = 0; i < a.experts.size(); ++i) {
    EXPECT_EQ(a.experts[i].person_id, local.experts[i].person_id);
    EXPECT_DOUBLE_EQ(a.experts[i].score, local.experts[i].score);
    EXPECT_EQ(a.experts[i].evidence.size(), local.experts[i].evidence.size());
    EXPECT_EQ(a.experts[i].components.size(), local.experts[i].components.size());
  }
  bool any_evidence = false;
  for (const ExpertResult& e : a.experts) any_evidence |= !e.evidence.empty();
  EXPECT_TRUE(any_evidence);

  ConnectQuery cq;
  cq.person = "mail:dave@example.org";
  ASSERT_OK_AND_ASSIGN(std::vector<ConnectionResult> conns, client->SuggestConnections(cq));
  ASSERT_OK_AND_ASSIGN(std::vector<ConnectionResult> local_conns, backend_->SuggestConnections(cq, Caller{}));
  ASSERT_EQ(conns.size(), local_conns.size());
  for (size_t i = 0; i < conns.size(); ++i) EXPECT_EQ(conns[i].person_id, local_conns[i].person_id);

  ASSERT_OK_AND_ASSIGN(ProfileResult p, client->GetPerson("mail:alice@example.org"));
  EXPECT_EQ(p.name, "Alice Smith");
  EXPECT_EQ(p.documents, 3u);  // q1, a3 and the internal q3
  EXPECT_FALSE(p.topics.empty());

  ASSERT_OK_AND_ASSIGN(std::vector<TopicResult> topics, client->ListTopics(10));
  std::vector<std::string> topic_names;
  for (const TopicResult& t : topics) topic_names.push_back(t.topic);
  EXPECT_THAT(topic_names, Contains("xapian"));
  EXPECT_THAT(topic_names, Contains("graphs"));

  ASSERT_OK_AND_ASSIGN(indexer::IndexStats s, client->GetStats());
  EXPECT_EQ(s.documents, Fixture().size());
  EXPECT_EQ(s.persons, 4u);
}

TEST_F(ServerTest, InvalidArgumentsAndNotFound) {
  Start();
  auto client = Client();
  EXPECT_EQ(client->FindExperts(Q("")).status().code(), absl::StatusCode::kInvalidArgument);
  // Over the 64 KiB query limit: refused, and the message says the limit.
  absl::Status too_long = client->FindExperts(Q(std::string(kMaxQueryBytes + 1, 'x'))).status();
  EXPECT_EQ(too_long.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(too_long.message()), HasSubstr("the limit is 65536 bytes (64 KiB)"));
  ConnectQuery long_about;
  long_about.person = "mail:alice@example.org";
  long_about.about = std::string(kMaxQueryBytes + 1, 'x');
  EXPECT_EQ(client->SuggestConnections(long_about).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client->FindExperts(Q("xapian", 1001)).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client->GetPerson("mail:nobody@example.org").status().code(), absl::StatusCode::kNotFound);
  ConnectQuery cq;
  cq.person = "mail:nobody@example.org";
  EXPECT_EQ(client->SuggestConnections(cq).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(client->ListTopics(5000).status().code(), absl::StatusCode::kInvalidArgument);

  auto stub = Stub();
  for (const std::string& bad : std::vector<std::string>{"!!!", "AAAA", "bm90IGEgdG9rZW4", std::string(200, 'A')}) {
    v1::FindExpertsRequest req;
    req.set_text("xapian");
    req.set_page_token(bad);
    v1::FindExpertsResponse resp;
    grpc::ClientContext ctx;
    EXPECT_EQ(stub->FindExperts(&ctx, req, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bad;
  }
  // A token of another query is rejected too.
  v1::FindExpertsRequest req;
  req.set_text("xapian");
  req.set_page_token(EncodePageToken(1, QueryFingerprint(Q("pagerank"))));
  v1::FindExpertsResponse resp;
  grpc::ClientContext ctx;
  EXPECT_EQ(stub->FindExperts(&ctx, req, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  // A weak-evidence share outside [0, 1]; a token of the same text with
  // another share.
  for (const double bad : {-0.1, 1.5, std::nan("")}) {
    v1::FindExpertsRequest share;
    share.set_text("xapian");
    share.set_min_vote_share(bad);
    grpc::ClientContext share_ctx;
    EXPECT_EQ(stub->FindExperts(&share_ctx, share, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bad;
  }
  {
    ExpertsQuery shared = Q("xapian");
    shared.min_vote_share = 0.5;
    v1::FindExpertsRequest other;
    other.set_text("xapian");
    other.set_page_token(EncodePageToken(1, QueryFingerprint(shared)));
    grpc::ClientContext other_ctx;
    EXPECT_EQ(stub->FindExperts(&other_ctx, other, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    other.set_min_vote_share(0.5);
    grpc::ClientContext same_ctx;
    EXPECT_TRUE(stub->FindExperts(&same_ctx, other, &resp).ok());
  }

  // An expired deadline is honoured.
  grpc::ClientContext late;
  late.set_deadline(std::chrono::system_clock::now() - std::chrono::seconds(1));
  v1::FindExpertsRequest ok_req;
  ok_req.set_text("xapian");
  EXPECT_EQ(stub->FindExperts(&late, ok_req, &resp).error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
}

// Long questions (issue 9.4): 20 KB is answered over gRPC like locally; one byte
// over 64 KiB is INVALID_ARGUMENT over the raw stub, with the limit in the message.
TEST_F(ServerTest, LongQuestionsUpTo64KiB) {
  Start();
  const std::string q20k = LongQuestion(20000);
  ASSERT_OK_AND_ASSIGN(ExpertsAnswer remote, Client()->FindExperts(Q(q20k)));
  ASSERT_OK_AND_ASSIGN(ExpertsAnswer local, backend_->FindExperts(Q(q20k), Caller{}));
  ASSERT_FALSE(remote.experts.empty());
  EXPECT_EQ(Names(remote), Names(local));
  EXPECT_THAT(Names(remote), Contains("Bob Jones"));
  EXPECT_OK(Client()->FindExperts(Q(LongQuestion(kMaxQueryBytes))).status());

  auto stub = Stub();
  v1::FindExpertsRequest req;
  req.set_text(LongQuestion(kMaxQueryBytes + 1));
  v1::FindExpertsResponse resp;
  grpc::ClientContext ctx;
  grpc::Status st = stub->FindExperts(&ctx, req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(st.error_message(), HasSubstr("query text is 65537 bytes; the limit is 65536 bytes (64 KiB)"));
}

// The CLI: `ask` takes a 20 KB question (argument, standard input, --server)
// and refuses 64 KiB + 1 with exit 2 and the limit on stderr.
int RunQueryCli(const std::vector<std::string>& args, std::string* out, std::string* err) {
  return whoknows::testing::RunCli(RegisterQueryCommands, args, out, err);
}

TEST_F(ServerTest, CliAskLongQuestions) {
  Start();
  InstallGrpcRemoteConnector();
  std::string out, err;
  for (const std::vector<std::string>& target :
       {std::vector<std::string>{"--db", db_}, std::vector<std::string>{"--server", server_->address()}}) {
    std::vector<std::string> args = {"ask", LongQuestion(20000), "--json"};
    args.insert(args.end(), target.begin(), target.end());
    ASSERT_EQ(RunQueryCli(args, &out, &err), 0) << err;
    nlohmann::json j = nlohmann::json::parse(out, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << out;
    ASSERT_FALSE(j["experts"].empty());
    EXPECT_EQ(j["query"].get<std::string>().size(), 20000u);

    args = {"ask", LongQuestion(kMaxQueryBytes + 1)};
    args.insert(args.end(), target.begin(), target.end());
    EXPECT_EQ(RunQueryCli(args, &out, &err), 2);
    EXPECT_THAT(err, HasSubstr("query text is 65537 bytes; the limit is 65536 bytes (64 KiB)"));
    EXPECT_TRUE(out.empty()) << out;
  }
  // `ask -` reads the question from standard input.
  const std::string question = dir_.Sub("question.txt");
  WriteFile(question, LongQuestion(20000));
  FILE* saved = stdin;
  stdin = std::fopen(question.c_str(), "r");
  ASSERT_NE(stdin, nullptr);
  const int rc = RunQueryCli({"ask", "-", "--json", "--db", db_}, &out, &err);
  std::fclose(stdin);
  stdin = saved;
  ASSERT_EQ(rc, 0) << err;
  nlohmann::json j = nlohmann::json::parse(out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << out;
  EXPECT_EQ(j["query"].get<std::string>(), LongQuestion(20000));
}

// `profile` draws each year's bar against the person's busiest year: the
// busiest gets the full 60 marks, the others in proportion (issue 9.5).
TEST_F(ServerTest, CliProfileBarsScaleToBusiestYear) {
  std::vector<indexer::Record> recs;
  const int64_t kYear = 365 * 86400;
  const int per_year[] = {3, 120, 60, 240};  // 2015..2018 (Jan), busiest 240
  for (int y = 0; y < 4; ++y) {
    for (int i = 0; i < per_year[y]; ++i) {
      indexer::Record r = Rec(absl::StrFormat("busy-%d-%d", y, i), "erin", "Erin Busy", "", "zymurgy notes",
                              "public", indexer::RecordKind::kPost);
      r.timestamp = 1420070400 + y * kYear + 86400 * 20 + i * 60;  // 2015-01-21 + y years
      recs.push_back(std::move(r));
    }
  }
  ASSERT_OK(backend_->Ingest(recs, {}).status());
  std::string out, err;
  ASSERT_EQ(RunQueryCli({"profile", "--person", "mail:erin@example.org", "--db", db_}, &out, &err), 0) << err;
  std::map<int, std::pair<size_t, int>> bars;  // year -> (marks, count)
  std::istringstream lines(out.substr(out.find("activity:")));
  std::string line;
  while (std::getline(lines, line)) {
    int year = 0, n = 0;
    char marks[128] = {0};
    if (std::sscanf(line.c_str(), " %d %127[#] %d", &year, marks, &n) == 3) bars[year] = {std::strlen(marks), n};
  }
  ASSERT_EQ(bars.size(), 4u) << out;
  EXPECT_EQ(bars[2018], std::make_pair(size_t{60}, 240));
  EXPECT_EQ(bars[2016], std::make_pair(size_t{30}, 120));
  EXPECT_EQ(bars[2017], std::make_pair(size_t{15}, 60));
  EXPECT_EQ(bars[2015], std::make_pair(size_t{1}, 3));
}

// Two persons with one name (kept apart: one wrote to the other) are two
// contacts in a profile, told apart by their ids; one merged person is one.
TEST_F(ServerTest, ProfileContactsWithOneNameAreToldApart) {
  using K = indexer::RecordKind;
  indexer::Record r1 = Rec("c1", "sam", "Sam Lee", "", "zymurgy answer one", "public", K::kAnswer, "q2", "q2");
  r1.mentions = {"mail:samuel@example.org"};
  indexer::Record r2 = Rec("c2", "samuel", "Sam Lee", "", "zymurgy answer two", "public", K::kAnswer, "q2", "q2");
  indexer::Record r3 = Rec("c3", "bobby", "Bob Jones", "", "zymurgy answer three", "public", K::kAnswer, "q2", "q2");
  ASSERT_OK(backend_->Ingest({r1, r2, r3}, {}).status());
  ASSERT_OK_AND_ASSIGN(ProfileResult p, backend_->GetPerson("mail:dave@example.org", Caller{}));
  std::vector<std::string> names;
  for (const auto& [name, n] : p.contacts) names.push_back(name);
  EXPECT_THAT(names, Contains("Sam Lee (mail:sam@example.org)"));
  EXPECT_THAT(names, Contains("Sam Lee (mail:samuel@example.org)"));
  EXPECT_EQ(std::count(names.begin(), names.end(), "Bob Jones"), 1);  // bob and bobby merged by name
}

TEST_F(ServerTest, PageTokensWalkTheRanking) {
  Start();
  auto stub = Stub();
  ASSERT_OK_AND_ASSIGN(ExpertsAnswer all, backend_->FindExperts(Q("xapian pagerank graph ranking", 50), Caller{}));
  ASSERT_GE(all.experts.size(), 2u);
  std::vector<std::string> paged;
  std::string token;
  for (int page = 0; page < 60; ++page) {
    v1::FindExpertsRequest req;
    req.set_text("xapian pagerank graph ranking");
    req.set_k(1);
    req.set_page_token(token);
    v1::FindExpertsResponse resp;
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub->FindExperts(&ctx, req, &resp).ok());
    for (const v1::Expert& e : resp.experts()) paged.push_back(e.person_id());
    token = resp.next_page_token();
    if (token.empty()) break;
  }
  std::vector<std::string> expected;
  for (const ExpertResult& e : all.experts) expected.push_back(e.person_id);
  EXPECT_EQ(paged, expected);
  // The client's offset maps to a page token.
  auto client = Client();
  ExpertsQuery q = Q("xapian pagerank graph ranking", 1);
  q.offset = 1;
  ASSERT_OK_AND_ASSIGN(ExpertsAnswer second, client->FindExperts(q));
  ASSERT_EQ(second.experts.size(), 1u);
  EXPECT_EQ(second.experts[0].person_id, expected[1]);
}

TEST_F(ServerTest, TokensAndRoles) {
  ServerOptions opts;
  opts.tokens_file = tokens_file_;
  Start(opts);
  EXPECT_EQ(Client("")->GetStats().status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(Client("wrong")->GetStats().status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_OK(Client("tok-reader")->GetStats());

  const std::string msg = R"({"id":"r1","author":"rita@example.org","timestamp":1600000000,"text":"hello"})";
  EXPECT_EQ(Client("tok-reader")->Ingest({msg}).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Client("tok-reader")->Erase("mail:bob@example.org").status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Client("tok-ingest")->OptOut("mail:bob@example.org", true).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Client("tok-ingest")->Erase("mail:bob@example.org").status().code(), absl::StatusCode::kPermissionDenied);
  ASSERT_OK_AND_ASSIGN(IngestCounts c, Client("tok-ingest")->Ingest({msg}));
  EXPECT_EQ(c.indexed, 1u);
  EXPECT_OK(Client("tok-admin")->OptOut("mail:bob@example.org", false));
  // Raw metadata forms.
  auto stub = Stub();
  for (const char* header : {"tok-reader", "Basic tok-reader", "Bearer", "Bearer tok-readerX"}) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", header);
    v1::GetStatsResponse resp;
    EXPECT_EQ(stub->GetStats(&ctx, v1::GetStatsRequest(), &resp).error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << header;
  }
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "bearer tok-reader");
  v1::GetStatsResponse resp;
  EXPECT_TRUE(stub->GetStats(&ctx, v1::GetStatsRequest(), &resp).ok());
}

TEST_F(ServerTest, NonLoopbackNeedsTokensAndTlsNeedsBothFiles) {
  ServerOptions opts;
  opts.listen = "0.0.0.0:0";
  EXPECT_EQ(Server::Start(backend_.get(), opts).status().code(), absl::StatusCode::kInvalidArgument);
  opts.listen = "127.0.0.1:0";
  opts.tls_cert_file = "/nonexistent.pem";
  EXPECT_EQ(Server::Start(backend_.get(), opts).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(IsLoopbackAddress("127.0.0.1:1"));
  EXPECT_TRUE(IsLoopbackAddress("[::1]:1"));
  EXPECT_TRUE(IsLoopbackAddress("localhost:1"));
  EXPECT_FALSE(IsLoopbackAddress("0.0.0.0:1"));
  EXPECT_FALSE(IsLoopbackAddress("[::]:1"));
  EXPECT_FALSE(IsLoopbackAddress("10.1.2.3:1"));
}

TEST(TokenTableTest, ParsesAndRejects) {
  ASSERT_OK_AND_ASSIGN(TokenTable t, TokenTable::Parse("# c\n\n a b reader x,y \nc d admin *\n", "f"));
  EXPECT_EQ(t.size(), 2u);
  ASSERT_NE(t.Find("a"), nullptr);
  EXPECT_EQ(t.Find("a")->name, "b");
  EXPECT_EQ(t.Find("a")->groups, (std::vector<std::string>{"x", "y"}));
  EXPECT_TRUE(t.Find("c")->groups.empty());
  EXPECT_EQ(t.Find("c")->role, Role::kAdmin);
  EXPECT_EQ(t.Find("zz"), nullptr);
  absl::Status s = TokenTable::Parse("a b boss x\n", "f").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("f:1"));
  EXPECT_FALSE(TokenTable::Parse("a b reader\n", "f").ok());
  EXPECT_FALSE(TokenTable::Parse("a b reader x\na c reader y\n", "f").ok());
  ASSERT_OK_AND_ASSIGN(TokenTable file, TokenTable::Load(WK_TEST_DATA_DIR "/tokens/tokens.txt"));
  EXPECT_GE(file.size(), 3u);
}

TEST(PageTokenTest, RoundTripAndRejects) {
  ExpertsQuery q;
  q.text = "x";
  const uint64_t fp = QueryFingerprint(q);
  ASSERT_OK_AND_ASSIGN(uint64_t off, DecodePageToken(EncodePageToken(30, fp), fp));
  EXPECT_EQ(off, 30u);
  EXPECT_FALSE(DecodePageToken(EncodePageToken(30, fp), fp + 1).ok());
  EXPECT_FALSE(DecodePageToken(EncodePageToken(1000000, fp), fp).ok());
  EXPECT_FALSE(DecodePageToken("", fp).ok());
  ExpertsQuery q2 = q;
  q2.topics = {"a"};
  EXPECT_NE(QueryFingerprint(q2), fp);
  ExpertsQuery q3 = q;
  q3.asker = "mail:a@example.org";  // the asker changes the ranking: another query's token
  EXPECT_NE(QueryFingerprint(q3), fp);
}

// FindExperts' asker goes over gRPC: it is neither required to be known nor excluded.
TEST_F(ServerTest, AskerIsPassedNotExcluded) {
  Start();
  auto client = Client();
  ASSERT_OK_AND_ASSIGN(ExpertsAnswer plain, client->FindExperts(Q("xapian bm25 ranking")));
  ASSERT_FALSE(plain.experts.empty());
  ExpertsQuery q = Q("xapian bm25 ranking");
  q.asker = plain.experts[0].person_id;
  ASSERT_OK_AND_ASSIGN(ExpertsAnswer asked, client->FindExperts(q));
  ASSERT_FALSE(asked.experts.empty());
  EXPECT_THAT(Names(asked), Contains(plain.experts[0].name));  // listed in exclude, it would be gone
  q.asker = "mail:nobody@example.org";
  ASSERT_OK_AND_ASSIGN(ExpertsAnswer unknown, client->FindExperts(q));
  EXPECT_EQ(Names(unknown), Names(plain));
}

TEST_F(ServerTest, HiddenPersonNeverLeaksToPublicReader) {
  ServerOptions opts;
  opts.tokens_file = tokens_file_;
  Start(opts);
  const std::string carol = PersonId("carol");
  auto admin = Client("tok-admin");
  // Sanity: with every group, carol is an expert on zanzibar.
  ASSERT_OK_AND_ASSIGN(ExpertsAnswer all, admin->FindExperts(Q("zanzibar xapian tuning")));
  EXPECT_THAT(Names(all), Contains("Carol Hidden"));

  auto reader = Client("tok-reader");
  for (const char* text : {"zanzibar xapian tuning", "xapian", "xapian ranking internals", "secret sauce"}) {
    absl::StatusOr<ExpertsAnswer> a = reader->FindExperts(Q(text, 100));
    ASSERT_TRUE(a.ok()) << a.status();
    for (const ExpertResult& e : a->experts) {
      EXPECT_NE(e.person_id, carol) << text;
      EXPECT_NE(e.name, "Carol Hidden") << text;
      for (const Evidence& ev : e.evidence) {
        EXPECT_THAT(ev.id, Not(::testing::AnyOf("jsonl:fixture:q3", "jsonl:fixture:a4", "jsonl:fixture:a5"))) << text;
      }
    }
  }
  for (const char* who : {"alice", "bob", "dave"}) {
    ConnectQuery cq;
    cq.person = absl::StrFormat("mail:%s@example.org", who);
    cq.k = 100;
    absl::StatusOr<std::vector<ConnectionResult>> conns = reader->SuggestConnections(cq);
    ASSERT_TRUE(conns.ok()) << conns.status();
    for (const ConnectionResult& c : *conns) {
      EXPECT_NE(c.person_id, carol);
      EXPECT_THAT(c.mutual_contacts, Not(Contains("Carol Hidden")));
    }
  }
  absl::StatusOr<ProfileResult> p = reader->GetPerson("mail:carol@example.org");
  if (p.ok()) {
    EXPECT_EQ(p->documents, 0u);
    EXPECT_TRUE(p->top_documents.empty());
  } else {
    EXPECT_EQ(p.status().code(), absl::StatusCode::kNotFound);
  }
  ASSERT_OK_AND_ASSIGN(ProfileResult alice, reader->GetPerson("mail:alice@example.org"));
  for (const auto& [name, n] : alice.contacts) EXPECT_NE(name, "Carol Hidden");
  for (const Evidence& e : alice.top_documents) EXPECT_NE(e.id, "jsonl:fixture:q3");
  ASSERT_OK_AND_ASSIGN(std::vector<TopicResult> topics, reader->ListTopics(100));
  for (const TopicResult& t : topics) {
    for (const auto& [name, s] : t.top_people) EXPECT_NE(name, "Carol Hidden");
  }
}

TEST_F(ServerTest, OptOutAndErase) {
  ServerOptions opts;
  opts.tokens_file = tokens_file_;
  Start(opts);
  auto admin = Client("tok-admin");
  ASSERT_OK_AND_ASSIGN(ExpertsAnswer before, admin->FindExperts(Q("pagerank graph")));
  ASSERT_THAT(Names(before), Contains("Bob Jones"));
  ASSERT_OK(admin->OptOut("mail:bob@example.org", true));
  ASSERT_OK_AND_ASSIGN(ExpertsAnswer opted, admin->FindExperts(Q("pagerank graph")));
  EXPECT_THAT(Names(opted), Not(Contains("Bob Jones")));
  ASSERT_OK(admin->OptOut("mail:bob@example.org", false));
  ASSERT_OK_AND_ASSIGN(ExpertsAnswer back, admin->FindExperts(Q("pagerank graph")));
  EXPECT_THAT(Names(back), Contains("Bob Jones"));

  ASSERT_OK_AND_ASSIGN(uint64_t removed, admin->Erase("mail:dave@example.org"));
  EXPECT_EQ(removed, 1u);
  EXPECT_EQ(admin->GetPerson("mail:dave@example.org").status().code(), absl::StatusCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(ExpertsAnswer after, admin->FindExperts(Q("pagerank graph")));
  EXPECT_THAT(Names(after), Not(Contains("Dave Brown")));
  ASSERT_OK_AND_ASSIGN(indexer::IndexStats s, admin->GetStats());
  EXPECT_EQ(s.documents, Fixture().size() - 1);
  EXPECT_EQ(admin->Erase("mail:nobody@example.org").status().code(), absl::StatusCode::kNotFound);
}

std::string Msg(const std::string& id, const std::string& author, const std::string& text,
                const std::string& visibility = "public") {
  nlohmann::json j = {{"id", id},     {"author", author},    {"author_name", author},   {"timestamp", kT0 + 500000},
                      {"text", text}, {"tags", {"physics"}}, {"visibility", visibility}};
  return j.dump();
}

TEST_F(ServerTest, IngestVisibleWithinOneSecondWhileQuerying) {
  Start();
  std::atomic<bool> stop{false};
  std::atomic<int> queries{0}, failures{0};
  std::thread querier([&] {
    auto c = Client();
    while (!stop.load()) {
      if (c->FindExperts(Q("xapian ranking")).ok()) {
        ++queries;
      } else {
        ++failures;
      }
    }
  });
  // Polls `pred` for up to 30 s (the querier thread may be slow to get going on a loaded box).
  auto wait_for = [](const std::function<bool()>& pred) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!pred() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return pred();
  };
  // The ingest happens while the querier is querying: it has answered once before.
  ASSERT_TRUE(wait_for([&] { return queries.load() + failures.load() > 0; }));
  auto client = Client();
  std::vector<std::string> msgs = {
      Msg("e1", "erin@example.org", "quantum chromodynamics lattice gauge theory"),
      Msg("e2", "erin@example.org", "more quantum chromodynamics on the lattice"),
      R"({"id":"bad1","timestamp":1600000000,"text":"no author"})",
  };
  ASSERT_OK_AND_ASSIGN(IngestCounts c, client->Ingest(msgs));
  const auto acked = std::chrono::steady_clock::now();
  EXPECT_EQ(c.received, 3u);
  EXPECT_EQ(c.indexed, 2u);
  EXPECT_EQ(c.skipped, 1u);
  ASSERT_EQ(c.skipped_by_reason.size(), 1u);
  EXPECT_EQ(c.skipped_by_reason[0].first, "missing-field");
  bool seen = false;
  while (!seen && std::chrono::steady_clock::now() - acked < std::chrono::seconds(1)) {
    absl::StatusOr<ExpertsAnswer> a = client->FindExperts(Q("quantum chromodynamics"));
    ASSERT_TRUE(a.ok()) << a.status();
    for (const ExpertResult& e : a->experts) seen |= e.name == "erin@example.org";
  }
  EXPECT_TRUE(seen) << "ingested expert not visible within 1 s of the acknowledgement";
  // Re-ingest: duplicates, nothing new.
  ASSERT_OK_AND_ASSIGN(IngestCounts again, client->Ingest({msgs[0]}));
  EXPECT_EQ(again.duplicates, 1u);
  EXPECT_EQ(again.indexed, 0u);
  // ... and after: at least one more query finished since the ingest.
  const int after_ingest = queries.load() + failures.load();
  EXPECT_TRUE(wait_for([&] { return queries.load() + failures.load() > after_ingest; }));
  stop = true;
  querier.join();
  EXPECT_GT(queries.load(), 0);
  EXPECT_EQ(failures.load(), 0);
}

TEST_F(ServerTest, ShutdownLosesNoAcknowledgedIngest) {
  ServerOptions opts;
  opts.ingest_batch = 7;  // several commits inside one stream
  Start(opts);
  auto stub = Stub();
  grpc::ClientContext ctx;
  v1::IngestResponse resp;
  auto writer = stub->Ingest(&ctx, &resp);
  writer->WaitForInitialMetadata();  // the server accepted the stream
  for (int i = 0; i < 40; ++i) {
    v1::Message m;
    m.set_id(absl::StrFormat("s%d", i));
    m.set_author("sam@example.org");
    m.set_timestamp(kT0 + 600000 + i);
    m.set_text("shutdown durability test message");
    m.set_visibility("public");
    ASSERT_TRUE(writer->Write(m));
  }
  // Shut down while the stream is still open; the call may finish within the
  // grace period (generous: a loaded box under ASan commits slowly).
  std::thread stopper([&] { server_->Shutdown(60); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  writer->WritesDone();
  grpc::Status s = writer->Finish();
  stopper.join();
  server_.reset();
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.indexed(), 40u);
  // Reopen from disk: everything acknowledged is there.
  backend_.reset();
  BackendOptions bo;
  ASSERT_OK_AND_ASSIGN(backend_, Backend::Open(db_, bo));
  EXPECT_EQ(backend_->documents(), Fixture().size() + 40);
}

TEST_F(ServerTest, TlsWithCertificateMadeNow) {
  const std::string cert = dir_.Sub("cert.pem"), key = dir_.Sub("key.pem");
  const std::string cmd = absl::StrFormat(
      "openssl req -x509 -newkey rsa:2048 -nodes -keyout %s -out %s -days 2 -subj /CN=localhost "
      "-addext 'subjectAltName=DNS:localhost,IP:127.0.0.1' >/dev/null 2>&1",
      key, cert);
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  ServerOptions opts;
  opts.tls_cert_file = cert;
  opts.tls_key_file = key;
  Start(opts);
  auto tls = Client("", cert);
  ASSERT_OK_AND_ASSIGN(indexer::IndexStats s, tls->GetStats());
  EXPECT_EQ(s.documents, Fixture().size());
  auto by_name = Client("", cert, absl::StrFormat("localhost:%d", server_->port()));
  EXPECT_OK(by_name->GetStats());
  auto plain = Client();
  plain->set_timeout_seconds(30);  // the failed handshake answers at once; the deadline must not come first
  EXPECT_EQ(plain->GetStats().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(RemoteClient::Connect(server_->address(), "", dir_.Sub("missing.pem")).status().code(),
            absl::StatusCode::kNotFound);
}

// The shipped binary: `whoknows serve` prints its port, serves, and exits 0 on
// SIGTERM after committing.
TEST_F(ServerTest, ServeCommandPrintsPortAndStopsOnSigterm) {
  const std::string bin = WK_BINARY_DIR "/service/whoknows";
  if (!std::filesystem::exists(bin)) GTEST_SKIP() << bin << " not built";
  backend_.reset();  // release the writer lock
  int out[2];
  ASSERT_EQ(pipe(out), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    dup2(out[1], 1);
    close(out[0]);
    execl(bin.c_str(), bin.c_str(), "serve", "--db", db_.c_str(), "--listen", "127.0.0.1:0", "--tokens",
          tokens_file_.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  FILE* f = fdopen(out[0], "r");
  char line[256] = {0};
  ASSERT_NE(fgets(line, sizeof(line), f), nullptr);
  std::string l(line);
  ASSERT_TRUE(l.starts_with("listening on 127.0.0.1:")) << l;
  const std::string address = l.substr(std::string("listening on ").size(), l.size() - 14);
  auto client = Client("tok-ingest", "", address.substr(0, address.find('\n')));
  ASSERT_OK_AND_ASSIGN(IngestCounts c, client->Ingest({Msg("z1", "zed@example.org", "zymurgy brewing yeast")}));
  EXPECT_EQ(c.indexed, 1u);
  client.reset();  // an idle connected channel delays gRPC's graceful shutdown by a few seconds
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  fclose(f);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  ASSERT_OK_AND_ASSIGN(backend_, Backend::Open(db_, BackendOptions{}));
  EXPECT_EQ(backend_->documents(), Fixture().size() + 1);
}

std::string RunCommand(const std::string& cmd, int* rc) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) {
    *rc = -1;
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  *rc = pclose(p);
  return out;
}

// A Python client (stubs generated now with protoc + grpc_python_plugin) gets
// the same experts as the C++ client, and sees health and reflection.
TEST_F(ServerTest, PythonClientAgreesAndSeesHealthAndReflection) {
  if (!std::filesystem::exists("/usr/bin/grpc_python_plugin")) GTEST_SKIP() << "no grpc_python_plugin";
  ServerOptions opts;
  opts.tokens_file = tokens_file_;
  Start(opts);
  const std::string gen = dir_.Sub("gen");
  std::filesystem::create_directories(gen);
  int rc = 0;
  std::string out =
      RunCommand(absl::StrFormat("protoc -I %s/proto -I /usr/share/grpc-proto/grpc/health/v1 "
                                 "-I /usr/share/grpc-proto/grpc/reflection/v1alpha --python_out=%s --grpc_out=%s "
                                 "--plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin whoknows/v1/whoknows.proto "
                                 "health.proto reflection.proto 2>&1",
                                 WK_SOURCE_DIR, gen, gen),
                 &rc);
  ASSERT_EQ(rc, 0) << out;
  out = RunCommand(absl::StrFormat("/usr/bin/python3 %s/tests/service/python/whoknows_client.py %s %s "
                                   "'xapian bm25 ranking' tok-reader 2>&1",
                                   WK_SOURCE_DIR, gen, server_->address()),
                   &rc);
  ASSERT_EQ(rc, 0) << out;
  nlohmann::json j = nlohmann::json::parse(out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << out;
  ASSERT_OK_AND_ASSIGN(ExpertsAnswer a, Client("tok-reader")->FindExperts(Q("xapian bm25 ranking")));
  std::vector<std::string> ids;
  for (const ExpertResult& e : a.experts) ids.push_back(e.person_id);
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(j["experts"].get<std::vector<std::string>>(), ids);
  EXPECT_GT(j["evidence"].get<int>(), 0);
  EXPECT_EQ(j["bad_token"], "INVALID_ARGUMENT");
  EXPECT_EQ(j["health"], "SERVING");
  std::vector<std::string> services = j["services"].get<std::vector<std::string>>();
  EXPECT_THAT(services, Contains("whoknows.v1.WhoKnows"));
  EXPECT_THAT(services, Contains("grpc.health.v1.Health"));
  EXPECT_THAT(services, Contains("grpc.reflection.v1alpha.ServerReflection"));
}

}  // namespace
}  // namespace whoknows::service

namespace whoknows::service {
namespace {

// The talent network calls: role hr (or admin) only; a public hr caller sees
// nothing of carol (known only from internal documents) and no opted-out person.
TEST_F(ServerTest, TalentNetworkRolesVisibilityAndOptOut) {
  ServerOptions opts;
  opts.tokens_file = tokens_file_;
  Start(opts);
  network::NetworkOptions o;
  o.include_graph = true;
  o.min_group_size = 1;
  for (const char* tok : {"tok-reader", "tok-ingest"}) {
    EXPECT_EQ(Client(tok)->GetTalentNetwork(o).status().code(), absl::StatusCode::kPermissionDenied) << tok;
    EXPECT_EQ(Client(tok)->GetTopicCoverage(o).status().code(), absl::StatusCode::kPermissionDenied) << tok;
  }
  auto hr = Client("tok-hr");
  EXPECT_OK(hr->GetStats());  // hr may query
  EXPECT_EQ(hr->Erase("mail:bob@example.org").status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(hr->OptOut("mail:bob@example.org", true).code(), absl::StatusCode::kPermissionDenied);
  const std::string carol = PersonId("carol"), bob = PersonId("bob");
  auto ids = [](const network::NetworkReport& r, const network::CoverageReport& c) {
    std::set<std::string> out;
    for (const network::Node& n : r.nodes) out.insert(n.id);
    for (const auto* l : {&r.brokers, &r.influencers}) {
      for (const network::PersonScore& p : *l) out.insert(p.person_id);
    }
    for (const network::Community& cm : r.communities) {
      for (const network::CommunityMember& m : cm.members) out.insert(m.person_id);
    }
    for (const network::TopicCoverage& t : c.topics) {
      for (const auto* l : {&t.experts, &t.left}) {
        for (const network::ExpertEntry& e : *l) out.insert(e.person_id);
      }
      for (const std::string& n : t.bus_factor_people) out.insert("name:" + n);
    }
    return out;
  };
  // Sanity: the admin sees carol and her contact with alice.
  ASSERT_OK_AND_ASSIGN(network::NetworkReport all, Client("tok-admin")->GetTalentNetwork(o));
  ASSERT_OK_AND_ASSIGN(network::CoverageReport all_cov, Client("tok-admin")->GetTopicCoverage(o));
  EXPECT_TRUE(ids(all, all_cov).count(carol));
  ASSERT_OK_AND_ASSIGN(network::NetworkReport pub, hr->GetTalentNetwork(o));
  ASSERT_OK_AND_ASSIGN(network::CoverageReport pub_cov, hr->GetTopicCoverage(o));
  std::set<std::string> seen = ids(pub, pub_cov);
  EXPECT_FALSE(seen.count(carol));
  EXPECT_FALSE(seen.count("name:Carol Hidden"));
  EXPECT_TRUE(seen.count(bob));
  EXPECT_LT(pub.contact_edges, all.contact_edges);  // the alice - carol contact needs internal documents
  EXPECT_LT(pub.docs, all.docs);
  for (const network::TopicCoverage& t : pub_cov.topics) {
    if (t.topic == "xapian") {
      EXPECT_EQ(t.docs, 2u);  // q1, a1; not q3, a4, a5
    }
  }
  // Opt-out: bob disappears from every part of the answer, even for an admin.
  EXPECT_OK(Client("tok-admin")->OptOut(bob, true));
  ASSERT_OK_AND_ASSIGN(network::NetworkReport after, Client("tok-admin")->GetTalentNetwork(o));
  ASSERT_OK_AND_ASSIGN(network::CoverageReport after_cov, Client("tok-admin")->GetTopicCoverage(o));
  seen = ids(after, after_cov);
  EXPECT_FALSE(seen.count(bob));
  EXPECT_FALSE(seen.count("name:Bob Jones"));
  EXPECT_TRUE(seen.count(carol));
  EXPECT_EQ(network::ToGraphML(after).find("Bob Jones"), std::string::npos);
}

}  // namespace
}  // namespace whoknows::service

// Past one machine on Xapian's own distribution, with real processes on
// loopback: shards behind xapian-tcpsrv, replicas kept current by
// xapian-replicate(-server). Corpus: the real coffee.stackexchange.com dump
// (592 posts), indexed once unsharded and once into 3 shards.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "../indexer/test_util.h"
#include "absl/strings/str_format.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "whoknows/base/testing.h"
#include "whoknows/indexer/index.h"
#include "whoknows/indexer/pipeline.h"
#include "nlohmann/json.hpp"
#include "whoknows/service/backend.h"
#include "whoknows/service/grpc_client.h"
#include "whoknows/service/server.h"
#include "whoknows/v1/whoknows.grpc.pb.h"

extern char** environ;

namespace whoknows::service {
namespace {

using std::chrono::milliseconds;
using whoknows::testing::TempDir;

const std::string kCorpus = std::string(WK_SHARED_DATA_DIR) + "/stackexchange/coffee.stackexchange.com";
const std::vector<std::string> kQueries = {"espresso grind size", "cold brew", "milk frothing temperature",
                                           "decaf caffeine", "french press", "roast beans at home"};

bool HaveTool(const char* name) { return std::filesystem::exists(std::string("/usr/bin/") + name); }

// A port for a child server that must also be reusable after a kill -9 (the
// shard comes back on the same port). Taken below the kernel's ephemeral range
// (ip_local_port_range), at random, and free when checked: the servers other
// tests start on port 0 (ctest -j runs them beside this one) and every
// outgoing connection get ports from the ephemeral range, so none of them can
// take this one between the check and the child's bind, or while a shard is down.
int FreePort() {
  int low = 32768, high = 60999;
  if (FILE* f = std::fopen("/proc/sys/net/ipv4/ip_local_port_range", "r")) {
    if (std::fscanf(f, "%d %d", &low, &high) != 2) low = 32768;
    std::fclose(f);
  }
  static std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> pick(std::max(1024, low - 12000), std::max(1025, low - 1));
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int port = pick(rng);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    const bool free = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    close(fd);
    if (free) return port;
  }
  return 0;
}

// A child process in its own process group, killed (SIGKILL, the whole group:
// xapian-tcpsrv forks a child per connection) on destruction.
class Process {
 public:
  explicit Process(std::vector<std::string> argv) {
    std::vector<char*> args;
    for (std::string& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    if (posix_spawn(&pid_, args[0], &fa, &attr, args.data(), environ) != 0) pid_ = -1;
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
  }
  ~Process() { Kill(); }
  void Kill() {
    if (pid_ <= 0) return;
    kill(-pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  bool running() const { return pid_ > 0; }
  // False once the child has exited (e.g. a server that could not bind its port).
  bool alive() {
    if (pid_ <= 0) return false;
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
      kill(-pid_, SIGKILL);  // anything it forked
      pid_ = -1;
    }
    return pid_ > 0;
  }

 private:
  pid_t pid_ = -1;
};

// Waits (up to 30 s: a loaded box starts processes slowly) until a TCP port on
// 127.0.0.1 accepts connections. With `server`, false as soon as that child has
// exited: then whatever answers on the port is not ours.
bool WaitListening(int port, Process* server = nullptr) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (server != nullptr && !server->alive()) return false;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    close(fd);
    if (ok) return server == nullptr || server->alive();
    std::this_thread::sleep_for(milliseconds(25));
  }
  return false;
}

std::unique_ptr<Process> TcpServer(const std::string& db, int port) {
  auto p = std::make_unique<Process>(std::vector<std::string>{
      "/usr/bin/xapian-tcpsrv", "--interface", "127.0.0.1", "--port", std::to_string(port), "--quiet", db});
  return WaitListening(port, p.get()) ? std::move(p) : nullptr;
}

absl::Status Index(const std::string& db, uint32_t shards) {
  indexer::PipelineOptions opt;
  opt.index.shards = shards;
  auto r = indexer::IndexPaths(db, {kCorpus}, opt);
  return r.status();
}

// Same experts, same order, same scores (to the PPR approximation).
void ExpectSameAnswers(Backend* want, Backend* got, const std::string& what) {
  for (const std::string& text : kQueries) {
    ExpertsQuery q;
    q.text = text;
    q.k = 10;
    absl::StatusOr<ExpertsAnswer> a = want->FindExperts(q, Caller{});
    absl::StatusOr<ExpertsAnswer> b = got->FindExperts(q, Caller{});
    ASSERT_TRUE(a.ok()) << a.status();
    ASSERT_TRUE(b.ok()) << what << ": " << b.status();
    ASSERT_FALSE(a->experts.empty()) << text;
    EXPECT_EQ(a->documents_matched, b->documents_matched) << what << " " << text;
    ASSERT_EQ(a->experts.size(), b->experts.size()) << what << " " << text;
    for (size_t i = 0; i < a->experts.size(); ++i) {
      EXPECT_EQ(a->experts[i].person_id, b->experts[i].person_id) << what << " '" << text << "' rank " << i;
      // PPR is forward push (approximate, residual-threshold): a different node
      // order moves scores by up to ~3e-4 relative here; the ranking must not move.
      EXPECT_NEAR(a->experts[i].score, b->experts[i].score, 1e-3 * std::max(1.0, std::abs(a->experts[i].score)))
          << what << " '" << text << "' rank " << i;
    }
  }
}

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaveTool("xapian-tcpsrv") || !HaveTool("xapian-replicate")) {
      GTEST_SKIP() << "xapian-tools is not installed (scripts/setup installs it)";
    }
    ASSERT_TRUE(std::filesystem::exists(kCorpus)) << kCorpus;
  }
  TempDir dir_;
};

TEST_F(ClusterTest, ShardedAnswersEqualSingleIndexLocalAndRemote) {
  const std::string single = dir_.Sub("single"), sharded = dir_.Sub("sharded");
  ASSERT_OK(Index(single, 0));
  ASSERT_OK(Index(sharded, 3));
  const std::vector<std::string> shards = indexer::ShardLocations(sharded);
  ASSERT_EQ(shards.size(), 3u);
  // Every shard holds documents; only shard 0 holds identities.
  uint64_t total = 0;
  for (const std::string& s : shards) {
    ASSERT_OK_AND_ASSIGN(auto r, indexer::IndexReader::Open(s));
    EXPECT_GT(r->doc_count(), 50u) << s;
    total += r->doc_count();
    ASSERT_OK_AND_ASSIGN(std::vector<indexer::Person> persons, r->ListPersons());
    if (s == shards[0]) EXPECT_GT(persons.size(), 10u);
    else EXPECT_TRUE(persons.empty()) << s;
  }
  ASSERT_OK_AND_ASSIGN(auto one, indexer::IndexReader::Open(single));
  EXPECT_EQ(total, one->doc_count());
  // Re-indexing into the shards adds nothing: each record goes to the same shard.
  ASSERT_OK(Index(sharded, 3));
  ASSERT_OK_AND_ASSIGN(auto again, indexer::IndexReader::Open(sharded));
  EXPECT_EQ(again->doc_count(), total);

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Backend> want, Backend::Open(single, BackendOptions{}));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Backend> stub, Backend::Open(sharded, BackendOptions{}));
  ExpectSameAnswers(want.get(), stub.get(), "stub directory");

  std::vector<std::unique_ptr<Process>> servers;
  BackendOptions remote;
  for (const std::string& s : shards) {
    const int port = FreePort();
    servers.push_back(TcpServer(s, port));
    ASSERT_NE(servers.back(), nullptr) << "xapian-tcpsrv on " << port;
    remote.shards.push_back(absl::StrFormat("tcp://127.0.0.1:%d", port));
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Backend> far, Backend::Open("", remote));
  ExpectSameAnswers(want.get(), far.get(), "tcp shards");
  EXPECT_EQ(far->persons(), want->persons());
  EXPECT_EQ(far->documents(), want->documents());
  // SuggestConnections runs on the graph built from the union.
  ASSERT_OK_AND_ASSIGN(indexer::IndexStats st, far->GetStats());
  EXPECT_EQ(st.shards, 3u);
  ASSERT_OK_AND_ASSIGN(std::vector<indexer::Person> persons, one->ListPersons());
  int compared = 0;
  for (const indexer::Person& p : persons) {
    ConnectQuery cq;
    cq.person = p.id;
    auto a = want->SuggestConnections(cq, Caller{});
    auto b = far->SuggestConnections(cq, Caller{});
    ASSERT_EQ(a.ok(), b.ok()) << p.id;
    if (!a.ok() || a->empty()) continue;
    ASSERT_EQ(a->size(), b->size()) << p.id;
    for (size_t i = 0; i < a->size(); ++i) EXPECT_EQ((*a)[i].person_id, (*b)[i].person_id) << p.id << " rank " << i;
    if (++compared == 5) break;
  }
  EXPECT_EQ(compared, 5);
}

TEST_F(ClusterTest, ShardDownIsUnavailableNamingItThenRecovers) {
  const std::string sharded = dir_.Sub("sharded");
  ASSERT_OK(Index(sharded, 3));
  const std::vector<std::string> shards = indexer::ShardLocations(sharded);
  std::vector<std::unique_ptr<Process>> servers;
  std::vector<int> ports;
  BackendOptions remote;
  for (const std::string& s : shards) {
    ports.push_back(FreePort());
    servers.push_back(TcpServer(s, ports.back()));
    ASSERT_NE(servers.back(), nullptr);
    remote.shards.push_back(absl::StrFormat("tcp://127.0.0.1:%d", ports.back()));
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Backend> backend, Backend::Open("", remote));
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(backend.get(), ServerOptions{});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = v1::WhoKnows::NewStub(grpc::CreateChannel((*server)->address(), grpc::InsecureChannelCredentials()));
  auto find = [&] {
    v1::FindExpertsRequest req;
    req.set_text("espresso grind size");
    v1::FindExpertsResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    grpc::Status s = stub->FindExperts(&ctx, req, &resp);
    return std::make_pair(s, resp.experts_size());
  };
  auto [ok, n] = find();
  ASSERT_TRUE(ok.ok()) << ok.error_message();
  ASSERT_GT(n, 0);

  servers[1]->Kill();  // shard 1 down
  for (int i = 0; i < 3; ++i) {  // every call, also from pooled readers
    auto [s, count] = find();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
    EXPECT_NE(s.error_message().find(remote.shards[1]), std::string::npos) << s.error_message();
    EXPECT_EQ(s.error_message().find(remote.shards[0]), std::string::npos) << s.error_message();
    EXPECT_EQ(count, 0);  // never a partial answer
  }
  servers[1] = TcpServer(shards[1], ports[1]);  // back on the same port
  ASSERT_NE(servers[1], nullptr);
  auto [back, m] = find();
  EXPECT_TRUE(back.ok()) << back.error_message();
  EXPECT_EQ(m, n);
}

TEST_F(ClusterTest, ReplicaCatchesUpAfterIngest) {
  setenv("XAPIAN_MAX_CHANGESETS", "10", 1);  // the master keeps changesets for replication
  const std::string masters = dir_.Sub("masters"), replica = dir_.Sub("replica");
  const std::string master = masters + "/db";
  ASSERT_OK(Index(master, 0));
  BackendOptions wo;
  wo.writable = true;
  // Answers are compared right after each copy: no background ranker training
  // may swap the writer's ranker in between (the ranker replicates like the rest).
  wo.train_ranker = false;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Backend> writer, Backend::Open(master, wo));

  const int port = FreePort();
  Process repl_server({"/usr/bin/xapian-replicate-server", "--interface", "127.0.0.1", "--port",
                       std::to_string(port), masters});
  ASSERT_TRUE(WaitListening(port, &repl_server));
  Process repl_client({"/usr/bin/xapian-replicate", "--host", "127.0.0.1", "--port", std::to_string(port),
                       "--master", "db", "--interval", "1", "--reader-time", "1", "--quiet", replica});
  // The first copy arrives. Every wait below is capped at 60 s: replication
  // polls every second, and a loaded box under ASan is slow.
  const auto within = [](std::chrono::seconds cap) {
    const auto end = std::chrono::steady_clock::now() + cap;
    return [end] { return std::chrono::steady_clock::now() < end; };
  };
  bool copied = false;
  for (auto more = within(std::chrono::seconds(60)); !copied && more();) {
    copied = std::filesystem::exists(replica + "/XAPIANDB");
    if (!copied) std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_TRUE(copied);
  BackendOptions ro;
  ro.follow_seconds = 0.2;
  std::unique_ptr<Backend> follower;
  for (auto more = within(std::chrono::seconds(60)); follower == nullptr && more();) {  // until the copy is complete
    auto b = Backend::Open(replica, ro);
    if (b.ok() && (*b)->documents() == writer->documents()) follower = *std::move(b);
    else std::this_thread::sleep_for(milliseconds(100));
  }
  ASSERT_NE(follower, nullptr);
  ExpectSameAnswers(writer.get(), follower.get(), "replica");

  // Ingest at the writer: a new expert on a new word.
  std::vector<indexer::Record> recs;
  for (int i = 0; i < 3; ++i) {
    indexer::Record r;
    r.source = "jsonl:replica-test";
    r.id = absl::StrFormat("jsonl:replica-test:%d", i);
    r.thread_id = "jsonl:replica-test:0";
    r.kind = i == 0 ? indexer::RecordKind::kQuestion : indexer::RecordKind::kAnswer;
    r.author_key = "mail:zed@example.org";
    r.author_name = "Zed Quillfeather";
    r.text = "The zyphorette grinder needs a zyphorette burr alignment.";
    r.visibility = "public";
    r.timestamp = 1425000000 + i;
    recs.push_back(r);
  }
  ASSERT_OK(writer->Ingest(recs, {}).status());
  ExpertsQuery q;
  q.text = "zyphorette";
  q.k = 3;
  const auto t0 = std::chrono::steady_clock::now();
  bool seen = false;
  while (!seen && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(60)) {
    auto a = follower->FindExperts(q, Caller{});
    seen = a.ok() && !a->experts.empty() && a->experts[0].name == "Zed Quillfeather";
    if (!seen) std::this_thread::sleep_for(milliseconds(100));
  }
  ASSERT_TRUE(seen) << "replica did not catch up within 60 s";
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  RecordProperty("catch_up_seconds", absl::StrFormat("%.2f", secs));
  // Replication may still be applying a later changeset: wait (bounded) until
  // the replica reports itself current, then it must equal the writer.
  indexer::IndexStats st;
  for (auto more = within(std::chrono::seconds(60)); more();) {
    ASSERT_OK_AND_ASSIGN(st, follower->GetStats());
    if (st.lag_seconds == 0.0 && st.snapshot_revision == st.index_revision &&
        follower->documents() == writer->documents()) {
      break;
    }
    std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_EQ(follower->documents(), writer->documents());
  EXPECT_EQ(st.snapshot_revision, st.index_revision);
  EXPECT_EQ(st.lag_seconds, 0.0);
  ExpectSameAnswers(writer.get(), follower.get(), "replica after ingest");

  // The routing log lives in the same index: a routing recorded at the writer
  // reaches the replica's ListRoutings (and its balance model).
  RoutingRecord rr;
  rr.question_id = "q-replica";
  rr.people = {"mail:zed@example.org"};
  rr.visibility = "public";
  ASSERT_OK_AND_ASSIGN(std::string routing_id, writer->RecordRouting(rr, Caller{}));
  bool routed = false;
  for (auto more = within(std::chrono::seconds(60)); !routed && more();) {
    auto entries = follower->ListRoutings("mail:zed@example.org", 0, Caller{});
    routed = entries.ok() && !entries->empty() && (*entries)[0].routing_id == routing_id;
    if (!routed) std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_TRUE(routed) << "the replica did not load the routing log within 60 s";
}

// Two "replicas" that differ on purpose (2 and 3 documents), so each answer
// shows which one served it: one round_robin channel reaches both, from C++
// (RemoteClient with an address list) and from Python (the README's snippet).
TEST(ReplicaClientsTest, RoundRobinOverAnAddressListReachesEveryReplica) {
  TempDir dir;
  std::vector<std::unique_ptr<Backend>> backends;
  std::vector<std::unique_ptr<Server>> servers;
  std::string list;
  for (int n : {2, 3}) {
    BackendOptions bo;
    bo.writable = true;
    absl::StatusOr<std::unique_ptr<Backend>> b = Backend::Open(dir.Sub(absl::StrFormat("db%d", n)), bo);
    ASSERT_TRUE(b.ok()) << b.status();
    std::vector<indexer::Record> recs;
    for (int i = 0; i < n; ++i) {
      indexer::Record r;
      r.source = "jsonl:rr";
      r.id = absl::StrFormat("jsonl:rr:%d", i);
      r.thread_id = r.id;
      r.author_key = "mail:rr@example.org";
      r.text = "round robin replica check";
      r.timestamp = 1600000000 + i;
      recs.push_back(r);
    }
    ASSERT_TRUE((*b)->Ingest(recs, {}).ok());
    absl::StatusOr<std::unique_ptr<Server>> s = Server::Start(b->get(), ServerOptions{});
    ASSERT_TRUE(s.ok()) << s.status();
    list += (list.empty() ? "" : ",") + (*s)->address();
    backends.push_back(*std::move(b));
    servers.push_back(*std::move(s));
  }
  absl::StatusOr<std::unique_ptr<RemoteClient>> client = RemoteClient::Connect(list, "", "");
  ASSERT_TRUE(client.ok()) << client.status();
  // round_robin uses a replica once its connection is ready; on a loaded box
  // the second one can take a while, so call until both answered (at least 20
  // calls, for up to 30 s) instead of a fixed 20.
  std::set<uint64_t> seen;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (int i = 0; i < 20 || (seen.size() < 2 && std::chrono::steady_clock::now() < deadline); ++i) {
    absl::StatusOr<indexer::IndexStats> st = (*client)->GetStats();
    ASSERT_TRUE(st.ok()) << st.status();
    seen.insert(st->documents);
  }
  EXPECT_EQ(seen, (std::set<uint64_t>{2, 3}));

  if (!std::filesystem::exists("/usr/bin/grpc_python_plugin")) GTEST_SKIP() << "no grpc_python_plugin";
  const std::string gen = dir.Sub("gen");
  std::filesystem::create_directories(gen);
  const std::string protoc =
      absl::StrFormat("protoc -I %s/proto --python_out=%s --grpc_out=%s "
                      "--plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin whoknows/v1/whoknows.proto",
                      WK_SOURCE_DIR, gen, gen);
  ASSERT_EQ(std::system(protoc.c_str()), 0);
  const std::string cmd = absl::StrFormat("/usr/bin/python3 %s/tests/service/python/round_robin_client.py %s %s 20",
                                          WK_SOURCE_DIR, gen, list);
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  size_t got;
  while ((got = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, got);
  ASSERT_EQ(pclose(p), 0) << out;
  nlohmann::json j = nlohmann::json::parse(out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << out;
  std::set<uint64_t> py;
  for (const auto& d : j["documents"]) py.insert(d.get<uint64_t>());
  EXPECT_EQ(py, (std::set<uint64_t>{2, 3}));
}

// Issue 13, faults: kill -9 of a shard server (the whole process group: the
// listener and the per-connection child holding our write session) during
// ingest loses no acknowledged message. The writer is a Backend over three
// `xapian-tcpsrv --writable` shard servers behind a real gRPC server; each
// Ingest stream is acknowledged only after every shard committed it.
TEST_F(ClusterTest, KillDashNineOfAShardServerDuringIngestLosesNoAcknowledgedMessage) {
  std::vector<std::string> dirs;
  for (int i = 0; i < 3; ++i) {
    dirs.push_back(dir_.Sub(absl::StrFormat("shard-%02d", i)));
    ASSERT_OK_AND_ASSIGN(auto w, indexer::IndexWriter::Open(dirs.back(), indexer::IndexOptions{}));
    ASSERT_OK(w->Commit());  // an empty whoknows database
  }
  std::vector<int> ports;
  std::vector<std::unique_ptr<Process>> servers;
  auto serve = [&](int i) {
    auto p = std::make_unique<Process>(std::vector<std::string>{"/usr/bin/xapian-tcpsrv", "--writable", "--interface",
                                                                "127.0.0.1", "--port", std::to_string(ports[i]),
                                                                "--quiet", dirs[i]});
    return WaitListening(ports[i], p.get()) ? std::move(p) : nullptr;
  };
  BackendOptions bo;
  bo.writable = true;
  for (int i = 0; i < 3; ++i) {
    ports.push_back(FreePort());
    servers.push_back(serve(i));
    ASSERT_NE(servers.back(), nullptr) << "xapian-tcpsrv --writable on " << ports[i];
    bo.shards.push_back(absl::StrFormat("tcp://127.0.0.1:%d", ports[i]));
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Backend> backend, Backend::Open("", bo));
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(backend.get(), ServerOptions{});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = v1::WhoKnows::NewStub(grpc::CreateChannel((*server)->address(), grpc::InsecureChannelCredentials()));

  std::vector<std::string> acked;  // ids of messages whose Ingest returned OK
  int next = 0;
  // One Ingest stream of `n` new messages; `between` runs after the first half is sent.
  auto ingest = [&](int n, const std::function<void()>& between) {
    std::vector<std::string> ids;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    v1::IngestResponse resp;
    auto stream = stub->Ingest(&ctx, &resp);
    for (int i = 0; i < n; ++i) {
      if (i == n / 2 && between) between();
      v1::Message m;
      m.set_id(absl::StrFormat("fault-%d", next++));
      m.set_author(absl::StrFormat("writer%d@example.org", next % 5));
      m.set_timestamp(1600000000 + next);
      m.set_text("shard fault durability message about burr grinders");
      m.set_visibility("public");
      ids.push_back(m.id());
      if (!stream->Write(m)) break;
    }
    stream->WritesDone();
    grpc::Status s = stream->Finish();
    if (s.ok()) acked.insert(acked.end(), ids.begin(), ids.end());
    return s;
  };
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(ingest(6, nullptr).ok());

  // kill -9 in the middle of a stream: that stream is not acknowledged.
  grpc::Status mid = ingest(6, [&] { servers[1]->Kill(); });
  EXPECT_EQ(mid.error_code(), grpc::StatusCode::UNAVAILABLE) << mid.error_message();
  EXPECT_NE(mid.error_message().find(bo.shards[1]), std::string::npos) << mid.error_message();
  // While the shard is down every Ingest fails, naming it (never OK, never another shard).
  for (int i = 0; i < 2; ++i) {
    grpc::Status s = ingest(3, nullptr);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
    EXPECT_NE(s.error_message().find(bo.shards[1]), std::string::npos) << s.error_message();
    EXPECT_EQ(s.error_message().find(bo.shards[0]), std::string::npos) << s.error_message();
  }
  // Back on the same port: the writer reconnects on the next call.
  servers[1] = serve(1);
  ASSERT_NE(servers[1], nullptr);
  for (int i = 0; i < 4; ++i) {
    grpc::Status s = ingest(6, nullptr);
    EXPECT_TRUE(s.ok()) << s.error_message();
  }
  ASSERT_EQ(acked.size(), 8u * 6u);

  // kill -9 every shard server, then read the shards from disk.
  server->reset();
  backend.reset();
  for (auto& s : servers) s->Kill();
  ASSERT_OK_AND_ASSIGN(auto reader, indexer::IndexReader::OpenShards(dirs));
  std::set<std::string> present;
  ASSERT_OK(reader->ForEachDocument([&](const indexer::StoredDoc& d) { present.insert(d.id); }));
  for (const std::string& id : acked) {
    const bool found = std::any_of(present.begin(), present.end(), [&](const std::string& p) {
      return p == id || (p.size() > id.size() && p.ends_with(":" + id));
    });
    EXPECT_TRUE(found) << "acknowledged message " << id << " lost";
  }
}

// xapian-tcpsrv closes a connection idle longer than its --idle-timeout (60 s
// by default; 1 s here). A server over remote shards must answer and write
// after such a quiet spell, not fail the first call with UNAVAILABLE: readers
// reconnect and repeat the read, the writer reconnects when its lost session
// held nothing uncommitted (after a long ranker training, or no ingest for a
// minute). The sleep is the idle spell under test, not a synchronisation.
TEST_F(ClusterTest, ReadsAndWritesSurviveTheShardServersIdleTimeout) {
  std::vector<std::string> dirs;
  std::vector<std::unique_ptr<Process>> servers;
  BackendOptions bo;
  bo.writable = true;
  for (int i = 0; i < 2; ++i) {
    dirs.push_back(dir_.Sub(absl::StrFormat("shard-%02d", i)));
    {
      ASSERT_OK_AND_ASSIGN(auto w, indexer::IndexWriter::Open(dirs.back(), indexer::IndexOptions{}));
      ASSERT_OK(w->Commit());  // an empty whoknows database; the lock is released before the server opens it
    }
    const int port = FreePort();
    auto p = std::make_unique<Process>(std::vector<std::string>{"/usr/bin/xapian-tcpsrv", "--writable", "--interface",
                                                                "127.0.0.1", "--port", std::to_string(port),
                                                                "--idle-timeout", "1000", "--quiet", dirs.back()});
    ASSERT_TRUE(WaitListening(port, p.get())) << "xapian-tcpsrv --writable on " << port;
    servers.push_back(std::move(p));
    bo.shards.push_back(absl::StrFormat("tcp://127.0.0.1:%d", port));
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Backend> backend, Backend::Open("", bo));
  int next = 0;
  auto ingest = [&](const std::string& author, const std::string& text) {
    indexer::Record r;
    r.source = "jsonl:idle-test";
    r.id = absl::StrFormat("jsonl:idle-test:%d", next++);
    r.thread_id = r.id;
    r.kind = indexer::RecordKind::kPost;
    r.author_key = "mail:" + author;
    r.author_name = author;
    r.text = text;
    r.visibility = "public";
    r.timestamp = 1600000000 + next;
    return backend->Ingest({r}, {}).status();
  };
  // The top expert's id, or the error.
  auto ask = [&](const std::string& text) -> std::string {
    ExpertsQuery q;
    q.text = text;
    q.k = 3;
    absl::StatusOr<ExpertsAnswer> a = backend->FindExperts(q, Caller{});
    if (!a.ok()) return a.status().ToString();
    return a->experts.empty() ? "(nobody)" : a->experts[0].person_id;
  };
  auto idle = [] { std::this_thread::sleep_for(milliseconds(2500)); };

  ASSERT_OK(ingest("ada@example.org", "calibrating the zyphorette burr grinder"));
  EXPECT_EQ(ask("zyphorette"), "mail:ada@example.org");
  idle();
  EXPECT_EQ(ask("zyphorette"), "mail:ada@example.org") << "a read after the idle timeout";
  idle();
  absl::Status wrote = ingest("bob@example.org", "the quorvane tamper is too light");
  EXPECT_TRUE(wrote.ok()) << "a write after the idle timeout: " << wrote;
  EXPECT_EQ(ask("quorvane"), "mail:bob@example.org");
  idle();
  routing::Availability away;
  away.max_per_week = 2;
  absl::Status put = backend->SetAvailability("mail:bob@example.org", away, Caller{});
  EXPECT_TRUE(put.ok()) << "metadata after the idle timeout: " << put;
  idle();
  absl::StatusOr<indexer::IndexStats> st = backend->GetStats();
  ASSERT_TRUE(st.ok()) << st.status() << " (stats after the idle timeout)";
  EXPECT_EQ(st->documents, 2u);

  // A shard that is really down still fails, naming it (no endless retry).
  servers[1]->Kill();
  absl::Status down = ingest("cy@example.org", "a message while shard 1 is down");
  EXPECT_EQ(down.code(), absl::StatusCode::kUnavailable) << down;
  EXPECT_NE(down.message().find(bo.shards[1]), std::string::npos) << down;
}

}  // namespace
}  // namespace whoknows::service

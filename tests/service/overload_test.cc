// Server overload behaviour with a real server and a real index: a gate in
// front of the real Backend holds the one admitted call, so the test controls
// exactly how many calls run, wait and are refused.

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/slice.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "../indexer/test_util.h"
#include "whoknows/base/testing.h"
#include "whoknows/service/backend.h"
#include "whoknows/service/server.h"
#include "whoknows/v1/whoknows.grpc.pb.h"

namespace whoknows::service {
namespace {

using std::chrono::milliseconds;
using whoknows::testing::TempDir;

// The real backend; FindExperts waits at the gate while it is closed.
class GatedBackend final : public Backend {
 public:
  explicit GatedBackend(std::unique_ptr<Backend> real) : real_(std::move(real)) {}
  void Close() { closed_ = true; }
  void Open() {
    closed_ = false;
    if (!open_.HasBeenNotified()) open_.Notify();
  }
  int entered() const { return entered_.load(); }

  absl::StatusOr<ExpertsAnswer> FindExperts(const ExpertsQuery& q, const Caller& c) override {
    ++entered_;
    if (closed_) open_.WaitForNotification();
    return real_->FindExperts(q, c);
  }
  absl::StatusOr<std::vector<ConnectionResult>> SuggestConnections(const ConnectQuery& q, const Caller& c) override {
    return real_->SuggestConnections(q, c);
  }
  absl::StatusOr<ProfileResult> GetPerson(const std::string& p, const Caller& c) override {
    return real_->GetPerson(p, c);
  }
  absl::StatusOr<std::vector<TopicResult>> ListTopics(size_t limit, const Caller& c) override {
    return real_->ListTopics(limit, c);
  }
  absl::StatusOr<indexer::IndexStats> GetStats() override { return real_->GetStats(); }
  absl::StatusOr<IngestCounts> Ingest(std::vector<indexer::Record> r,
                                      std::vector<std::pair<std::string, std::string>> bad) override {
    return real_->Ingest(std::move(r), std::move(bad));
  }
  absl::Status OptOut(const std::string& p, bool o) override { return real_->OptOut(p, o); }
  absl::StatusOr<uint64_t> Erase(const std::string& p) override { return real_->Erase(p); }
  uint64_t documents() const override { return real_->documents(); }
  uint64_t persons() const override { return real_->persons(); }

 private:
  std::unique_ptr<Backend> real_;
  std::atomic<bool> closed_{false};
  absl::Notification open_;
  std::atomic<int> entered_{0};
};

// Opens the gate when the test leaves its scope, also through a failed ASSERT:
// declared after the calls' futures, it runs before they wait for their calls
// (and before the server drains its calls), so a failure cannot hang the test.
struct OpenAtExit {
  GatedBackend* backend;
  ~OpenAtExit() { backend->Open(); }
};

indexer::Record Rec(const std::string& id, const std::string& author, const std::string& text) {
  indexer::Record r;
  r.source = "jsonl:overload";
  r.id = "jsonl:overload:" + id;
  r.thread_id = r.id;
  r.author_key = "mail:" + author + "@example.org";
  r.author_name = author;
  r.text = text;
  r.visibility = "public";
  r.timestamp = 1600000000;
  return r;
}

grpc::Status Find(v1::WhoKnows::Stub* stub, milliseconds timeout) {
  v1::FindExpertsRequest req;
  req.set_text("xapian ranking");
  v1::FindExpertsResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + timeout);
  return stub->FindExperts(&ctx, req, &resp);
}

// Polls `pred` until it holds, for up to 30 s (a loaded CI box under ASan is slow).
template <typename Pred>
bool WaitFor(Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return true;
}

TEST(OverloadTest, ShedsBeyondTheQueueDropsExpiredCallsAndRecovers) {
  TempDir dir;
  BackendOptions bo;
  bo.writable = true;
  absl::StatusOr<std::unique_ptr<Backend>> real = Backend::Open(dir.Sub("db"), bo);
  ASSERT_TRUE(real.ok()) << real.status();
  ASSERT_TRUE((*real)->Ingest({Rec("1", "alice", "xapian ranking with bm25"), Rec("2", "bob", "xapian ranking tips")}, {}).ok());
  GatedBackend backend(*std::move(real));
  ServerOptions so;
  so.max_inflight = 1;
  so.max_queue = 2;
  so.max_queue_wait_ms = 120000;  // never reached: the queued call must run, however slow the box
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(&backend, so);
  ASSERT_TRUE(server.ok()) << server.status();
  auto channel = grpc::CreateChannel((*server)->address(), grpc::InsecureChannelCredentials());
  auto stub = v1::WhoKnows::NewStub(channel);
  ASSERT_TRUE(Find(stub.get(), milliseconds(20000)).ok());  // warm: connected, works
  const int before = backend.entered();

  std::future<grpc::Status> running, queued, expiring;
  backend.Close();
  OpenAtExit open_at_exit{&backend};
  running = std::async(std::launch::async, [&] { return Find(stub.get(), milliseconds(120000)); });
  ASSERT_TRUE(WaitFor([&] { return backend.entered() == before + 1; }));  // holds the only worker
  queued = std::async(std::launch::async, [&] { return Find(stub.get(), milliseconds(120000)); });
  ASSERT_TRUE(WaitFor([&] { return (*server)->admission_stats().queued == 1; }));
  // The expiring call must reach the server's queue before its deadline: on a
  // loaded box under ASan a call can take far longer than 200 ms to arrive, so
  // it gets 2 s (the test waits that long below).
  const milliseconds expiring_timeout(2000);
  expiring = std::async(std::launch::async, [&] { return Find(stub.get(), expiring_timeout); });
  ASSERT_TRUE(WaitFor([&] { return (*server)->admission_stats().queued == 2; }))
      << "the " << expiring_timeout.count() << " ms call never reached the queue";
  // The server took the expiring call before this point, so its server-side
  // deadline (arrival + 2 s) has passed by queued_seen + 2 s; the client's own
  // deadline can fire earlier than that on a loaded box.
  const auto queued_seen = std::chrono::steady_clock::now();

  // Queue full: refused at once, not queued (a queued call would wait behind
  // the closed gate until its 20 s deadline). The bound is generous for a
  // loaded box; the status code is the real check.
  const auto t0 = std::chrono::steady_clock::now();
  grpc::Status refused = Find(stub.get(), milliseconds(20000));
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << refused.error_message();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, milliseconds(10000));

  // The health service is not behind the queue.
  {
    grpc::GenericStub generic(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + milliseconds(20000));
    grpc::Slice empty;  // an empty message still needs one (empty) slice
    grpc::ByteBuffer req(&empty, 1), resp;
    grpc::Status s = grpc::Status::OK;
    // An empty HealthCheckRequest is a zero-length message.
    std::promise<grpc::Status> done;
    generic.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &req, &resp,
                      [&](grpc::Status st) { done.set_value(st); });
    s = done.get_future().get();
    EXPECT_TRUE(s.ok()) << s.error_message();
  }

  // The expiring caller gives up while waiting; the server must not run it.
  EXPECT_EQ(expiring.get().error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  std::this_thread::sleep_until(queued_seen + expiring_timeout + milliseconds(50));
  backend.Open();
  EXPECT_TRUE(running.get().ok());
  EXPECT_TRUE(queued.get().ok());
  ASSERT_TRUE(WaitFor([&] {
    admission::Stats st = (*server)->admission_stats();
    return st.queued == 0 && st.running == 0;
  }));
  const admission::Stats st = (*server)->admission_stats();
  EXPECT_EQ(backend.entered(), before + 2);  // the running and the queued call, not the expired one
  EXPECT_EQ(st.shed_full, 1u);
  EXPECT_EQ(st.dropped_deadline, 1u);

  // Load gone: answers at once again (generous bound for a loaded box).
  const auto t1 = std::chrono::steady_clock::now();
  EXPECT_TRUE(Find(stub.get(), milliseconds(20000)).ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t1, milliseconds(10000));
}

// 64 calls at once against one worker and a queue of one. The gate holds the
// running call, so the burst overlaps however the threads are scheduled: one
// call runs, at most one waits (none if the burst filled the queue before the
// worker took the first call off it) and every other call is refused at once,
// not queued; once the gate opens the admitted calls finish and the server recovers.
TEST(OverloadTest, BurstBeyondCapacityIsShedNotQueuedWithoutBound) {
  TempDir dir;
  BackendOptions bo;
  bo.writable = true;
  absl::StatusOr<std::unique_ptr<Backend>> real = Backend::Open(dir.Sub("db"), bo);
  ASSERT_TRUE(real.ok()) << real.status();
  ASSERT_TRUE((*real)->Ingest({Rec("1", "alice", "xapian ranking with bm25"), Rec("2", "bob", "xapian ranking")}, {}).ok());
  GatedBackend backend(*std::move(real));
  ServerOptions so;
  so.max_inflight = 1;
  so.max_queue = 1;
  so.max_queue_wait_ms = 120000;  // never reached: a queued call must run, however slow the box
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(&backend, so);
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = v1::WhoKnows::NewStub(grpc::CreateChannel((*server)->address(), grpc::InsecureChannelCredentials()));
  ASSERT_TRUE(Find(stub.get(), milliseconds(20000)).ok());
  const int before = backend.entered();

  constexpr int kCalls = 64;
  std::vector<std::future<grpc::Status>> calls;
  backend.Close();
  OpenAtExit open_at_exit{&backend};
  for (int i = 0; i < kCalls; ++i) {
    calls.push_back(std::async(std::launch::async, [&] { return Find(stub.get(), milliseconds(120000)); }));
  }
  // Every call has reached the executor: one runs (held at the gate), the rest are queued or refused.
  ASSERT_TRUE(WaitFor([&] {
    const admission::Stats st = (*server)->admission_stats();
    return backend.entered() == before + 1 && st.shed_full + st.queued == kCalls - 1;
  })) << "shed " << (*server)->admission_stats().shed_full << " queued " << (*server)->admission_stats().queued
      << " entered " << backend.entered() - before;
  const uint64_t waiting = (*server)->admission_stats().queued;
  EXPECT_LE(waiting, 1u);  // the queue bound
  backend.Open();
  int ok = 0, exhausted = 0, other = 0;
  for (auto& c : calls) {
    grpc::Status s = c.get();
    if (s.ok()) ++ok;
    else if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) ++exhausted;
    else ++other;
  }
  EXPECT_EQ(ok, 1 + static_cast<int>(waiting));
  EXPECT_EQ(exhausted, kCalls - 1 - static_cast<int>(waiting));
  EXPECT_EQ(other, 0);
  const admission::Stats st = (*server)->admission_stats();
  EXPECT_EQ(st.shed_full + st.shed_waited, static_cast<uint64_t>(exhausted));
  EXPECT_EQ(backend.entered(), before + ok);
  EXPECT_TRUE(Find(stub.get(), milliseconds(20000)).ok());
}

}  // namespace
}  // namespace whoknows::service

// The admission executor on its own: bounded queue, bounded wait, deadlines.

#include "whoknows/admission/admission.h"

#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace whoknows::admission {
namespace {

using Clock = Executor::Clock;
using std::chrono::milliseconds;

constexpr auto kNoDeadline = Clock::time_point::max();

// Blocks the one worker until Release(); Wait() returns once it runs.
struct Gate {
  std::promise<void> started, release;
  std::shared_future<void> released{release.get_future().share()};
  void Wait() { started.get_future().wait(); }
  void Release() { release.set_value(); }
};

TEST(ExecutorTest, ShedsWhenQueueFullAndDropsExpiredCalls) {
  Options o;
  o.workers = 1;
  o.max_queue = 2;
  o.max_wait = std::chrono::seconds(30);
  Executor ex(o);
  Gate gate;
  std::atomic<int> ran{0};
  std::promise<absl::Status> first, queued, expired, refused;
  ex.Submit(kNoDeadline, nullptr, [&](const absl::Status& s) {
    first.set_value(s);
    gate.started.set_value();
    gate.released.wait();
    ++ran;
  });
  gate.Wait();  // the worker is busy from here on
  ex.Submit(kNoDeadline, nullptr, [&](const absl::Status& s) {
    if (s.ok()) ++ran;
    queued.set_value(s);
  });
  ex.Submit(Clock::now() + milliseconds(30), nullptr, [&](const absl::Status& s) {
    if (s.ok()) ++ran;
    expired.set_value(s);
  });
  // Queue (2) is full: refused on the calling thread, at once.
  ex.Submit(kNoDeadline, nullptr, [&](const absl::Status& s) {
    if (s.ok()) ++ran;
    refused.set_value(s);
  });
  auto f = refused.get_future();
  ASSERT_EQ(f.wait_for(milliseconds(0)), std::future_status::ready);
  EXPECT_EQ(f.get().code(), absl::StatusCode::kResourceExhausted);
  std::this_thread::sleep_for(milliseconds(80));  // the third call's deadline (set before this) passes while it waits
  gate.Release();
  EXPECT_TRUE(first.get_future().get().ok());
  EXPECT_TRUE(queued.get_future().get().ok());
  EXPECT_EQ(expired.get_future().get().code(), absl::StatusCode::kDeadlineExceeded);
  const Stats st = ex.stats();
  EXPECT_EQ(ran.load(), 2);
  EXPECT_EQ(st.admitted, 2u);
  EXPECT_EQ(st.shed_full, 1u);
  EXPECT_EQ(st.dropped_deadline, 1u);
}

TEST(ExecutorTest, ShedsCallsThatWaitedTooLongAndSkipsCancelledOnes) {
  Options o;
  o.workers = 1;
  o.max_queue = 8;
  // Long enough that the call submitted after the gate opens surely gets a
  // worker within it on a loaded box; the two waiting calls outlast it below.
  o.max_wait = milliseconds(1000);
  Executor ex(o);
  Gate gate;
  ex.Submit(kNoDeadline, nullptr, [&](const absl::Status&) {
    gate.started.set_value();
    gate.released.wait();
  });
  gate.Wait();
  std::promise<absl::Status> waited, cancelled;
  ex.Submit(kNoDeadline, nullptr, [&](const absl::Status& s) { waited.set_value(s); });
  ex.Submit(kNoDeadline, [] { return true; }, [&](const absl::Status& s) { cancelled.set_value(s); });
  const auto queued_by = Clock::now();  // both were queued before this
  std::this_thread::sleep_until(queued_by + o.max_wait + milliseconds(10));  // so both wait longer than max_wait
  gate.Release();
  EXPECT_EQ(waited.get_future().get().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(cancelled.get_future().get().code(), absl::StatusCode::kCancelled);
  // Recovers at once: the next call runs.
  std::promise<absl::Status> next;
  ex.Submit(kNoDeadline, nullptr, [&](const absl::Status& s) { next.set_value(s); });
  EXPECT_TRUE(next.get_future().get().ok());
  EXPECT_EQ(ex.stats().shed_waited, 1u);
}

// Each call stays running until four are running at once (or a shared 30 s
// cap passes), so the overlap does not depend on how the box schedules the
// workers: all four workers run together, never a fifth call.
TEST(ExecutorTest, RunsEverythingWithinCapacityConcurrently) {
  Options o;
  o.workers = 4;
  o.max_queue = 64;
  Executor ex(o);
  std::atomic<int> running{0}, peak{0}, ok{0};
  const auto cap = Clock::now() + std::chrono::seconds(30);
  std::vector<std::promise<void>> done(32);
  for (auto& d : done) {
    ex.Submit(kNoDeadline, nullptr, [&](const absl::Status& s) {
      int now = ++running;
      int p = peak.load();
      while (now > p && !peak.compare_exchange_weak(p, now)) {
      }
      while (peak.load() < 4 && Clock::now() < cap) std::this_thread::sleep_for(milliseconds(1));
      --running;
      if (s.ok()) ++ok;
      d.set_value();
    });
  }
  for (auto& d : done) d.get_future().wait();
  EXPECT_EQ(ok.load(), 32);
  EXPECT_EQ(peak.load(), 4);
}

}  // namespace
}  // namespace whoknows::admission

#ifndef WHOKNOWS_ADMISSION_ADMISSION_H_
#define WHOKNOWS_ADMISSION_ADMISSION_H_

// Admission control for expensive calls: a fixed number of worker threads
// (the calls allowed to run at once), a bounded queue in front of them, and
// a bound on how long a call may wait in it. Under overload the excess is
// refused at once (ResourceExhausted) instead of piling up, so latency stays
// bounded for the admitted calls and the server recovers as soon as the load
// goes; a call whose client deadline has passed is dropped before it starts
// (DeadlineExceeded). No gRPC types: the server wraps each call in a Task.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/status.h"

namespace whoknows::admission {

struct Options {
  size_t workers = 0;          // calls running at once; 0 = hardware threads (at least 2)
  size_t max_queue = 0;        // calls waiting; 0 = 4 x workers
  std::chrono::milliseconds max_wait{1000};  // longest wait in the queue before the call is shed
};

// Counters since start (monotonic).
struct Stats {
  uint64_t admitted = 0;       // ran
  uint64_t shed_full = 0;      // refused at once: queue full
  uint64_t shed_waited = 0;    // waited max_wait without a worker
  uint64_t dropped_deadline = 0;  // client deadline passed (or call cancelled) before it started
  size_t queued = 0;              // waiting now
  size_t running = 0;             // running now
};

// Thread-safe. The destructor lets the workers finish every queued task (each
// still gets its checks, so cancelled calls end quickly) and joins them.
class Executor {
 public:
  using Clock = std::chrono::steady_clock;
  // Called exactly once: with OkStatus on a worker thread when the call may
  // run (do the work inside), or with ResourceExhausted / DeadlineExceeded /
  // Cancelled when it must not (then finish the call with that status).
  using Task = std::function<void(const absl::Status&)>;
  // True when the caller has gone away (cancelled); checked before running.
  using AliveFn = std::function<bool()>;

  explicit Executor(const Options& options);
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Queues `task`, or calls it inline with ResourceExhausted when the queue is
  // full. `deadline` is the client's (Clock::time_point::max() = none).
  void Submit(Clock::time_point deadline, AliveFn cancelled, Task task);

  Stats stats() const;
  size_t workers() const { return threads_.size(); }
  size_t max_queue() const { return max_queue_; }

 private:
  struct Item {
    Clock::time_point enqueued, deadline;
    AliveFn cancelled;
    Task task;
  };
  void Work();
  // Runs `item` (on the calling thread) after the checks.
  void Run(Item& item);

  const size_t max_queue_;
  const std::chrono::milliseconds max_wait_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  bool stop_ = false;
  Stats stats_;
  std::vector<std::thread> threads_;
};

}  // namespace whoknows::admission

#endif  // WHOKNOWS_ADMISSION_ADMISSION_H_

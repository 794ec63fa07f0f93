#include "whoknows/admission/admission.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_format.h"

namespace whoknows::admission {

Executor::Executor(const Options& options)
    : max_queue_(options.max_queue != 0
                     ? options.max_queue
                     : 4 * (options.workers != 0 ? options.workers
                                                 : std::max<size_t>(2, std::thread::hardware_concurrency()))),
      max_wait_(options.max_wait) {
  const size_t n = options.workers != 0 ? options.workers : std::max<size_t>(2, std::thread::hardware_concurrency());
  threads_.reserve(n);
  for (size_t i = 0; i < n; ++i) threads_.emplace_back([this] { Work(); });
}

Executor::~Executor() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void Executor::Submit(Clock::time_point deadline, AliveFn cancelled, Task task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stop_ && queue_.size() < max_queue_) {
      queue_.push_back(Item{Clock::now(), deadline, std::move(cancelled), std::move(task)});
      cv_.notify_one();
      return;
    }
    ++stats_.shed_full;
  }
  task(absl::ResourceExhaustedError(absl::StrFormat(
      "server overloaded: %d calls running and %d waiting; retry with backoff", threads_.size(), max_queue_)));
}

Stats Executor::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  Stats s = stats_;
  s.queued = queue_.size();
  return s;
}

void Executor::Work() {
  for (;;) {
    Item item;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stop_ and drained
      item = std::move(queue_.front());
      queue_.pop_front();
    }
    Run(item);
  }
}

void Executor::Run(Item& item) {
  const Clock::time_point now = Clock::now();
  absl::Status status;
  if (item.cancelled && item.cancelled()) {
    status = absl::CancelledError("call cancelled while queued");
  } else if (now >= item.deadline) {
    status = absl::DeadlineExceededError("client deadline passed before the call started; not run");
  } else if (now - item.enqueued > max_wait_) {
    status = absl::ResourceExhaustedError(absl::StrFormat(
        "server overloaded: waited %d ms for a worker (limit %d ms); retry with backoff",
        std::chrono::duration_cast<std::chrono::milliseconds>(now - item.enqueued).count(), max_wait_.count()));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (status.ok()) {
      ++stats_.admitted;
      ++stats_.running;
    } else if (status.code() == absl::StatusCode::kResourceExhausted) {
      ++stats_.shed_waited;
    } else {
      ++stats_.dropped_deadline;
    }
  }
  item.task(status);
  if (status.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    --stats_.running;
  }
}

}  // namespace whoknows::admission

#ifndef SANDBOXD_SERVER_RUN_QUEUE_H_
#define SANDBOXD_SERVER_RUN_QUEUE_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace sandboxd {

// Admission: at most `max_running` commands run at once, at most `max_queued` more
// wait for a turn, in arrival order; beyond that a request is refused at once.
// Thread-safe.
class RunQueue {
 public:
  // Holds a run slot until destroyed.
  class Ticket {
   public:
    explicit Ticket(RunQueue* queue) : queue_(queue) {}
    Ticket(Ticket&& other) noexcept : queue_(other.queue_) { other.queue_ = nullptr; }
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    ~Ticket() {
      if (queue_ != nullptr) queue_->Release();
    }

   private:
    RunQueue* queue_;
  };

  // `on_change`, if set, hears the running and queued counts whenever they change
  // (under the queue's lock: keep it short).
  RunQueue(int max_running, int max_queued,
           std::function<void(int running, int queued)> on_change = nullptr)
      : max_running_(max_running), max_queued_(max_queued), on_change_(std::move(on_change)) {}

  // Waits for a slot. RESOURCE_EXHAUSTED at once when the queue is full;
  // DEADLINE_EXCEEDED when `deadline` passes while waiting; CANCELLED when `cancelled`
  // (asked a few times a second) says so.
  absl::StatusOr<Ticket> Acquire(absl::Time deadline, const std::function<bool()>& cancelled);

  int running() const;
  int queued() const;
  // Waits until nothing runs or waits, up to `deadline`; true if so.
  bool WaitIdle(absl::Time deadline) const;

 private:
  void Release();
  void Changed() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (on_change_) on_change_(running_, queued_);
  }
  // Moves the turn past numbers whose holders gave up waiting.
  void SkipAbandoned() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const int max_running_;
  const int max_queued_;
  const std::function<void(int, int)> on_change_;
  mutable absl::Mutex mu_;
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  int queued_ ABSL_GUARDED_BY(mu_) = 0;
  // Arrival order: the next ticket number to hand out, and the one whose turn it is.
  uint64_t next_number_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t serving_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<uint64_t> abandoned_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sandboxd

#endif  // SANDBOXD_SERVER_RUN_QUEUE_H_

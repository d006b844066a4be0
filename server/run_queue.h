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
// wait for a turn, in arrival order; beyond that a request is refused at once. Calls
// not ready to ask for a turn yet (an ExecStream before its start message) hold a
// place among the waiting meanwhile. Thread-safe.
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

  // Holds a place among the waiting until destroyed.
  class Place {
   public:
    explicit Place(RunQueue* queue) : queue_(queue) {}
    Place(Place&& other) noexcept : queue_(other.queue_) { other.queue_ = nullptr; }
    Place(const Place&) = delete;
    Place& operator=(const Place&) = delete;
    ~Place() {
      if (queue_ != nullptr) queue_->Leave();
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
  // (asked a few times a second) says so; UNAVAILABLE once closed.
  absl::StatusOr<Ticket> Acquire(absl::Time deadline, const std::function<bool()>& cancelled);

  // A place among the waiting that waits for no turn: it counts against max_queued
  // (RESOURCE_EXHAUSTED at once when the queue is full), so that calls which are not
  // ready to run cannot pile up without bound.
  absl::StatusOr<Place> Hold();

  // For shutdown: every request waiting for a slot, and every later one, is refused
  // with UNAVAILABLE at once; those running keep their slots.
  void Close();
  // Whether Close was called; and the status requests then get.
  bool closed() const;
  static absl::Status Closed();

  int running() const;
  // Requests waiting for a turn, and places held.
  int queued() const;
  // Waits until nothing runs or waits, up to `deadline`; true if so.
  bool WaitIdle(absl::Time deadline) const;

 private:
  void Release();
  void Leave();
  absl::Status Full() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Changed() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (on_change_) on_change_(running_, queued_ + held_);
  }
  // Moves the turn past numbers whose holders gave up waiting.
  void SkipAbandoned() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const int max_running_;
  const int max_queued_;
  const std::function<void(int, int)> on_change_;
  mutable absl::Mutex mu_;
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  int queued_ ABSL_GUARDED_BY(mu_) = 0;
  int held_ ABSL_GUARDED_BY(mu_) = 0;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  // Arrival order: the next ticket number to hand out, and the one whose turn it is.
  uint64_t next_number_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t serving_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<uint64_t> abandoned_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sandboxd

#endif  // SANDBOXD_SERVER_RUN_QUEUE_H_

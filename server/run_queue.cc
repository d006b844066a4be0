#include "server/run_queue.h"

#include <algorithm>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace sandboxd {
namespace {

// How often a waiting request asks whether its caller is still there.
constexpr absl::Duration kCancelCheckInterval = absl::Milliseconds(100);

}  // namespace

absl::StatusOr<RunQueue::Ticket> RunQueue::Acquire(absl::Time deadline,
                                                    const std::function<bool()>& cancelled) {
  absl::MutexLock lock(&mu_);
  if (closed_) return Closed();
  if (running_ < max_running_ && queued_ == 0) {
    ++running_;
    Changed();
    return Ticket(this);
  }
  if (queued_ + held_ >= max_queued_) return Full();
  ++queued_;
  Changed();
  uint64_t number = next_number_++;
  // Wakes on its turn, or when the queue closes, which ends every wait.
  auto wake = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return closed_ || (running_ < max_running_ && serving_ == number);
  };
  absl::Time start = absl::Now();
  while (closed_ || !wake()) {
    absl::Status give_up;
    if (closed_) {
      give_up = Closed();
    } else if (absl::Now() >= deadline) {
      give_up = absl::DeadlineExceededError(absl::StrCat(
          "the call's deadline passed after waiting ", absl::FormatDuration(absl::Now() - start),
          " for a free slot (the server runs at most --max_concurrent commands)"));
    } else if (cancelled && cancelled()) {
      give_up = absl::CancelledError("the call was cancelled while waiting for a free slot");
    }
    if (!give_up.ok()) {
      // Leaving the line: the next one may be served. Numbers handed out after ours
      // still wait for ours, so skip it by moving the turn on when it is ours.
      --queued_;
      Changed();
      abandoned_.push_back(number);
      SkipAbandoned();
      return give_up;
    }
    mu_.AwaitWithDeadline(absl::Condition(&wake),
                          std::min(deadline, absl::Now() + kCancelCheckInterval));
  }
  --queued_;
  ++running_;
  ++serving_;
  Changed();
  SkipAbandoned();
  return Ticket(this);
}

void RunQueue::Close() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
}

bool RunQueue::closed() const {
  absl::MutexLock lock(&mu_);
  return closed_;
}

absl::Status RunQueue::Closed() {
  return absl::UnavailableError("the server is shutting down; retry elsewhere or later");
}

absl::Status RunQueue::Full() const {
  return absl::ResourceExhaustedError(absl::StrCat(
      "the server is running ", running_, " commands (its --max_concurrent) with ",
      queued_ + held_, " more waiting (its --max_queued); retry later"));
}

absl::StatusOr<RunQueue::Place> RunQueue::Hold() {
  absl::MutexLock lock(&mu_);
  if (queued_ + held_ >= max_queued_) return Full();
  ++held_;
  Changed();
  return Place(this);
}

void RunQueue::Leave() {
  absl::MutexLock lock(&mu_);
  --held_;
  Changed();
}

void RunQueue::SkipAbandoned() {
  for (auto it = std::find(abandoned_.begin(), abandoned_.end(), serving_);
       it != abandoned_.end(); it = std::find(abandoned_.begin(), abandoned_.end(), serving_)) {
    abandoned_.erase(it);
    ++serving_;
  }
}

void RunQueue::Release() {
  absl::MutexLock lock(&mu_);
  --running_;
  Changed();
}

int RunQueue::running() const {
  absl::MutexLock lock(&mu_);
  return running_;
}

int RunQueue::queued() const {
  absl::MutexLock lock(&mu_);
  return queued_ + held_;
}

bool RunQueue::WaitIdle(absl::Time deadline) const {
  absl::MutexLock lock(&mu_);
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return running_ == 0 && queued_ == 0 && held_ == 0;
  };
  return mu_.AwaitWithDeadline(absl::Condition(&idle), deadline);
}

}  // namespace sandboxd

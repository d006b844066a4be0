#include "server/cancel_timer.h"

#include <algorithm>

#include "absl/time/clock.h"

namespace sandboxd {

CancelTimer::CancelTimer() : thread_([this] { Run(); }) {}

CancelTimer::~CancelTimer() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

CancelTimer::Armed CancelTimer::CancelAt(grpc::ServerContext& context, absl::Time when) {
  absl::MutexLock lock(&mu_);
  uint64_t id = next_id_++;
  entries_[id] = Entry{when, &context};
  return Armed(*this, id);
}

CancelTimer::Armed::~Armed() {
  absl::MutexLock lock(&timer_.mu_);
  timer_.entries_.erase(id_);
}

bool CancelTimer::Armed::fired() const {
  absl::MutexLock lock(&timer_.mu_);
  auto it = timer_.entries_.find(id_);
  return it != timer_.entries_.end() && it->second.fired;
}

void CancelTimer::Run() {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    absl::Time now = absl::Now(), next = absl::InfiniteFuture();
    for (auto& [id, entry] : entries_) {
      if (entry.fired) continue;
      if (entry.when <= now) {
        // Under the lock: an Armed being destroyed waits for this, so the context is
        // still alive.
        entry.context->TryCancel();
        entry.fired = true;
      } else {
        next = std::min(next, entry.when);
      }
    }
    // Woken early by a new entry (it may be due first) or by stopping.
    uint64_t seen = next_id_;
    auto changed = [this, seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return stopping_ || next_id_ != seen;
    };
    mu_.AwaitWithDeadline(absl::Condition(&changed), next);
  }
}

}  // namespace sandboxd

#include "server/alarms.h"

#include <algorithm>
#include <utility>

#include "absl/time/clock.h"

namespace sandboxd {

Alarms::Alarms() : thread_([this] { Run(); }) {}

Alarms::~Alarms() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

Alarms::Armed Alarms::Set(absl::Time when, std::function<void()> fire) {
  absl::MutexLock lock(&mu_);
  uint64_t id = next_id_++;
  entries_[id] = Entry{when, std::move(fire)};
  return Armed(*this, id);
}

Alarms::Armed::~Armed() {
  if (alarms_ == nullptr) return;
  absl::MutexLock lock(&alarms_->mu_);
  alarms_->entries_.erase(id_);
}

void Alarms::Run() {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    absl::Time now = absl::Now(), next = absl::InfiniteFuture();
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (it->second.when > now) {
        next = std::min(next, it->second.when);
        ++it;
        continue;
      }
      // Under the lock: an Armed being destroyed waits for this, so whatever the
      // callback touches is still alive.
      it->second.fire();
      it = entries_.erase(it);
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

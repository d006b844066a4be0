#include "sandbox/launcher/cgroup_reaper.h"

#include <utility>

namespace sandboxd {

CgroupReaper::CgroupReaper() : thread_([this] { RemoveQueued(); }) {}

CgroupReaper::~CgroupReaper() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void CgroupReaper::Retire(std::unique_ptr<Cgroup> cgroup) {
  absl::MutexLock lock(&mu_);
  queue_.push_back(std::move(cgroup));
}

bool CgroupReaper::HasWork() const { return stopping_ || !queue_.empty(); }

void CgroupReaper::RemoveQueued() {
  for (;;) {
    std::unique_ptr<Cgroup> next;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &CgroupReaper::HasWork));
      if (queue_.empty()) return;  // Stopping, and nothing left.
      next = std::move(queue_.front());
      queue_.pop_front();
    }
    next.reset();  // Outside the lock: it may take a few milliseconds.
  }
}

}  // namespace sandboxd

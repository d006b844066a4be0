#ifndef SANDBOXD_SANDBOX_LAUNCHER_CGROUP_REAPER_H_
#define SANDBOXD_SANDBOX_LAUNCHER_CGROUP_REAPER_H_

#include <deque>
#include <memory>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "sandbox/launcher/cgroup.h"

namespace sandboxd {

// Removes commands' cgroups on a thread of its own, so that a response never waits for
// the last processes of its command to finish exiting: when bwrap has been reaped, the
// pid 1 of its namespace is often still tearing the namespaces down, and the cgroup
// cannot go before it has. Thread-safe.
class CgroupReaper {
 public:
  CgroupReaper();
  // Removes everything still queued, then stops.
  ~CgroupReaper();
  CgroupReaper(const CgroupReaper&) = delete;
  CgroupReaper& operator=(const CgroupReaper&) = delete;

  // Queues `cgroup` for removal (Cgroup's destructor: kill what is left until it is
  // empty, then remove it).
  void Retire(std::unique_ptr<Cgroup> cgroup);

 private:
  void RemoveQueued();
  bool HasWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  std::deque<std::unique_ptr<Cgroup>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_LAUNCHER_CGROUP_REAPER_H_

#ifndef SANDBOXD_SANDBOX_LAUNCHER_CGROUP_H_
#define SANDBOXD_SANDBOX_LAUNCHER_CGROUP_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace sandboxd {

// What one command's cgroup measured.
struct CgroupUsage {
  absl::Duration user_cpu;
  absl::Duration system_cpu;
  uint64_t peak_memory_bytes = 0;
  // The kernel killed a process for exceeding the memory limit.
  bool oom_killed = false;
  // The kernel refused a fork at the process limit (pids.events).
  bool forks_refused = false;
};

// One command's cgroup: limits for its whole process tree, its usage, and a way to
// kill everything in it. Removed (after killing what is left) when destroyed. A cgroup
// can serve one command after another, with a process of the server's that stays in it
// (the `spare` below) and counters restarted in between.
class Cgroup {
 public:
  virtual ~Cgroup() = default;
  // The cgroup.procs files a process writes "0" into to join (one per v1 hierarchy).
  virtual std::vector<std::string> ProcsFiles() const = 0;
  // Limits memory (0: none) and the number of processes (0: none) of the whole tree,
  // replacing earlier limits. The memory limit must be above what is already in the
  // cgroup.
  virtual absl::Status SetLimits(uint64_t memory_bytes, uint64_t max_processes) = 0;
  // Restarts what Usage() reports from now on. UNIMPLEMENTED where the kernel cannot
  // restart the peak memory figure (cgroup v2 before Linux 6.12).
  virtual absl::Status StartCounting() = 0;
  // Since creation, or since StartCounting().
  virtual CgroupUsage Usage() const = 0;
  // Memory charged to the cgroup now: its processes', and the page cache of files they
  // wrote, which outlives them.
  virtual uint64_t MemoryInUse() const = 0;
  // SIGKILLs every process in the cgroup but `spare` (0: none), without waiting for
  // them to be gone (the destructor and Empty do that).
  virtual void KillAll(int spare) = 0;
  // Kills everything but `spare` until nothing else is left. DEADLINE_EXCEEDED when
  // something is still there after about 100 ms.
  virtual absl::Status Empty(int spare) = 0;
};

// Where per-command cgroups are made: a cgroup v2 directory delegated to the server
// (memory and pids enabled for children), or the server's own cgroups in the v1
// memory, pids and cpuacct hierarchies.
class CgroupParent {
 public:
  virtual ~CgroupParent() = default;

  // Finds a usable parent under `fs_root` for the server's own cgroups (from
  // /proc/self/cgroup): v2 first, then v1. NOT_FOUND saying what is missing when
  // neither works; commands then run without cgroup limits.
  static absl::StatusOr<std::unique_ptr<CgroupParent>> Detect(
      const std::string& fs_root = "/sys/fs/cgroup");
  // A v2 parent at `dir`, which must look like a cgroup v2 directory (tests use a
  // plain directory).
  static std::unique_ptr<CgroupParent> V2At(const std::string& dir);

  // "cgroup v2 at ..." or "cgroup v1 at ...".
  virtual std::string Describe() const = 0;
  // Creates the child `name`, without limits.
  virtual absl::StatusOr<std::unique_ptr<Cgroup>> Create(const std::string& name) const = 0;
  // Removes the children for whose name `stale` says true and that hold no process
  // (those are left alone); returns how many it removed.
  virtual int RemoveStale(const std::function<bool(const std::string&)>& stale) const = 0;
};

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_LAUNCHER_CGROUP_H_

#ifndef SANDBOXD_SANDBOX_LAUNCHER_LAUNCHER_POOL_H_
#define SANDBOXD_SANDBOX_LAUNCHER_LAUNCHER_POOL_H_

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "sandbox/launcher/cgroup.h"
#include "sandbox/launcher/prestarted_launcher.h"

namespace sandboxd {

// A launcher waiting for a command, inside its cgroup where the pool has them.
struct ReadyLauncher {
  // Null in a pool without cgroups.
  std::unique_ptr<Cgroup> cgroup;
  // Declared after the cgroup, so it is killed and reaped before the cgroup goes.
  std::unique_ptr<PrestartedLauncher> launcher;
};

// Launchers started ahead of demand, each in a cgroup of its own that it stays in and
// starts one command after another from (prestarted_launcher.h says what that saves).
// A thread of the pool's makes `size` of them up front, and one more for each request
// that finds none ready (Make); every one handed out comes back (Return), so the pool
// grows to the most commands that ran at once. Thread-safe.
//
// With `private_netns`, each launcher has a network namespace of its own too (see
// PrestartedLauncher::Start), reused like the cgroup by one command after another.
// Without `make_cgroup` (a server without cgroups), launchers have nothing but that.
//
// Only that thread starts launchers: a command's process is the child of the thread
// that started its launcher (see prestarted_launcher.h), and bwrap's --die-with-parent
// kills it when that thread ends, as a gRPC thread may while the command runs.
class LauncherPool {
 public:
  using MakeCgroup = std::function<absl::StatusOr<std::unique_ptr<Cgroup>>()>;

  // `launcher` is sandboxd-launch's path and the options it always takes (see
  // PrestartedLauncher::Start).
  LauncherPool(MakeCgroup make_cgroup, std::vector<std::string> launcher, int size,
               bool private_netns = false);
  // Stops, kills the launchers that are back and removes their cgroups. Those still
  // handed out must not come back afterwards.
  ~LauncherPool();
  LauncherPool(const LauncherPool&) = delete;
  LauncherPool& operator=(const LauncherPool&) = delete;

  // A launcher inside its cgroup, with the cgroup's counters restarted, or nothing
  // when none is ready. Never waits. (Without make_cgroup, ReadyLauncher::cgroup is
  // null.)
  std::optional<ReadyLauncher> Take();
  // For when Take had none: has the pool's thread make one more, and waits for a
  // launcher to be ready. UNAVAILABLE when none is within a few seconds.
  absl::StatusOr<ReadyLauncher> Make();
  // Takes back one that Take or Make handed out, once its command is done. The pool's
  // thread kills what the command left in the cgroup and restarts its counters before
  // handing it out again; one that cannot be reused (its launcher died, the cgroup
  // does not empty, files the command wrote keep much memory charged to it, its
  // counters cannot be restarted, a socket is left in its network namespace) is
  // removed.
  void Return(ReadyLauncher launcher);

 private:
  void Run();
  // Starts up to `count` launchers in fresh cgroups, waits for them to join and adds
  // them to ready_; returns how many it could not make, and notes why in last_error_.
  size_t StartSome(size_t count);
  // Readies a returned launcher for its next command; false when it cannot be reused.
  static bool Reuse(ReadyLauncher& launcher);

  const MakeCgroup make_cgroup_;
  const std::vector<std::string> launcher_;
  const size_t size_;
  const bool private_netns_;
  absl::Mutex mu_;
  absl::CondVar changed_;
  std::deque<ReadyLauncher> ready_ ABSL_GUARDED_BY(mu_);
  std::deque<ReadyLauncher> returned_ ABSL_GUARDED_BY(mu_);
  // Launchers alive: ready, handed out or returned.
  size_t count_ ABSL_GUARDED_BY(mu_) = 0;
  // Launchers that Make asked for and the thread has not started yet.
  size_t wanted_ ABSL_GUARDED_BY(mu_) = 0;
  // Why the last launcher could not be made.
  absl::Status last_error_ ABSL_GUARDED_BY(mu_);
  // After a failure to make one, the thread makes no more before this.
  absl::Time retry_after_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_LAUNCHER_LAUNCHER_POOL_H_

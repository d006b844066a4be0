#ifndef SANDBOXD_SANDBOX_LAUNCHER_POOL_H_
#define SANDBOXD_SANDBOX_LAUNCHER_POOL_H_

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "sandbox/cgroup.h"
#include "sandbox/prestarted_launcher.h"

namespace sandboxd {

// A fresh cgroup with a launcher already inside it, waiting for its command.
struct ReadyLauncher {
  std::unique_ptr<Cgroup> cgroup;
  // Declared after the cgroup, so it is killed and reaped before the cgroup goes.
  std::unique_ptr<PrestartedLauncher> launcher;
};

// Keeps `size` launchers started ahead of demand, each in a cgroup of its own (see
// prestarted_launcher.h for what that saves). A thread of its own tops the pool up as
// requests take from it; it starts what is missing together, so that their cgroup
// joins share one wait. Thread-safe.
class LauncherPool {
 public:
  using MakeCgroup = std::function<absl::StatusOr<std::unique_ptr<Cgroup>>()>;

  LauncherPool(MakeCgroup make_cgroup, std::string launcher_path, int size);
  // Stops topping up, kills the waiting launchers and removes their cgroups.
  ~LauncherPool();
  LauncherPool(const LauncherPool&) = delete;
  LauncherPool& operator=(const LauncherPool&) = delete;

  // A launcher inside its cgroup, or nothing when none is ready (the caller then makes
  // a cgroup and starts a launcher itself). Never waits.
  std::optional<ReadyLauncher> Take();

 private:
  void TopUp();
  // Starts up to `count` launchers in fresh cgroups; stops at the first failure.
  std::deque<ReadyLauncher> StartSome(size_t count);

  const MakeCgroup make_cgroup_;
  const std::string launcher_path_;
  const size_t size_;
  absl::Mutex mu_;
  absl::CondVar changed_;
  std::deque<ReadyLauncher> ready_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_LAUNCHER_POOL_H_

#include "sandbox/launcher_pool.h"

#include <utility>

namespace sandboxd {
namespace {

// How long a launcher may take to join its cgroups; far above the grace period it
// may wait for.
constexpr absl::Duration kJoinTimeout = absl::Seconds(5);
// How long to wait before trying again after a launcher or cgroup could not be made
// (requests meanwhile start their own and report the error).
constexpr absl::Duration kRetryDelay = absl::Seconds(1);

}  // namespace

LauncherPool::LauncherPool(MakeCgroup make_cgroup, std::string launcher_path, int size)
    : make_cgroup_(std::move(make_cgroup)),
      launcher_path_(std::move(launcher_path)),
      size_(static_cast<size_t>(size)),
      thread_([this] { TopUp(); }) {}

LauncherPool::~LauncherPool() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    changed_.SignalAll();
  }
  thread_.join();
}

std::optional<ReadyLauncher> LauncherPool::Take() {
  absl::MutexLock lock(&mu_);
  if (ready_.empty()) return std::nullopt;
  ReadyLauncher taken = std::move(ready_.front());
  ready_.pop_front();
  changed_.Signal();
  return taken;
}

void LauncherPool::TopUp() {
  for (;;) {
    size_t missing;
    {
      absl::MutexLock lock(&mu_);
      while (!stopping_ && ready_.size() >= size_) changed_.Wait(&mu_);
      if (stopping_) break;
      missing = size_ - ready_.size();
    }
    std::deque<ReadyLauncher> started = StartSome(missing);
    bool short_of = started.size() < missing;
    // Waited for outside the lock: Take() must not wait for a join.
    for (ReadyLauncher& one : started) {
      if (!one.launcher->WaitJoined(kJoinTimeout).ok()) {
        short_of = true;
        continue;
      }
      absl::MutexLock lock(&mu_);
      ready_.push_back(std::move(one));
    }
    if (short_of) {
      absl::MutexLock lock(&mu_);
      if (!stopping_) changed_.WaitWithTimeout(&mu_, kRetryDelay);
    }
  }
  absl::MutexLock lock(&mu_);
  ready_.clear();
}

std::deque<ReadyLauncher> LauncherPool::StartSome(size_t count) {
  std::deque<ReadyLauncher> started;
  for (size_t i = 0; i < count; ++i) {
    absl::StatusOr<std::unique_ptr<Cgroup>> cgroup = make_cgroup_();
    if (!cgroup.ok()) break;
    absl::StatusOr<std::unique_ptr<PrestartedLauncher>> launcher =
        PrestartedLauncher::Start(launcher_path_, (*cgroup)->ProcsFiles());
    if (!launcher.ok()) break;
    started.push_back({*std::move(cgroup), *std::move(launcher)});
  }
  return started;
}

}  // namespace sandboxd

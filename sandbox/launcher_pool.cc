#include "sandbox/launcher_pool.h"

#include <utility>
#include <vector>

#include "absl/time/clock.h"

namespace sandboxd {
namespace {

// How long a launcher may take to join its cgroups; far above the grace period it
// may wait for.
constexpr absl::Duration kJoinTimeout = absl::Seconds(5);
// How long to wait before trying again after a launcher or cgroup could not be made
// (requests meanwhile make their own and report the error).
constexpr absl::Duration kRetryDelay = absl::Seconds(1);

// Starts a launcher into `cgroup`, without waiting for it to join.
absl::StatusOr<ReadyLauncher> StartIn(std::unique_ptr<Cgroup> cgroup,
                                      const std::string& launcher_path) {
  absl::StatusOr<std::unique_ptr<PrestartedLauncher>> launcher =
      PrestartedLauncher::Start(launcher_path, cgroup->ProcsFiles());
  if (!launcher.ok()) return launcher.status();
  return ReadyLauncher{std::move(cgroup), *std::move(launcher)};
}

// Waits for `one` to join. A fresh cgroup counts from zero anyway, so a failure to
// restart its counters only keeps it from being reused (Reuse tries again).
absl::Status Joined(ReadyLauncher& one) {
  if (absl::Status s = one.launcher->WaitJoined(kJoinTimeout); !s.ok()) return s;
  one.cgroup->StartCounting().IgnoreError();
  return absl::OkStatus();
}

}  // namespace

LauncherPool::LauncherPool(MakeCgroup make_cgroup, std::string launcher_path, int size)
    : make_cgroup_(std::move(make_cgroup)),
      launcher_path_(std::move(launcher_path)),
      size_(static_cast<size_t>(size)),
      thread_([this] { Run(); }) {}

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
  return taken;
}

absl::StatusOr<ReadyLauncher> LauncherPool::Make() {
  absl::StatusOr<std::unique_ptr<Cgroup>> cgroup = make_cgroup_();
  if (!cgroup.ok()) return cgroup.status();
  absl::StatusOr<ReadyLauncher> made = StartIn(*std::move(cgroup), launcher_path_);
  if (!made.ok()) return made.status();
  if (absl::Status s = Joined(*made); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  ++count_;
  return made;
}

void LauncherPool::Return(ReadyLauncher launcher) {
  absl::MutexLock lock(&mu_);
  returned_.push_back(std::move(launcher));
  changed_.Signal();
}

void LauncherPool::Run() {
  for (;;) {
    std::deque<ReadyLauncher> returned;
    size_t missing = 0;
    {
      absl::MutexLock lock(&mu_);
      auto has_work = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !returned_.empty() ||
               (count_ < size_ && absl::Now() >= retry_after_);
      };
      while (!has_work()) {
        if (count_ < size_) {
          changed_.WaitWithDeadline(&mu_, retry_after_);
        } else {
          changed_.Wait(&mu_);
        }
      }
      if (stopping_) break;
      returned.swap(returned_);
      if (count_ < size_ && absl::Now() >= retry_after_) missing = size_ - count_;
      count_ += missing;
    }
    for (ReadyLauncher& one : returned) {
      bool reused = Reuse(one);
      absl::MutexLock lock(&mu_);
      if (reused) {
        ready_.push_back(std::move(one));
      } else {
        --count_;
      }
    }
    // Destroyed outside the lock: removing a cgroup waits for its processes to go.
    returned.clear();
    if (missing > 0) {
      size_t failed = StartSome(missing);
      absl::MutexLock lock(&mu_);
      count_ -= failed;
      if (failed > 0) retry_after_ = absl::Now() + kRetryDelay;
    }
  }
  std::deque<ReadyLauncher> ready, returned;
  {
    absl::MutexLock lock(&mu_);
    ready.swap(ready_);
    returned.swap(returned_);
  }
}

size_t LauncherPool::StartSome(size_t count) {
  // All started before any is waited for, so that their cgroup joins share one wait.
  std::vector<ReadyLauncher> started;
  while (started.size() < count) {
    absl::StatusOr<std::unique_ptr<Cgroup>> cgroup = make_cgroup_();
    if (!cgroup.ok()) break;
    absl::StatusOr<ReadyLauncher> one = StartIn(*std::move(cgroup), launcher_path_);
    if (!one.ok()) break;
    started.push_back(*std::move(one));
  }
  size_t failed = count - started.size();
  for (ReadyLauncher& one : started) {
    if (!Joined(one).ok()) {
      ++failed;
      continue;
    }
    absl::MutexLock lock(&mu_);
    ready_.push_back(std::move(one));
  }
  return failed;
}

bool LauncherPool::Reuse(ReadyLauncher& one) {
  return one.launcher->Alive() && one.cgroup->Empty(one.launcher->pid()).ok() &&
         one.cgroup->StartCounting().ok();
}

}  // namespace sandboxd

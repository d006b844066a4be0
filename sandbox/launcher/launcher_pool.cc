#include "sandbox/launcher/launcher_pool.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace sandboxd {
namespace {

// How long a launcher may take to join its cgroups (and make its network namespace);
// far above the grace period a join may wait for.
constexpr absl::Duration kReadyTimeout = absl::Seconds(5);
// How long to wait before topping up again after a launcher or cgroup could not be made
// (a request that finds none ready still has one made for it, or hears why not).
constexpr absl::Duration kRetryDelay = absl::Seconds(1);
// A cgroup still charged with more than this once its command is gone (the page cache
// of files the command wrote) is not reused: the next command's peak memory would
// start from there. Removing it keeps the cache; emptying it would evict the files.
// An idle launcher has a few KiB charged.
constexpr uint64_t kMaxMemoryToReuse = uint64_t{16} << 20;

// Starts a launcher into `cgroup` (if any), without waiting for it to join.
absl::StatusOr<ReadyLauncher> StartIn(std::unique_ptr<Cgroup> cgroup,
                                      const std::vector<std::string>& command,
                                      bool private_netns) {
  absl::StatusOr<std::unique_ptr<PrestartedLauncher>> launcher = PrestartedLauncher::Start(
      command, cgroup != nullptr ? cgroup->ProcsFiles() : std::vector<std::string>(),
      private_netns);
  if (!launcher.ok()) return launcher.status();
  return ReadyLauncher{std::move(cgroup), *std::move(launcher)};
}

// Waits for `one` to be ready. A fresh cgroup counts from zero anyway, so a failure to
// restart its counters only keeps it from being reused (Reuse tries again).
absl::Status AwaitReady(ReadyLauncher& one) {
  if (absl::Status s = one.launcher->WaitReady(kReadyTimeout); !s.ok()) return s;
  if (one.cgroup != nullptr) one.cgroup->StartCounting().IgnoreError();
  return absl::OkStatus();
}

}  // namespace

LauncherPool::LauncherPool(MakeCgroup make_cgroup, std::vector<std::string> launcher, int size,
                           bool private_netns)
    : make_cgroup_(std::move(make_cgroup)),
      launcher_(std::move(launcher)),
      size_(static_cast<size_t>(size)),
      private_netns_(private_netns),
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
  absl::MutexLock lock(&mu_);
  ++wanted_;
  changed_.SignalAll();
  absl::Time deadline = absl::Now() + kReadyTimeout + absl::Seconds(1);
  last_error_ = absl::OkStatus();
  while (ready_.empty() && !stopping_ && last_error_.ok()) {
    if (changed_.WaitWithDeadline(&mu_, deadline)) break;
  }
  if (ready_.empty()) {
    return absl::UnavailableError(absl::StrCat(
        "no pre-started launcher could be made: ",
        last_error_.ok() ? "timed out" : last_error_.message()));
  }
  ReadyLauncher taken = std::move(ready_.front());
  ready_.pop_front();
  return taken;
}

void LauncherPool::Return(ReadyLauncher launcher) {
  absl::MutexLock lock(&mu_);
  returned_.push_back(std::move(launcher));
  changed_.SignalAll();
}

void LauncherPool::Run() {
  for (;;) {
    std::deque<ReadyLauncher> returned;
    size_t missing = 0;
    {
      absl::MutexLock lock(&mu_);
      auto has_work = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !returned_.empty() || wanted_ > 0 ||
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
      missing += wanted_;
      wanted_ = 0;
      count_ += missing;
    }
    for (ReadyLauncher& one : returned) {
      bool reused = Reuse(one);
      absl::MutexLock lock(&mu_);
      if (reused) {
        ready_.push_back(std::move(one));
        changed_.SignalAll();
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
    absl::StatusOr<std::unique_ptr<Cgroup>> cgroup =
        make_cgroup_ ? make_cgroup_() : std::unique_ptr<Cgroup>();
    absl::StatusOr<ReadyLauncher> one =
        cgroup.ok() ? StartIn(*std::move(cgroup), launcher_, private_netns_) : cgroup.status();
    if (!one.ok()) {
      absl::MutexLock lock(&mu_);
      last_error_ = one.status();
      changed_.SignalAll();
      break;
    }
    started.push_back(*std::move(one));
  }
  size_t failed = count - started.size();
  for (ReadyLauncher& one : started) {
    absl::Status ready = AwaitReady(one);
    absl::MutexLock lock(&mu_);
    if (ready.ok()) {
      ready_.push_back(std::move(one));
    } else {
      ++failed;
      last_error_ = ready;
    }
    changed_.SignalAll();
  }
  return failed;
}

bool LauncherPool::Reuse(ReadyLauncher& one) {
  if (!one.launcher->Alive()) return false;
  if (one.cgroup == nullptr) return one.launcher->NetnsIsClean();
  return one.cgroup->Empty(one.launcher->pid()).ok() && one.launcher->NetnsIsClean() &&
         one.cgroup->MemoryInUse() <= kMaxMemoryToReuse && one.cgroup->StartCounting().ok();
}

}  // namespace sandboxd

#include "sandbox/launcher_pool.h"

#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/read_file.h"
#include "sandbox/test_support.h"

// The pool with real launchers joining v2-shaped cgroups in a plain directory (a join
// there is a write into a file); tests/limits_test.cc runs it with real cgroups.

namespace sandboxd {
namespace {

class LauncherPoolTest : public CgroupDirTest {
 protected:
  LauncherPool::MakeCgroup Maker() {
    return [this] { return parent_->Create(absl::StrCat("cmd-", next_++)); };
  }

  // Takes from `pool`, waiting up to 10 s for it to have one ready.
  static std::optional<ReadyLauncher> TakeWithin(LauncherPool& pool) {
    absl::Time deadline = absl::Now() + absl::Seconds(10);
    for (;;) {
      std::optional<ReadyLauncher> ready = pool.Take();
      if (ready.has_value() || absl::Now() > deadline) return ready;
      absl::SleepFor(absl::Milliseconds(5));
    }
  }

  std::atomic<int> next_{0};
};

TEST_F(LauncherPoolTest, HandsOutJoinedLaunchersAndTopsUp) {
  LauncherPool pool(Maker(), LauncherPath(), 2);
  std::vector<ReadyLauncher> taken;
  std::set<std::string> cgroups;
  for (int i = 0; i < 5; ++i) {
    std::optional<ReadyLauncher> ready = TakeWithin(pool);
    ASSERT_TRUE(ready.has_value()) << "take " << i;
    ASSERT_NE(ready->launcher, nullptr);
    // The launcher wrote its "0" into its own cgroup before saying it was ready.
    EXPECT_EQ(ReadFileOrEmpty(ready->cgroup->ProcsFiles()[0]), "0");
    EXPECT_EQ(kill(ready->launcher->pid(), 0), 0);
    cgroups.insert(ready->cgroup->ProcsFiles()[0]);
    taken.push_back(*std::move(ready));
  }
  EXPECT_EQ(cgroups.size(), 5u);  // Each in a cgroup of its own.
}

TEST_F(LauncherPoolTest, StoppingKillsAndReapsTheWaitingOnes) {
  {
    LauncherPool pool(Maker(), LauncherPath(), 3);
    absl::SleepFor(absl::Milliseconds(200));
    std::optional<ReadyLauncher> ready = TakeWithin(pool);
    ASSERT_TRUE(ready.has_value());
    ready.reset();  // Never used: killed and reaped right here.
    for (int i = 0; i < 50 && next_ < 4; ++i) absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST_F(LauncherPoolTest, OffersNothingWhenCgroupsCannotBeMade) {
  LauncherPool pool([] { return absl::StatusOr<std::unique_ptr<Cgroup>>(
                             absl::InternalError("no cgroups here")); },
                    LauncherPath(), 2);
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_FALSE(pool.Take().has_value());
}

}  // namespace
}  // namespace sandboxd

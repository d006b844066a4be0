#include "sandbox/launcher/launcher_pool.h"

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
#include "sandbox/exec/worker.h"

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
    std::optional<ReadyLauncher> ready;
    Within(absl::Seconds(10), [&] { return (ready = pool.Take()).has_value(); });
    return ready;
  }

  std::atomic<int> next_{0};
};

// Echoes `word` through the launcher of `ready`.
std::string EchoThrough(ReadyLauncher& ready, const std::string& word) {
  absl::StatusOr<RunResult> result =
      RunWorker(Through(ready.launcher.get(), {}, {"/bin/echo", word}));
  if (!result.ok()) return result.status().ToString();
  return result->stdout_data.Contents();
}

TEST_F(LauncherPoolTest, MakesSizeAheadAndMoreOnDemand) {
  LauncherPool pool(Maker(), {LauncherPath()}, 2);
  std::vector<ReadyLauncher> taken;
  for (int i = 0; i < 2; ++i) {
    std::optional<ReadyLauncher> ready = TakeWithin(pool);
    ASSERT_TRUE(ready.has_value()) << "take " << i;
    taken.push_back(*std::move(ready));
  }
  // Two are handed out: the pool makes no more on its own.
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_FALSE(pool.Take().has_value());
  absl::StatusOr<ReadyLauncher> made = pool.Make();
  ASSERT_TRUE(made.ok()) << made.status();
  taken.push_back(*std::move(made));
  std::set<std::string> cgroups;
  for (ReadyLauncher& ready : taken) {
    ASSERT_NE(ready.launcher, nullptr);
    // The launcher wrote its "0" into its own cgroup before saying it was ready.
    EXPECT_EQ(ReadFileOrEmpty(ready.cgroup->ProcsFiles()[0]), "0");
    EXPECT_EQ(kill(ready.launcher->pid(), 0), 0);
    cgroups.insert(ready.cgroup->ProcsFiles()[0]);
  }
  EXPECT_EQ(cgroups.size(), 3u);  // Each in a cgroup of its own.
  for (ReadyLauncher& ready : taken) pool.Return(std::move(ready));
}

// A returned launcher is handed out again and starts the next command; one whose
// launcher died is replaced.
TEST_F(LauncherPoolTest, ReturnedLaunchersServeAgain) {
  LauncherPool pool(Maker(), {LauncherPath()}, 1);
  std::optional<ReadyLauncher> ready = TakeWithin(pool);
  ASSERT_TRUE(ready.has_value());
  pid_t launcher = ready->launcher->pid();
  std::string cgroup = ready->cgroup->ProcsFiles()[0];
  EXPECT_EQ(EchoThrough(*ready, "one"), "one\n");
  pool.Return(*std::move(ready));

  ready = TakeWithin(pool);
  ASSERT_TRUE(ready.has_value());
  EXPECT_EQ(ready->launcher->pid(), launcher);
  EXPECT_EQ(ready->cgroup->ProcsFiles()[0], cgroup);
  EXPECT_EQ(EchoThrough(*ready, "two"), "two\n");
  kill(launcher, SIGKILL);
  // Dead before it goes back (left for the pool to reap): a launcher that dies while
  // the pool checks it fails its next command instead, which the runner handles.
  siginfo_t info;
  ASSERT_EQ(waitid(P_PID, launcher, &info, WEXITED | WNOWAIT), 0);
  pool.Return(*std::move(ready));

  ready = TakeWithin(pool);
  ASSERT_TRUE(ready.has_value());
  EXPECT_NE(ready->launcher->pid(), launcher);
  EXPECT_NE(ready->cgroup->ProcsFiles()[0], cgroup);
  EXPECT_EQ(EchoThrough(*ready, "three"), "three\n");
  pool.Return(*std::move(ready));
}

// A launcher whose network namespace kept a socket after its command (here a
// connection in TIME_WAIT) is replaced, namespace and all.
TEST_F(LauncherPoolTest, ALauncherWithASocketLeftIsReplaced) {
  if (std::string why = WhyNoPrivateNetns(); !why.empty()) GTEST_SKIP() << why;
  LauncherPool pool(Maker(), {LauncherPath()}, 1, /*private_netns=*/true);
  std::optional<ReadyLauncher> ready = TakeWithin(pool);
  ASSERT_TRUE(ready.has_value());
  pid_t launcher = ready->launcher->pid();
  EXPECT_EQ(EchoThrough(*ready, "clean"), "clean\n");
  pool.Return(*std::move(ready));
  ready = TakeWithin(pool);
  ASSERT_TRUE(ready.has_value());
  EXPECT_EQ(ready->launcher->pid(), launcher);

  absl::StatusOr<RunResult> result =
      RunWorker(Through(ready->launcher.get(), {}, LeaveTimeWaitCommand()));
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->exit_code, 0) << result->stderr_data.Contents();
  pool.Return(*std::move(ready));

  ready = TakeWithin(pool);
  ASSERT_TRUE(ready.has_value());
  EXPECT_NE(ready->launcher->pid(), launcher);
  EXPECT_TRUE(ready->launcher->NetnsIsClean());
  pool.Return(*std::move(ready));
}

// A server without cgroups pools launchers for their network namespaces alone.
TEST_F(LauncherPoolTest, WithoutCgroupsLaunchersHoldOnlyTheirNetworkNamespaces) {
  if (std::string why = WhyNoPrivateNetns(); !why.empty()) GTEST_SKIP() << why;
  LauncherPool pool(nullptr, {LauncherPath()}, 1, /*private_netns=*/true);
  std::optional<ReadyLauncher> ready = TakeWithin(pool);
  ASSERT_TRUE(ready.has_value());
  EXPECT_EQ(ready->cgroup, nullptr);
  pid_t launcher = ready->launcher->pid();
  EXPECT_EQ(EchoThrough(*ready, "one"), "one\n");
  pool.Return(*std::move(ready));
  ready = TakeWithin(pool);
  ASSERT_TRUE(ready.has_value());
  EXPECT_EQ(ready->launcher->pid(), launcher);
  EXPECT_EQ(EchoThrough(*ready, "two"), "two\n");
  pool.Return(*std::move(ready));
}

TEST_F(LauncherPoolTest, StoppingKillsAndReapsTheLaunchers) {
  {
    LauncherPool pool(Maker(), {LauncherPath()}, 3);
    std::optional<ReadyLauncher> ready = TakeWithin(pool);
    ASSERT_TRUE(ready.has_value());
    absl::StatusOr<ReadyLauncher> made = pool.Make();
    ASSERT_TRUE(made.ok()) << made.status();
    EXPECT_EQ(EchoThrough(*made, "hi"), "hi\n");
    pool.Return(*std::move(ready));
    pool.Return(*std::move(made));
  }
  EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST_F(LauncherPoolTest, OffersNothingWhenCgroupsCannotBeMade) {
  LauncherPool pool([] { return absl::StatusOr<std::unique_ptr<Cgroup>>(
                             absl::InternalError("no cgroups here")); },
                    {LauncherPath()}, 2);
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_FALSE(pool.Take().has_value());
}

}  // namespace
}  // namespace sandboxd

#include "sandbox/launcher/prestarted_launcher.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/fd_layout.h"
#include "base/scm_rights.h"
#include "sandbox/net/bridge.h"
#include "sandbox/test_support.h"
#include "sandbox/exec/worker.h"

// A real sandboxd-launch started ahead of demand and handed commands through
// RunWorker, without cgroups (the tests run unprivileged); tests/limits_test.cc runs the
// pool with real cgroups.

namespace sandboxd {
namespace {

using ::testing::HasSubstr;

std::unique_ptr<PrestartedLauncher> StartJoined(const std::vector<std::string>& joins = {}) {
  absl::StatusOr<std::unique_ptr<PrestartedLauncher>> launcher =
      PrestartedLauncher::Start({LauncherPath()}, joins);
  EXPECT_TRUE(launcher.ok()) << launcher.status();
  if (!launcher.ok()) return nullptr;
  absl::Status joined = (*launcher)->WaitReady(absl::Seconds(10));
  EXPECT_TRUE(joined.ok()) << joined;
  return *std::move(launcher);
}

// An order that sets RLIMIT_NOFILE to `limit`.
LaunchOrder OpenFiles(uint64_t limit) {
  LaunchOrder order;
  launch::v1::Rlimit& nofile = *order.add_rlimits();
  nofile.set_resource(launch::v1::NOFILE);
  nofile.set_soft(limit);
  nofile.set_hard(limit);
  return order;
}

Launch Shell(PrestartedLauncher* launcher, LaunchOrder order, const std::string& script) {
  Launch launch = Through(launcher, std::move(order), {"/bin/sh", "-c", script});
  launch.env = {"PATH=/usr/bin:/bin", "GREETING=hello there"};
  return launch;
}

class PrestartedLauncherTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { signal(SIGPIPE, SIG_IGN); }
};

// A launcher with a network namespace of its own.
std::unique_ptr<PrestartedLauncher> StartWithPrivateNetns() {
  absl::StatusOr<std::unique_ptr<PrestartedLauncher>> launcher =
      PrestartedLauncher::Start({LauncherPath()}, {}, /*private_netns=*/true);
  EXPECT_TRUE(launcher.ok()) << launcher.status();
  if (!launcher.ok()) return nullptr;
  absl::Status ready = (*launcher)->WaitReady(absl::Seconds(10));
  EXPECT_TRUE(ready.ok()) << ready;
  if (!ready.ok()) return nullptr;
  return *std::move(launcher);
}

std::string OurNetns() {
  char link[64] = {};
  ssize_t n = readlink("/proc/self/ns/net", link, sizeof link - 1);
  return n > 0 ? std::string(link, static_cast<size_t>(n)) : "";
}


TEST_F(PrestartedLauncherTest, BecomesTheCommandWithItsStdioEnvCwdAndLimits) {
  std::unique_ptr<PrestartedLauncher> launcher = StartJoined();
  ASSERT_NE(launcher, nullptr);
  Launch launch = Shell(launcher.get(), OpenFiles(77),
                        "echo \"$GREETING\"; pwd; ulimit -n; cat; echo err >&2; exit 3");
  launch.cwd = "/usr";
  launch.stdin_data = "from stdin";
  absl::StatusOr<RunResult> result = RunWorker(launch);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->stdout_data.Contents(), "hello there\n/usr\n77\nfrom stdin");
  EXPECT_EQ(result->stderr_data.Contents(), "err\n");
  EXPECT_EQ(result->termination, Termination::EXITED);
  EXPECT_EQ(result->exit_code, 3);
}

TEST_F(PrestartedLauncherTest, GetsTheSeccompFdOnlyWhenThereIsOne) {
  std::unique_ptr<PrestartedLauncher> with = StartJoined();
  ASSERT_NE(with, nullptr);
  Launch launch = Shell(with.get(), {}, "cat <&3; ls /proc/self/fd | wc -l");
  launch.seccomp_bpf = "not really a filter";
  absl::StatusOr<RunResult> result = RunWorker(launch);
  ASSERT_TRUE(result.ok()) << result.status();
  // 0, 1, 2, 3 and the fd ls reads the directory with: nothing of the server's.
  EXPECT_EQ(result->stdout_data.Contents(), "not really a filter5\n");

  std::unique_ptr<PrestartedLauncher> without = StartJoined();
  ASSERT_NE(without, nullptr);
  result = RunWorker(Shell(without.get(), {}, "ls /proc/self/fd | wc -l"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->stdout_data.Contents(), "4\n");
}

// As when sandboxd-launch is spawned: exit status 126 and the reason on stderr.
TEST_F(PrestartedLauncherTest, ReportsWhatKeptItFromStarting) {
  std::unique_ptr<PrestartedLauncher> launcher = StartJoined();
  ASSERT_NE(launcher, nullptr);
  Launch launch = Shell(launcher.get(), {}, "true");
  launch.order->mutable_argv()->Clear();
  launch.order->add_argv("/no/such/program");
  absl::StatusOr<RunResult> result = RunWorker(launch);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_code, 126);
  EXPECT_THAT(result->stderr_data.Contents(), HasSubstr("exec /no/such/program"));

  std::unique_ptr<PrestartedLauncher> elsewhere = StartJoined();
  ASSERT_NE(elsewhere, nullptr);
  launch = Shell(elsewhere.get(), {}, "true");
  launch.cwd = "/no/such/dir";
  result = RunWorker(launch);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_code, 126);
  EXPECT_THAT(result->stderr_data.Contents(), HasSubstr("chdir /no/such/dir"));
}

// An order is checked as a command line is: what a pre-started launcher may not do, or
// does not know, ends the command with 126 and says why, and the launcher serves on.
TEST_F(PrestartedLauncherTest, RefusesOrdersItCannotCarryOut) {
  std::unique_ptr<PrestartedLauncher> launcher = StartJoined();
  ASSERT_NE(launcher, nullptr);
  LaunchOrder join;
  join.add_joins("/sys/fs/cgroup/cgroup.procs");
  absl::StatusOr<RunResult> result = RunWorker(Shell(launcher.get(), join, "echo ran"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_code, 126);
  EXPECT_THAT(result->stderr_data.Contents(), HasSubstr("an order cannot join cgroups"));
  EXPECT_EQ(result->stdout_data.Contents(), "");
  LaunchOrder unknown = OpenFiles(10);
  unknown.mutable_rlimits(0)->set_resource(static_cast<launch::v1::Resource>(42));
  result = RunWorker(Shell(launcher.get(), unknown, "echo ran"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_code, 126);
  EXPECT_THAT(result->stderr_data.Contents(), HasSubstr("unknown rlimit"));
  // The control: the same launcher runs an order it can carry out.
  result = RunWorker(Shell(launcher.get(), OpenFiles(10), "echo ran"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->stdout_data.Contents(), "ran\n");
  EXPECT_TRUE(launcher->Alive());
}

// A proxy-routed order: the command, forked, gets a network namespace of its own and
// the proxy its listener there; a launcher whose commands share its own namespace
// refuses such an order.
TEST_F(PrestartedLauncherTest, GivesAProxiedCommandANamespaceAndTheProxyItsListener) {
  std::unique_ptr<PrestartedLauncher> launcher = StartJoined();
  ASSERT_NE(launcher, nullptr);
  int pair[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair), 0);
  UniqueFd ours(pair[0]);
  LaunchOrder proxied;
  proxied.set_proxy_channel_fd(kFirstPassedFd);
  Launch launch = Shell(launcher.get(), proxied, "readlink /proc/self/ns/net");
  launch.seccomp_bpf = "not really a filter";  // fd 3, as a sandbox's.
  launch.passed_fds = {Share(UniqueFd(pair[1]))};
  absl::StatusOr<RunResult> result = RunWorker(launch);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_code, 0) << result->stderr_data.Contents();
  std::string netns = result->stdout_data.Contents();
  EXPECT_TRUE(absl::StartsWith(netns, "net:[")) << netns;
  EXPECT_NE(netns, OurNetns() + "\n");
  char byte;
  int listener = -1;
  ASSERT_EQ(ReceiveWithFd(ours.get(), &byte, 1, &listener, MSG_DONTWAIT), 1);
  UniqueFd held(listener);
  sockaddr_in address{};
  socklen_t size = sizeof address;
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&address), &size), 0);
  EXPECT_EQ(ntohs(address.sin_port), kProxyPort);
  EXPECT_TRUE(launcher->Alive());

  std::unique_ptr<PrestartedLauncher> own_netns = StartWithPrivateNetns();
  ASSERT_NE(own_netns, nullptr);
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair), 0);
  UniqueFd ours_again(pair[0]);
  launch = Shell(own_netns.get(), proxied, "echo ran");
  launch.seccomp_bpf = "not really a filter";
  launch.passed_fds = {Share(UniqueFd(pair[1]))};
  result = RunWorker(launch);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_code, 126);
  EXPECT_THAT(result->stderr_data.Contents(), HasSubstr("cannot ask for the proxy"));
}

TEST_F(PrestartedLauncherTest, SaysWhenItCannotJoin) {
  absl::StatusOr<std::unique_ptr<PrestartedLauncher>> launcher =
      PrestartedLauncher::Start({LauncherPath()}, {"/proc/no-such-cgroup/cgroup.procs"});
  ASSERT_TRUE(launcher.ok()) << launcher.status();
  absl::Status joined = (*launcher)->WaitReady(absl::Seconds(10));
  EXPECT_EQ(joined.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(joined.message(), HasSubstr("joining /proc/no-such-cgroup/cgroup.procs"));
}

TEST_F(PrestartedLauncherTest, OneNeverUsedIsReapedAndLeavesNoFds) {
  int fds_before = OpenFdCount();
  pid_t pid;
  {
    std::unique_ptr<PrestartedLauncher> launcher = StartJoined();
    ASSERT_NE(launcher, nullptr);
    pid = launcher->pid();
    EXPECT_EQ(kill(pid, 0), 0);
  }
  EXPECT_EQ(waitpid(pid, nullptr, WNOHANG), -1);  // Reaped already: not our child any more.
  EXPECT_EQ(errno, ECHILD);
  EXPECT_EQ(OpenFdCount(), fds_before);
}

// Each order is a process of its own, a child of ours, with its own options; the
// launcher stays and waits for the next.
TEST_F(PrestartedLauncherTest, StartsOneCommandAfterAnother) {
  std::unique_ptr<PrestartedLauncher> launcher = StartJoined();
  ASSERT_NE(launcher, nullptr);
  std::set<std::string> pids;
  for (int i = 0; i < 3; ++i) {
    Launch launch = Shell(launcher.get(), OpenFiles(50 + i),
                          "echo $$ $PPID $(ulimit -n)");
    absl::StatusOr<RunResult> result = RunWorker(launch);
    ASSERT_TRUE(result.ok()) << result.status();
    std::vector<std::string> fields = absl::StrSplit(result->stdout_data.Contents(), ' ');
    ASSERT_EQ(fields.size(), 3u) << result->stdout_data.Contents();
    EXPECT_NE(fields[0], std::to_string(launcher->pid()));
    EXPECT_EQ(fields[1], std::to_string(getpid()));
    EXPECT_EQ(fields[2], absl::StrCat(50 + i, "\n"));
    pids.insert(fields[0]);
    EXPECT_TRUE(launcher->Alive());
  }
  EXPECT_EQ(pids.size(), 3u);
}

TEST_F(PrestartedLauncherTest, SaysWhenItIsGone) {
  std::unique_ptr<PrestartedLauncher> launcher = StartJoined();
  ASSERT_NE(launcher, nullptr);
  kill(launcher->pid(), SIGKILL);
  absl::StatusOr<RunResult> result = RunWorker(Shell(launcher.get(), {}, "true"));
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable) << result.status();
  EXPECT_FALSE(launcher->Alive());
}

TEST_F(PrestartedLauncherTest, UsedOnesLeaveNoFds) {
  int fds_before = OpenFdCount();
  for (int round = 0; round < 4; ++round) {
    std::unique_ptr<PrestartedLauncher> launcher = StartJoined();
    ASSERT_NE(launcher, nullptr);
    for (int i = 0; i < 5; ++i) {
      Launch launch = Shell(launcher.get(), {}, i % 2 ? "echo hi" : "exit 1");
      if (i % 3 == 0) launch.argv = {LauncherPath(), "--", "/no/such/program"};
      RunWorker(launch).IgnoreError();
    }
  }
  EXPECT_EQ(OpenFdCount(), fds_before);
  EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

// As bwrap's --unshare-net would: a namespace with loopback alone, up (a connection to
// a closed port is refused, not unreachable), the same for every command. A launcher
// without one leaves its commands in ours.
TEST_F(PrestartedLauncherTest, CommandsRunInItsNetworkNamespace) {
  if (std::string why = WhyNoPrivateNetns(); !why.empty()) GTEST_SKIP() << why;
  std::unique_ptr<PrestartedLauncher> launcher = StartWithPrivateNetns();
  ASSERT_NE(launcher, nullptr);
  std::string script =
      "readlink /proc/self/ns/net; tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; "
      "bash -c 'exec 3<>/dev/tcp/127.0.0.1/1'";
  std::string first;
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<RunResult> result = RunWorker(Shell(launcher.get(), {}, script));
    ASSERT_TRUE(result.ok()) << result.status();
    std::vector<std::string> lines = absl::StrSplit(result->stdout_data.Contents(), '\n');
    ASSERT_EQ(lines.size(), 3u) << result->stdout_data.Contents();
    EXPECT_NE(lines[0], OurNetns());
    EXPECT_EQ(lines[1], "lo");
    EXPECT_THAT(result->stderr_data.Contents(), HasSubstr("Connection refused"));
    if (i == 0) first = lines[0];
    EXPECT_EQ(lines[0], first);
  }
  std::unique_ptr<PrestartedLauncher> plain = StartJoined();
  ASSERT_NE(plain, nullptr);
  absl::StatusOr<RunResult> ours = RunWorker(Shell(plain.get(), {}, "readlink /proc/self/ns/net"));
  ASSERT_TRUE(ours.ok()) << ours.status();
  EXPECT_EQ(ours->stdout_data.Contents(), OurNetns() + "\n");
}

// The pool reuses a launcher's namespace only while NetnsIsClean: a socket left there
// (by a process that left its command's session, or a connection in TIME_WAIT) keeps it from
// the next command.
TEST_F(PrestartedLauncherTest, ASocketLeftInItsNetworkNamespaceIsSeen) {
  if (std::string why = WhyNoPrivateNetns(); !why.empty()) GTEST_SKIP() << why;
  std::unique_ptr<PrestartedLauncher> launcher = StartWithPrivateNetns();
  ASSERT_NE(launcher, nullptr);
  EXPECT_TRUE(launcher->NetnsIsClean());

  absl::StatusOr<RunResult> left = RunWorker(Shell(
      launcher.get(), {},
      "setsid python3 -c 'import socket, time; s = socket.socket(socket.AF_UNIX); "
      "s.bind(\"\\0sandboxd-test\"); time.sleep(60)' </dev/null >/dev/null 2>&1 & echo $!; "
      "until grep -q sandboxd-test /proc/net/unix; do sleep 0.05; done"));
  ASSERT_TRUE(left.ok()) << left.status();
  pid_t holder = std::stoi(left->stdout_data.Contents());
  EXPECT_TRUE(Within(absl::Seconds(10), [&] { return !launcher->NetnsIsClean(); }));
  kill(holder, SIGKILL);
  EXPECT_TRUE(Within(absl::Seconds(10), [&] { return launcher->NetnsIsClean(); }));

  absl::StatusOr<RunResult> tcp = RunWorker(Through(launcher.get(), {}, LeaveTimeWaitCommand()));
  ASSERT_TRUE(tcp.ok()) << tcp.status();
  ASSERT_EQ(tcp->exit_code, 0) << tcp->stderr_data.Contents();
  EXPECT_FALSE(launcher->NetnsIsClean());  // The client's end waits in TIME_WAIT.
}

}  // namespace
}  // namespace sandboxd

// Limits that need a cgroup: a server run outside Bazel's sandbox (which keeps
// cgroupfs read-only), as root, gives each command a cgroup of its own.

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <sstream>
#include <set>
#include <string>

#include <gmock/gmock.h>
#include <grpcpp/client_context.h>
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/read_file.h"
#include <gtest/gtest.h>

#include "sandbox/v1/sandbox.grpc.pb.h"
#include "tests/sandboxd_process.h"
#include "tests/test_util.h"

namespace sandboxd::testing {
namespace {

using ::testing::HasSubstr;
namespace v1 = ::sandbox::v1;

double Seconds(const google::protobuf::Duration& d) { return d.seconds() + d.nanos() / 1e9; }

class CgroupLimitsTest : public SharedServerTest {
 protected:
  static void SetUpTestSuite() {
    if (geteuid() == 0) StartServer();
  }
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "making cgroups needs root; the test runs as uid " << geteuid();
    ASSERT_NE(server_, nullptr);
    stub_ = v1::SandboxService::NewStub(server_->channel());
  }

  v1::ExecResponse Exec(const std::string& script, const v1::ResourceLimits& limits) {
    v1::ExecRequest request = Command({"sh", "-c", script});
    *request.mutable_policy()->mutable_limits() = limits;
    request.mutable_timeout()->set_seconds(30);
    return ExecChecked(*stub_, request);
  }

  std::unique_ptr<v1::SandboxService::Stub> stub_;
};

TEST_F(CgroupLimitsTest, TheServerHasCgroups) {
  grpc::ClientContext context;
  v1::GetCapabilitiesResponse caps;
  ASSERT_TRUE(stub_->GetCapabilities(&context, v1::GetCapabilitiesRequest(), &caps).ok());
  EXPECT_THAT(caps.cgroups(), ::testing::StartsWith("cgroup v"));
  // Root may make network namespaces, so the pre-started launchers have them.
  EXPECT_THAT(caps.network_namespaces(), ::testing::StartsWith("one per pre-started launcher"));
}

TEST_F(CgroupLimitsTest, MemoryLimitCoversTheTree) {
  v1::ResourceLimits limits;
  limits.set_memory_bytes(64 << 20);
  v1::ExecResponse response =
      Exec("head -c 300000000 /dev/zero | tail -c 200000000 > /dev/null", limits);
  EXPECT_EQ(response.termination(), v1::MEMORY_LIMIT) << response.stderr();
  EXPECT_EQ(response.signal(), SIGKILL);
  EXPECT_EQ(response.exit_code(), 128 + SIGKILL);
  EXPECT_THAT(response.message(), HasSubstr("OOM killer ended a process at limits.memory_bytes"));
  bool reported = false;
  for (const v1::EnforcedLimit& limit : response.enforced_limits()) {
    if (limit.name() == "memory") reported = limit.mechanism() == "cgroup memory limit";
  }
  EXPECT_TRUE(reported);
}

// A limit below what a waiting launcher already uses cannot be set on its cgroup; the
// request still runs, and meets the limit.
TEST_F(CgroupLimitsTest, TinyMemoryLimitIsMetNotRefused) {
  v1::ResourceLimits limits;
  limits.set_memory_bytes(64 << 10);
  v1::ExecResponse response = Exec("echo hello", limits);
  EXPECT_EQ(response.termination(), v1::MEMORY_LIMIT) << response.stderr();
}

// 64 background processes: refused at the 16th under a limit of 16 (the shell cannot
// fork any more), fine under 200; nothing survives either run.
TEST_F(CgroupLimitsTest, ProcessLimitContainsAForkStorm) {
  const std::string script = "for i in $(seq 64); do sleep 7.25 & done; echo all started";
  v1::ResourceLimits tight;
  tight.set_processes(16);
  v1::ExecResponse refused = Exec(script, tight);
  EXPECT_EQ(refused.termination(), v1::PROCESS_LIMIT);
  EXPECT_THAT(refused.message(), HasSubstr("a fork was refused at limits.processes (16)"));
  EXPECT_NE(refused.exit_code(), 0);
  EXPECT_THAT(refused.stderr(), HasSubstr("fork"));
  EXPECT_EQ(refused.stdout(), "");
  v1::ResourceLimits roomy;
  roomy.set_processes(200);
  v1::ExecResponse fine = Exec(script, roomy);
  EXPECT_EQ(fine.termination(), v1::EXITED);
  EXPECT_EQ(fine.exit_code(), 0) << fine.stderr();
  EXPECT_EQ(fine.stdout(), "all started\n");
}

// So few processes that bwrap cannot start the sandbox's init: the limit, not bwrap,
// is what the result names.
TEST_F(CgroupLimitsTest, ALimitTooSmallForTheSandboxNamesTheLimit) {
  v1::ResourceLimits one;
  one.set_processes(1);
  v1::ExecResponse response = Exec("true", one);
  EXPECT_EQ(response.termination(), v1::PROCESS_LIMIT) << response.stderr();
  EXPECT_THAT(response.message(), HasSubstr("limits.processes (1)"));
}

TEST_F(CgroupLimitsTest, UsageCoversTheCommandNotJustBwrap) {
  v1::ExecResponse response =
      Exec("i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done", v1::ResourceLimits());
  EXPECT_GT(Seconds(response.usage().user_cpu()) + Seconds(response.usage().system_cpu()), 0.2);
  EXPECT_GT(response.usage().max_rss_bytes(), 0u);
}

TEST_F(CgroupLimitsTest, ProcessesDefaultToTheCeiling) {
  v1::ExecResponse response = Exec("true", v1::ResourceLimits());
  bool reported = false;
  for (const v1::EnforcedLimit& limit : response.enforced_limits()) {
    if (limit.name() == "processes") reported = limit.value() == 1024;
  }
  EXPECT_TRUE(reported);
}

// The memory cgroup of `pid` ("/a/b"), from /proc/PID/cgroup.
std::string MemoryCgroup(pid_t pid) {
  std::istringstream in(ReadFileOrEmpty(absl::StrCat("/proc/", pid, "/cgroup")));
  std::string line;
  while (std::getline(in, line)) {
    size_t at = line.find(":memory:");
    if (at != std::string::npos) return line.substr(at + 8);
  }
  return "";
}

std::string Netns(pid_t pid) {
  std::error_code error;
  return std::filesystem::read_symlink(absl::StrCat("/proc/", pid, "/ns/net"), error);
}

// The memory cgroups of the sandboxd-launch processes that `server` started and that
// wait for a command: those with a network namespace of their own, for commands
// without network (`own_netns`), or the others, in the server's.
std::set<std::string> WaitingLaunchers(pid_t server, bool own_netns) {
  std::set<std::string> cgroups;
  for (pid_t launcher : LaunchersOf(server)) {
    if ((Netns(launcher) != Netns(server)) == own_netns) cgroups.insert(MemoryCgroup(launcher));
  }
  return cgroups;
}

// The command cgroups (sandboxd-PID-N) that `server` has under its memory cgroup.
std::set<std::string> CommandCgroups(pid_t server) {
  std::set<std::string> cgroups;
  std::string parent = MemoryCgroup(server);
  std::string prefix = absl::StrCat("sandboxd-", server, "-");
  for (const auto& entry : std::filesystem::directory_iterator("/sys/fs/cgroup/memory" + parent)) {
    std::string name = entry.path().filename();
    if (absl::StartsWith(name, prefix)) cgroups.insert((parent == "/" ? "" : parent) + "/" + name);
  }
  return cgroups;
}

// After a mix of requests without network, one at a time, the server keeps --prestart
// launchers waiting in each of its two pools (one more in the pool for commands
// without network if a request came before they were all ready), each in a command
// cgroup of its own, and no other cgroup; it removes those when it stops.
TEST_F(CgroupLimitsTest, PrestartedLaunchersWaitInCgroupsOfTheirOwn) {
  if (access("/sys/fs/cgroup/memory/cgroup.procs", F_OK) != 0) {
    GTEST_SKIP() << "this test reads cgroup v1 paths; the host has no v1 memory hierarchy";
  }
  SandboxdProcess::Options options;
  options.flags = {"--prestart=3"};
  auto server = SandboxdProcess::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = v1::SandboxService::NewStub((*server)->channel());
  for (int i = 0; i < 12; ++i) {
    v1::ExecRequest request = Command({"sh", "-c", "echo hi; sleep 0.05 &"});
    if (i % 3 == 1) request.mutable_policy()->mutable_limits()->set_memory_bytes(64 << 20);
    if (i % 3 == 2) request.set_argv(0, "/no/such/program");
    v1::ExecResponse response = ExecChecked(*stub, request);
    if (i % 3 != 2) {
      EXPECT_EQ(response.exit_code(), 0) << response.stderr();
    }
  }
  pid_t pid = (*server)->pid();
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  std::set<std::string> with_netns, without, cgroups;
  auto all = [&] {
    std::set<std::string> both = with_netns;
    both.insert(without.begin(), without.end());
    return both;
  };
  do {
    absl::SleepFor(absl::Milliseconds(50));
    with_netns = WaitingLaunchers(pid, /*own_netns=*/true);
    without = WaitingLaunchers(pid, /*own_netns=*/false);
    cgroups = CommandCgroups(pid);
  } while ((with_netns.size() < 3 || without.size() < 3 || all() != cgroups) &&
           absl::Now() < deadline);
  EXPECT_GE(with_netns.size(), 3u);
  EXPECT_LE(with_netns.size(), 4u);
  EXPECT_EQ(without.size(), 3u);
  EXPECT_EQ(all(), cgroups);

  ASSERT_TRUE((*server)->Stop(SIGTERM, absl::Seconds(20)).ok());
  EXPECT_EQ(CommandCgroups(pid), std::set<std::string>());
}

// A SIGKILLed server cannot remove its cgroups; the next server does, once its
// launchers have followed it.
TEST_F(CgroupLimitsTest, TheNextServerRemovesTheCgroupsOfAKilledOne) {
  if (access("/sys/fs/cgroup/memory/cgroup.procs", F_OK) != 0) {
    GTEST_SKIP() << "this test reads cgroup v1 paths; the host has no v1 memory hierarchy";
  }
  SandboxdProcess::Options options;
  options.flags = {"--prestart=2"};
  auto killed = SandboxdProcess::Start(options);
  ASSERT_TRUE(killed.ok()) << killed.status();
  pid_t pid = (*killed)->pid();
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  // Two in each pool.
  while (CommandCgroups(pid).size() < 4 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  std::set<std::string> left = CommandCgroups(pid);
  ASSERT_EQ(left.size(), 4u);
  ASSERT_TRUE((*killed)->Stop(SIGKILL, absl::Seconds(10)).ok());
  // (CommandCgroups needs the server alive; from here on the directories are checked.)
  auto count = [&left](const std::function<bool(const std::string&)>& holds) {
    int found = 0;
    for (const std::string& cgroup : left) found += holds("/sys/fs/cgroup/memory" + cgroup);
    return found;
  };
  auto exists = [](const std::string& dir) { return access(dir.c_str(), F_OK) == 0; };
  auto busy = [](const std::string& dir) { return !ReadFileOrEmpty(dir + "/cgroup.procs").empty(); };
  while (count(busy) > 0 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(20));
  EXPECT_EQ(count(exists), 4);  // Still there, and empty.
  EXPECT_EQ(count(busy), 0);

  auto next = SandboxdProcess::Start(options);
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(count(exists), 0);
}

// Reused cgroups report each command's own figures: a small command after a big one
// in the same cgroup shows neither its CPU time nor its memory.
TEST_F(CgroupLimitsTest, UsageIsPerCommandInAReusedCgroup) {
  SandboxdProcess::Options options;
  options.flags = {"--prestart=1"};
  auto server = SandboxdProcess::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = v1::SandboxService::NewStub((*server)->channel());
  std::set<std::string> before;
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (before.size() != 1 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
    before = WaitingLaunchers((*server)->pid(), /*own_netns=*/true);
  }
  ASSERT_EQ(before.size(), 1u);
  // tail holds 200 MB (190 MiB) at once.
  v1::ResourceUsage big =
      ExecChecked(*stub, Command({"sh", "-c",
                                  "head -c 250000000 /dev/zero | tail -c 200000000 > /dev/null; "
                                  "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done"}))
          .usage();
  EXPECT_GT(big.max_rss_bytes(), 150u << 20);
  EXPECT_GT(Seconds(big.user_cpu()) + Seconds(big.system_cpu()), 0.2);
  // Time for the pool to take the cgroup back (else the next request makes another).
  absl::SleepFor(absl::Milliseconds(500));
  v1::ResourceUsage small = ExecChecked(*stub, Command({"sh", "-c", "true"})).usage();
  EXPECT_LT(small.max_rss_bytes(), 32u << 20);
  EXPECT_LT(Seconds(small.user_cpu()) + Seconds(small.system_cpu()), 0.1);
  // The same launcher and cgroup.
  EXPECT_EQ(WaitingLaunchers((*server)->pid(), /*own_netns=*/true), before);
}

// Files a command wrote stay charged to its cgroup as page cache; a cgroup holding much
// of it is not reused, so the next command's peak memory starts from nothing.
TEST_F(CgroupLimitsTest, ACgroupFullOfPageCacheIsNotReused) {
  SandboxdProcess::Options options;
  options.flags = {"--prestart=1"};
  auto server = SandboxdProcess::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = v1::SandboxService::NewStub((*server)->channel());
  absl::StatusOr<std::string> workspace = (*server)->MakeWorkspace();
  ASSERT_TRUE(workspace.ok()) << workspace.status();
  auto run = [&](const std::string& script) {
    v1::ExecRequest request = Command({"sh", "-c", script});
    request.set_cwd(*workspace);
    request.mutable_policy()->set_mode(v1::WORKSPACE_WRITE);
    v1::ExecResponse response = ExecChecked(*stub, request);
    EXPECT_EQ(response.exit_code(), 0) << response.stderr();
    absl::SleepFor(absl::Milliseconds(500));  // Time for the pool to take it back.
    return WaitingLaunchers((*server)->pid(), /*own_netns=*/true);
  };
  std::set<std::string> first = run("true");
  std::set<std::string> after_small = run("head -c 1000 /dev/zero > small");
  EXPECT_EQ(after_small, first);
  std::set<std::string> after_big = run("head -c 64000000 /dev/zero > big");
  EXPECT_EQ(after_big.size(), 1u);
  EXPECT_NE(after_big, first);
}

}  // namespace
}  // namespace sandboxd::testing

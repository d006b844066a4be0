#include "sandbox/plan/plan.h"

#include "sandbox/launcher/launch_order.h"
#include "absl/strings/str_join.h"

#include <unistd.h>

#include <cstdlib>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sandboxd {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;
using ::testing::Not;
using ::testing::Contains;
namespace v1 = ::sandbox::v1;

class PlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<SeccompFilters> filters = SeccompFilters::Compile();
    ASSERT_TRUE(filters.ok()) << filters.status();
    filters_ = *std::move(filters);
    tools_.bwrap_path = "/usr/bin/bwrap";
    tools_.launcher_path = "/usr/libexec/sandboxd-launch";
    tools_.filters = &filters_;
    config_.allow_danger_full_access = true;
  }

  ExecSpec Spec(std::initializer_list<std::string> argv,
                v1::SandboxMode mode = v1::READ_ONLY) {
    v1::ExecRequest request;
    for (const std::string& arg : argv) request.add_argv(arg);
    request.mutable_policy()->set_mode(mode);
    absl::StatusOr<ExecSpec> spec = ExecSpec::Create(request, config_);
    EXPECT_TRUE(spec.ok()) << spec.status();
    return *std::move(spec);
  }

  Plan PlanOf(const ExecSpec& spec) {
    absl::StatusOr<Plan> plan = MakePlan(spec, facts_);
    EXPECT_TRUE(plan.ok()) << plan.status();
    return plan.ok() ? *std::move(plan) : Plan();
  }

  std::vector<std::string> Argv(const Plan& plan) {
    absl::StatusOr<LaunchCommand> launch = RenderLaunch(plan, tools_);
    EXPECT_TRUE(launch.ok()) << launch.status();
    return launch.ok() ? launch->argv : std::vector<std::string>();
  }

  Config config_;
  HostFacts facts_;
  Toolbox tools_;
  SeccompFilters filters_;
};

TEST_F(PlanTest, NothingForALauncherToDoStartsBwrapDirectly) {
  Plan plan = PlanOf(Spec({"true"}));
  EXPECT_FALSE(plan.launcher);
  EXPECT_EQ(plan.netns, NetnsSource::kBwrap);
  EXPECT_EQ(plan.cgroup, CgroupSource::kNone);
  std::vector<std::string> argv = Argv(plan);
  ASSERT_FALSE(argv.empty());
  EXPECT_EQ(argv.front(), "/usr/bin/bwrap");
  EXPECT_THAT(argv, Contains("--unshare-net"));
  EXPECT_EQ(argv.back(), "true");
}

TEST_F(PlanTest, ALaunchersNetworkNamespaceReplacesBwraps) {
  facts_.launcher_netns = true;
  Plan plan = PlanOf(Spec({"true"}));
  EXPECT_TRUE(plan.launcher);
  EXPECT_EQ(plan.netns, NetnsSource::kLauncher);
  std::vector<std::string> argv = Argv(plan);
  ASSERT_GE(argv.size(), 3u);
  EXPECT_THAT(std::vector<std::string>(argv.begin(), argv.begin() + 3),
              ElementsAre("/usr/libexec/sandboxd-launch", "--", "/usr/bin/bwrap"));
  EXPECT_THAT(argv, Not(Contains("--unshare-net")));
  // The control: the same request where no launcher has one.
  plan.netns = NetnsSource::kBwrap;
  EXPECT_THAT(Argv(plan), Contains("--unshare-net"));
}

TEST_F(PlanTest, AFreshCgroupIsJoinedByTheLauncher) {
  facts_.cgroups = true;
  Plan plan = PlanOf(Spec({"true"}));
  EXPECT_EQ(plan.cgroup, CgroupSource::kFresh);
  EXPECT_TRUE(plan.launcher);
  plan.joins = {"/sys/fs/cgroup/x/cgroup.procs"};
  std::vector<std::string> argv = Argv(plan);
  ASSERT_GE(argv.size(), 3u);
  EXPECT_THAT(std::vector<std::string>(argv.begin(), argv.begin() + 3),
              ElementsAre("/usr/libexec/sandboxd-launch", "--join",
                          "/sys/fs/cgroup/x/cgroup.procs"));
  facts_.pooled_cgroups = true;
  EXPECT_EQ(PlanOf(Spec({"true"})).cgroup, CgroupSource::kPooled);
}

TEST_F(PlanTest, TheCommandsUserAndRlimitsGoToTheLauncher) {
  facts_.command_user = HostUser{"sandboxd-cmd", 999, 995};
  config_.max_limits.open_files = 64;
  Plan plan = PlanOf(Spec({"true"}));
  EXPECT_TRUE(plan.launcher);
  EXPECT_THAT(Argv(plan), IsSupersetOf({"--user", "999:995", "--nofile", "64"}));
}

TEST_F(PlanTest, AProcessLimitNeedsACgroup) {
  config_.max_limits.processes = 16;
  ExecSpec spec = Spec({"true"});
  absl::StatusOr<Plan> plan = MakePlan(spec, facts_);
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(plan.status().message(), HasSubstr("limits.processes needs a cgroup"));
  facts_.cgroups = true;
  EXPECT_TRUE(MakePlan(spec, facts_).ok());
}

TEST_F(PlanTest, WithoutASandboxTheProgramIsFoundInTheRequestsPath) {
  std::vector<std::string> asked;
  facts_.is_executable = [&asked](const std::string& path) {
    asked.push_back(path);
    return path == "/usr/bin/make";
  };
  Plan plan = PlanOf(Spec({"make", "all"}, v1::DANGER_FULL_ACCESS));
  EXPECT_EQ(plan.backend, Backend::BACKEND_NONE);
  EXPECT_THAT(asked, Contains("/usr/local/bin/make"));
  absl::StatusOr<LaunchCommand> launch = RenderLaunch(plan, tools_);
  ASSERT_TRUE(launch.ok()) << launch.status();
  EXPECT_THAT(launch->argv, ElementsAre("/usr/bin/make", "all"));
  EXPECT_TRUE(launch->seccomp_bpf.empty());
  absl::StatusOr<Plan> missing = MakePlan(Spec({"nmake"}, v1::DANGER_FULL_ACCESS), facts_);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.status().message(), HasSubstr("\"nmake\" was not found in PATH"));
}

// What the landlock backend cannot enforce is refused when the plan is made, before
// the request takes a turn.
TEST_F(PlanTest, LandlockRefusesWhatItCannotEnforce) {
  LandlockBase base{{"/"}, {}, {}};
  facts_.backend = Backend::BACKEND_LANDLOCK;
  facts_.landlock_base = &base;
  char dir[] = "/tmp/plan_test.XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  v1::ExecRequest request;
  request.add_argv("true");
  request.set_cwd(dir);
  request.mutable_policy()->set_mode(v1::WORKSPACE_WRITE);
  absl::StatusOr<ExecSpec> spec = ExecSpec::Create(request, config_);
  ASSERT_TRUE(spec.ok()) << spec.status();
  absl::StatusOr<Plan> plan = MakePlan(*spec, facts_);
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(plan.status().message(), HasSubstr("--danger_landlock_unprotected_paths"));
  // The control: with the operator's consent the same request is planned.
  facts_.danger_landlock_unprotected_paths = true;
  EXPECT_TRUE(MakePlan(*spec, facts_).ok());
  rmdir(dir);
}

TEST_F(PlanTest, RenderingIsPure) {
  facts_.launcher_netns = true;
  facts_.command_user = HostUser{"sandboxd-cmd", 999, 995};
  Plan plan = PlanOf(Spec({"ls", "-l"}));
  EXPECT_EQ(Argv(plan), Argv(plan));
  absl::StatusOr<LaunchCommand> launch = RenderLaunch(plan, tools_);
  ASSERT_TRUE(launch.ok());
  EXPECT_EQ(launch->seccomp_bpf, filters_.Get(SeccompMode::SECCOMP_RESTRICTED));
  EXPECT_TRUE(launch->bwrap_pid_namespace);
}

// What a spawned sandboxd-launch is told, as its command line (the rlimits' strings
// the launcher parses back into the same order).
std::vector<std::string> CommandLineOf(const std::vector<launch::v1::Rlimit>& rlimits) {
  LaunchOrder order;
  for (const launch::v1::Rlimit& limit : rlimits) *order.add_rlimits() = limit;
  return LauncherArgs(order);
}

TEST(RlimitsTest, OnlyWhatIsSet) {
  EXPECT_TRUE(RlimitsFor(Limits(), false).empty());
  Limits limits;
  limits.cpu_time = absl::Milliseconds(1500);
  limits.memory_bytes = 1 << 20;
  limits.file_size_bytes = 4096;
  limits.open_files = 64;
  limits.processes = 10;  // A cgroup's business, not an rlimit.
  EXPECT_EQ(CommandLineOf(RlimitsFor(limits, false)),
            (std::vector<std::string>{"--cpu", "2:3", "--as", "1048576", "--fsize", "4096",
                                      "--nofile", "64", "--"}));
  EXPECT_EQ(CommandLineOf(RlimitsFor(limits, true)),
            (std::vector<std::string>{"--cpu", "2:3", "--fsize", "4096", "--nofile", "64", "--"}));
}

TEST(LauncherArgsTest, EveryFieldAsAnOption) {
  LaunchOrder order;
  order.add_joins("/sys/fs/cgroup/a/cgroup.procs");
  order.mutable_user()->set_uid(999);
  order.mutable_user()->set_gid(995);
  order.set_exposed_fds(2);
  order.set_expose_dir("/var/lib/sandboxd/binds");
  order.add_argv("/usr/bin/bwrap");
  order.add_argv("--");
  order.set_cwd("/work");  // Left to the spawn.
  EXPECT_THAT(LauncherArgs(order),
              ElementsAre("--join", "/sys/fs/cgroup/a/cgroup.procs", "--user", "999:995", "--fds",
                          "2", "--expose", "/var/lib/sandboxd/binds", "--", "/usr/bin/bwrap",
                          "--"));
}

TEST_F(PlanTest, TheLaunchersOrderIsWhatItsCommandLineSays) {
  facts_.command_user = HostUser{"sandboxd-cmd", 999, 995};
  Plan plan = PlanOf(Spec({"ls"}));
  absl::StatusOr<LaunchCommand> launch = RenderLaunch(plan, tools_);
  ASSERT_TRUE(launch.ok()) << launch.status();
  ASSERT_TRUE(launch->order.has_value());
  std::vector<std::string> args = LauncherArgs(*launch->order);
  EXPECT_EQ(std::vector<std::string>(launch->argv.begin() + 1, launch->argv.end()), args);
  EXPECT_EQ(launch->order->argv(0), "/usr/bin/bwrap");
  plan.launcher = false;
  launch = RenderLaunch(plan, tools_);
  ASSERT_TRUE(launch.ok()) << launch.status();
  EXPECT_FALSE(launch->order.has_value());
}

// A proxy-routed command: its launcher makes its network namespace and sends the proxy
// its listener over the descriptor after the binds.
TEST_F(PlanTest, AProxyRoutedCommandGetsALaunchersNamespaceAndTheProxysChannel) {
  config_.proxy_refused.clear();
  facts_.cgroups = facts_.pooled_cgroups = facts_.launcher_netns = true;
  v1::ExecRequest request;
  request.add_argv("curl");
  request.mutable_policy()->set_network(v1::NETWORK_PROXY_ROUTED);
  request.mutable_policy()->add_allow_domains("pypi.org");
  absl::StatusOr<ExecSpec> spec = ExecSpec::Create(request, config_);
  ASSERT_TRUE(spec.ok()) << spec.status();
  Plan plan = PlanOf(*spec);
  EXPECT_EQ(plan.netns, NetnsSource::kProxy);
  EXPECT_EQ(plan.cgroup, CgroupSource::kPooled);
  EXPECT_TRUE(plan.launcher);
  EXPECT_EQ(plan.seccomp_mode, SeccompMode::SECCOMP_PROXY_ROUTED);
  EXPECT_THAT(plan.env, Contains("HTTPS_PROXY=http://127.0.0.1:3128"));
  EXPECT_THAT(plan.env, Contains("no_proxy=localhost,127.0.0.1,::1"));
  absl::StatusOr<LaunchCommand> launch = RenderLaunch(plan, tools_);
  ASSERT_TRUE(launch.ok()) << launch.status();
  EXPECT_THAT(launch->argv, IsSupersetOf({"--proxy", "4"}));
  EXPECT_THAT(launch->argv, Not(Contains("--unshare-net")));
  ASSERT_EQ(launch->passed_fd_paths.size(), 1u);
  EXPECT_THAT(launch->passed_fd_paths[0], HasSubstr("proxy"));
}

}  // namespace
// A terminal's helper goes in front of the command, inside the sandbox; a file call's
// helper is all that runs. Without a bwrap sandbox there is nowhere to put it.
TEST_F(PlanTest, TheHelperRunsInsideABwrapSandboxOnly) {
  OpenPath helper{"/state/sandboxd-helper", Share(UniqueFd()), 1, 2};
  tools_.helper = &helper;
  Plan terminal = PlanOf(Spec({"bash", "-i"}));
  ASSERT_TRUE(UseHelper(terminal, {"pty", "24", "80", "--"}, true).ok());
  EXPECT_TRUE(terminal.launcher);
  std::vector<std::string> argv = Argv(terminal);
  std::vector<std::string> tail(argv.end() - std::min<size_t>(argv.size(), 8), argv.end());
  EXPECT_THAT(tail, ElementsAre("--", "/dev/.sandboxd-helper", "pty", "24", "80", "--", "bash",
                                "-i"))
      << absl::StrJoin(argv, " ");
  Plan file = PlanOf(Spec({"/dev/.sandboxd-helper"}));
  ASSERT_TRUE(UseHelper(file, {"stat", "/etc"}, false).ok());
  argv = Argv(file);
  EXPECT_EQ(argv.back(), "/etc");
  EXPECT_EQ(argv[argv.size() - 3], "/dev/.sandboxd-helper");
  Plan unsandboxed = PlanOf(Spec({"/bin/true"}, v1::DANGER_FULL_ACCESS));
  absl::Status refused = UseHelper(unsandboxed, {"stat", "/"}, false);
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.message(), HasSubstr("DANGER_FULL_ACCESS"));
}

}  // namespace sandboxd

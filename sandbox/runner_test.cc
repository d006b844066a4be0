// The runner's orchestration with a fake bwrap, which prints the argv it was started
// with instead of making a sandbox (nothing here claims to test one), and with the
// real sandboxd-launch or a fake one that cannot serve as a pre-started launcher: what
// each run starts is what Explain shows for it, whichever way the runner takes.

#include "sandbox/runner.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_split.h"
#include "sandbox/test_support.h"

namespace sandboxd {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
namespace v1 = ::sandbox::v1;

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/runner_test.XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    fake_bwrap_ = Script("fake-bwrap", "printf '%s\\n' \"$0\" \"$@\"\n");
    // Takes sandboxd-launch's first form and runs what follows "--"; has no orders.
    fake_launcher_ = Script("fake-launch",
                            "while [ $# -gt 0 ] && [ \"$1\" != -- ]; do shift; done\n"
                            "[ $# -gt 0 ] || { echo 'fake-launch: no orders' >&2; exit 126; }\n"
                            "shift; exec \"$@\"\n");
    config_.bwrap_path = fake_bwrap_;
    config_.launcher_path = LauncherPath();
    config_.use_cgroups = false;
    config_.prestarted_launchers = 0;
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  std::string Script(const std::string& name, const std::string& body) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << "#!/bin/sh\n" << body;
    chmod(path.c_str(), 0755);
    return path;
  }

  std::unique_ptr<Runner> MakeRunner() {
    absl::StatusOr<Runner> runner = Runner::Create(config_);
    EXPECT_TRUE(runner.ok()) << runner.status();
    return runner.ok() ? std::make_unique<Runner>(*std::move(runner)) : nullptr;
  }

  // Prepares a read-only `true`, and checks that running it starts what Explain shows
  // (from the fake bwrap on, which is what the fake prints); returns the plan.
  Plan ExpectRunIsExplained(const Runner& runner) {
    v1::ExecRequest request;
    request.add_argv("true");
    absl::StatusOr<ExecSpec> spec = ExecSpec::Create(request, runner.config());
    EXPECT_TRUE(spec.ok()) << spec.status();
    absl::StatusOr<Plan> plan = runner.Prepare(*spec);
    EXPECT_TRUE(plan.ok()) << plan.status();
    if (!plan.ok()) return Plan();
    absl::StatusOr<LaunchCommand> explained = runner.Explain(*plan);
    EXPECT_TRUE(explained.ok()) << explained.status();
    RunIo io;
    io.timeout = absl::Seconds(20);
    io.output_limit = 1 << 20;
    absl::StatusOr<RunResult> result = runner.Run(*plan, io);
    EXPECT_TRUE(result.ok()) << result.status();
    if (!explained.ok() || !result.ok()) return *plan;
    EXPECT_EQ(result->exit_code, 0) << result->stderr_data.Contents();
    std::string printed = result->stdout_data.Contents();
    if (!printed.empty()) printed.pop_back();
    std::vector<std::string> ran = absl::StrSplit(printed, '\n');
    const std::vector<std::string>& argv = explained->argv;
    auto bwrap = std::find(argv.begin(), argv.end(), fake_bwrap_);
    EXPECT_EQ(std::vector<std::string>(bwrap, argv.end()), ran);
    shown_ = argv;
    return *plan;
  }

  std::string dir_;
  std::string fake_bwrap_;
  std::string fake_launcher_;
  Config config_;
  // The last explained argv.
  std::vector<std::string> shown_;
};

TEST_F(RunnerTest, WithNothingForALauncherBwrapStartsDirectly) {
  std::unique_ptr<Runner> runner = MakeRunner();
  ASSERT_NE(runner, nullptr);
  Plan plan = ExpectRunIsExplained(*runner);
  EXPECT_FALSE(plan.launcher);
  EXPECT_EQ(plan.netns, NetnsSource::kBwrap);
  ASSERT_FALSE(shown_.empty());
  EXPECT_EQ(shown_.front(), fake_bwrap_);
  EXPECT_THAT(shown_, Contains("--unshare-net"));
}

TEST_F(RunnerTest, APreStartedLaunchersNetworkNamespaceIsUsedAsPlanned) {
  if (std::string why = WhyNoPrivateNetns(); !why.empty()) GTEST_SKIP() << why;
  config_.prestarted_launchers = 1;
  std::unique_ptr<Runner> runner = MakeRunner();
  ASSERT_NE(runner, nullptr);
  Plan plan = ExpectRunIsExplained(*runner);
  EXPECT_EQ(plan.netns, NetnsSource::kLauncher);
  EXPECT_TRUE(plan.launcher);
  ASSERT_FALSE(shown_.empty());
  EXPECT_EQ(shown_.front(), LauncherPath());
  EXPECT_THAT(shown_, Not(Contains("--unshare-net")));
  // And again, from the launcher the first run gave back.
  ExpectRunIsExplained(*runner);
}

TEST_F(RunnerTest, ALauncherThatCannotStartAheadLeavesTheNamespaceToBwrap) {
  config_.launcher_path = fake_launcher_;
  config_.prestarted_launchers = 1;
  std::unique_ptr<Runner> runner = MakeRunner();
  ASSERT_NE(runner, nullptr);
  EXPECT_THAT(runner->netns_note(), HasSubstr("bwrap makes one per command ("));
  Plan plan = ExpectRunIsExplained(*runner);
  EXPECT_EQ(plan.netns, NetnsSource::kBwrap);
  EXPECT_THAT(shown_, Contains("--unshare-net"));
}

TEST_F(RunnerTest, TheCommandsUserPutsTheLauncherInFront) {
  config_.launcher_path = fake_launcher_;
  config_.command_user = HostUser{"nobody", 65534, 65534};
  std::unique_ptr<Runner> runner = MakeRunner();
  ASSERT_NE(runner, nullptr);
  Plan plan = ExpectRunIsExplained(*runner);
  EXPECT_TRUE(plan.launcher);
  ASSERT_GE(shown_.size(), 4u);
  EXPECT_EQ(std::vector<std::string>(shown_.begin(), shown_.begin() + 4),
            (std::vector<std::string>{fake_launcher_, "--user", "65534:65534", "--"}));
}

}  // namespace
}  // namespace sandboxd

// sandboxctl against a real server: output, exit codes, stdin, and errors.

#include <signal.h>

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "sandbox/worker.h"
#include "tests/sandboxd_process.h"

namespace sandboxd::testing {
namespace {

using ::testing::HasSubstr;

class SandboxctlTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    signal(SIGPIPE, SIG_IGN);
    auto server = SandboxdProcess::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = server->release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  // Runs sandboxctl with `args`, talking to `address`, feeding it `stdin_data`.
  static RunResult Sandboxctl(const std::vector<std::string>& args,
                              const std::string& address, const std::string& stdin_data = "") {
    Launch launch;
    launch.argv = {Runfile("client/sandboxctl")};
    launch.argv.insert(launch.argv.end(), args.begin(), args.end());
    launch.env = {"SANDBOXD_ADDRESS=" + address};
    launch.stdin_data = stdin_data;
    launch.timeout = absl::Seconds(60);
    launch.output_limit = 1 << 20;
    absl::StatusOr<RunResult> result = RunWorker(launch);
    EXPECT_TRUE(result.ok()) << result.status();
    return *std::move(result);
  }

  static SandboxdProcess* server_;
};

SandboxdProcess* SandboxctlTest::server_ = nullptr;

TEST_F(SandboxctlTest, PassesOutputAndExitCodeThrough) {
  RunResult result = Sandboxctl({"exec", "--", "sh", "-c", "echo out; echo err >&2; exit 3"},
                                server_->address());
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_EQ(result.stdout_data.Contents(), "out\n");
  EXPECT_EQ(result.stderr_data.Contents(), "err\n");
}

TEST_F(SandboxctlTest, KilledCommandExitsWith128PlusSignal) {
  RunResult result = Sandboxctl({"exec", "--", "sh", "-c", "kill -KILL $$"}, server_->address());
  EXPECT_EQ(result.exit_code, 128 + SIGKILL);
}

TEST_F(SandboxctlTest, TimeoutHasItsOwnExitCode) {
  RunResult result = Sandboxctl({"exec", "--timeout=300ms", "--", "sleep", "30"},
                                server_->address());
  EXPECT_EQ(result.exit_code, 124);
  EXPECT_THAT(result.stderr_data.Contents(), HasSubstr("timed out"));
}

TEST_F(SandboxctlTest, PipedStdinReachesTheCommand) {
  RunResult result = Sandboxctl({"exec", "--", "wc", "-c"}, server_->address(), "12345");
  EXPECT_EQ(result.stdout_data.Contents(), "5\n");
}

TEST_F(SandboxctlTest, ServerFlagOverridesTheEnvironment) {
  RunResult result = Sandboxctl(
      {absl::StrCat("--server=", server_->address()), "exec", "--", "echo", "flag"},
      "unix:/nonexistent/sandboxd.sock");
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.stdout_data.Contents(), "flag\n");
}

TEST_F(SandboxctlTest, RefusedRequestSaysWhy) {
  RunResult result = Sandboxctl({"exec", "--cwd=/no/such/dir", "--", "true"}, server_->address());
  EXPECT_EQ(result.exit_code, 125);
  EXPECT_THAT(result.stderr_data.Contents(), HasSubstr("cwd /no/such/dir cannot be used"));
}

TEST_F(SandboxctlTest, UnreachableServerIsExplained) {
  RunResult result = Sandboxctl({"exec", "--", "true"}, "unix:/nonexistent/sandboxd.sock");
  EXPECT_EQ(result.exit_code, 125);
  EXPECT_THAT(result.stderr_data.Contents(),
              HasSubstr("cannot reach sandboxd at unix:/nonexistent/sandboxd.sock"));
  EXPECT_THAT(result.stderr_data.Contents(), HasSubstr("Is the server running?"));
}

TEST_F(SandboxctlTest, ExplainAndCapabilitiesPrintWithoutRunning) {
  RunResult explain = Sandboxctl({"explain", "--", "touch", "/tmp/x"}, server_->address());
  EXPECT_EQ(explain.exit_code, 0) << explain.stderr_data.Contents();
  EXPECT_THAT(explain.stdout_data.Contents(), HasSubstr("backend: BACKEND_BWRAP"));
  EXPECT_THAT(explain.stdout_data.Contents(), HasSubstr("/usr/bin/bwrap --new-session"));
  EXPECT_THAT(explain.stdout_data.Contents(), HasSubstr("-- touch /tmp/x"));
  RunResult caps = Sandboxctl({"capabilities"}, server_->address());
  EXPECT_EQ(caps.exit_code, 0);
  EXPECT_THAT(caps.stdout_data.Contents(), HasSubstr("user namespaces: yes"));
}

TEST_F(SandboxctlTest, HelpListsTheOptions) {
  RunResult result = Sandboxctl({"exec", "--help"}, server_->address());
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_THAT(result.stdout_data.Contents(), HasSubstr("--writable=PATH"));
  RunResult usage = Sandboxctl({"--bogus"}, server_->address());
  EXPECT_EQ(usage.exit_code, 125);
  EXPECT_THAT(usage.stderr_data.Contents(), HasSubstr("unknown option --bogus"));
}

}  // namespace
}  // namespace sandboxd::testing

// sandboxctl against a real server: output, exit codes, stdin, and errors.

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "sandbox/exec/worker.h"
#include "tests/sandboxd_process.h"
#include "tests/test_util.h"

namespace sandboxd::testing {
namespace {

using ::testing::HasSubstr;

class SandboxctlTest : public SharedServerTest {
 protected:
  static void SetUpTestSuite() { StartServer(); }

  // Runs sandboxctl with `args`, talking to `address`, feeding it `stdin_data`.
  static RunResult Sandboxctl(const std::vector<std::string>& args,
                              const std::string& address, const std::string& stdin_data = "") {
    Launch launch = SandboxctlLaunch(args, address);
    launch.stdin_data = stdin_data;
    absl::StatusOr<RunResult> result = RunWorker(launch);
    EXPECT_TRUE(result.ok()) << result.status();
    return *std::move(result);
  }
};

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

TEST_F(SandboxctlTest, OutputIsLive) {
  Launch launch = SandboxctlLaunch({"exec", "--", "sh", "-c", "echo first; sleep 1; echo second"},
                                   server_->address());
  std::vector<absl::Time> arrivals;
  launch.on_output = [&](int, uint64_t, absl::string_view) { arrivals.push_back(absl::Now()); };
  absl::StatusOr<RunResult> result = RunWorker(launch);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_code, 0);
  ASSERT_EQ(arrivals.size(), 2u);
  EXPECT_GE(arrivals[1] - arrivals[0], absl::Milliseconds(700));
}

// Runs sandboxctl with `args` and sends it `signal` once its stdout reads "ready\n".
// Returns what it printed, and how it ended.
std::pair<std::string, absl::StatusOr<RunResult>> SignalWhenReady(
    const std::vector<std::string>& args, const std::string& address, int signal) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return {"", absl::InternalError("pipe2")};
  Launch launch = SandboxctlLaunch(args, address);
  launch.signal_fd = fds[0];
  std::string out;
  launch.on_output = [&](int, uint64_t, absl::string_view data) {
    out.append(data.data(), data.size());
    unsigned char byte = static_cast<unsigned char>(signal);
    if (out == "ready\n") {
      EXPECT_EQ(write(fds[1], &byte, 1), 1);
    }
  };
  absl::StatusOr<RunResult> result = RunWorker(launch);
  close(fds[0]);
  close(fds[1]);
  return {out, std::move(result)};
}

// Ctrl-C at sandboxctl reaches the command, which decides what to do with it.
TEST_F(SandboxctlTest, InterruptIsForwarded) {
  auto [out, result] = SignalWhenReady(
      {"exec", "--", "sh", "-c",
       "trap 'echo caught; exit 7' INT; echo ready; while :; do sleep 0.1; done"},
      server_->address(), SIGINT);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(out, "ready\ncaught\n");
  EXPECT_EQ(result->exit_code, 7);
}

// A client that dies takes its command with it: the server sees the call end.
TEST_F(SandboxctlTest, KilledClientKillsTheTree) {
  const std::string marker = "sleep 48213";
  auto [out, result] = SignalWhenReady(
      {"exec", "--", "sh", "-c", marker + " & setsid " + marker + " & echo ready; wait"},
      server_->address(), SIGKILL);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->termination, Termination::SIGNALED);
  EXPECT_TRUE(GoneWithin(marker, absl::Seconds(5)));
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

TEST_F(SandboxctlTest, JsonOutput) {
  RunResult exec = Sandboxctl({"--json", "exec", "--", "sh", "-c", "echo hi; exit 4"},
                              server_->address());
  EXPECT_EQ(exec.exit_code, 4);
  std::string json = exec.stdout_data.Contents();
  EXPECT_THAT(json, HasSubstr("\"termination\":\"EXITED\""));
  EXPECT_THAT(json, HasSubstr("\"exit_code\":4"));
  EXPECT_THAT(json, HasSubstr("\"stdout_text\":\"hi\\n\""));  // Text, where it is UTF-8.
  RunResult binary = Sandboxctl({"--json", "exec", "--", "printf", "\\377"}, server_->address());
  EXPECT_THAT(binary.stdout_data.Contents(), HasSubstr("\"stdout\":\"/w==\""));  // Else base64.
  RunResult caps = Sandboxctl({"--json", "capabilities"}, server_->address());
  EXPECT_THAT(caps.stdout_data.Contents(), HasSubstr("\"backend\":\"BACKEND_BWRAP\""));
}

// As people paste them: a socket's bare path, and sizes with units.
TEST_F(SandboxctlTest, TakesABareSocketPathAndSizesWithUnits) {
  std::string path = server_->address().substr(std::string("unix:").size());
  RunResult result = Sandboxctl({"exec", "--memory=2G", "--output-limit=1MiB", "--", "echo", "ok"},
                                path);
  EXPECT_EQ(result.exit_code, 0) << result.stderr_data.Contents();
  EXPECT_EQ(result.stdout_data.Contents(), "ok\n");
  RunResult bad = Sandboxctl({"exec", "--memory=2X", "--", "true"}, server_->address());
  EXPECT_EQ(bad.exit_code, 125);
  EXPECT_THAT(bad.stderr_data.Contents(), HasSubstr("--memory needs a size in bytes"));
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

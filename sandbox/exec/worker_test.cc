#include "sandbox/exec/worker.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sandbox/test_support.h"

// These tests run the worker without a sandbox (argv[0] is a plain program): they cover
// spawning, pipes, deadlines and reaping. tests/ covers the same through bwrap.

namespace sandboxd {
namespace {

using ::testing::HasSubstr;

Launch Shell(const std::string& script) {
  Launch launch;
  launch.argv = {"/bin/sh", "-c", script};
  launch.env = {"PATH=/usr/bin:/bin"};
  launch.timeout = absl::Seconds(20);
  launch.output_limit = 1 << 20;
  return launch;
}

class WorkerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { signal(SIGPIPE, SIG_IGN); }
};

TEST_F(WorkerTest, CapturesBothStreamsAndExitCode) {
  absl::StatusOr<RunResult> result = RunWorker(Shell("echo out; echo err >&2; exit 7"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->termination, Termination::EXITED);
  EXPECT_EQ(result->exit_code, 7);
  EXPECT_EQ(result->stdout_data.Contents(), "out\n");
  EXPECT_EQ(result->stderr_data.Contents(), "err\n");
}

TEST_F(WorkerTest, FeedsStdinLargerThanAPipe) {
  Launch launch = Shell("wc -c");
  launch.stdin_data = std::string(1 << 20, 'x');
  absl::StatusOr<RunResult> result = RunWorker(launch);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->stdout_data.Contents(), "1048576\n");
}

TEST_F(WorkerTest, CommandThatIgnoresStdinDoesNotHang) {
  Launch launch = Shell("exec 0<&-; echo done");
  launch.stdin_data = std::string(4 << 20, 'x');
  absl::StatusOr<RunResult> result = RunWorker(launch);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->stdout_data.Contents(), "done\n");
}

// A command that fills stderr while we would be waiting on stdout must not deadlock.
TEST_F(WorkerTest, NoDeadlockWhenBothPipesFill) {
  absl::StatusOr<RunResult> result =
      RunWorker(Shell("head -c 3000000 /dev/zero >&2; head -c 3000000 /dev/zero"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_code, 0);
  EXPECT_EQ(result->stdout_data.total_bytes(), 3000000u);
  EXPECT_EQ(result->stderr_data.total_bytes(), 3000000u);
  EXPECT_TRUE(result->stdout_data.truncated());
  EXPECT_EQ(result->stdout_data.Contents().size(), size_t{1} << 20);
}

TEST_F(WorkerTest, TimeoutKillsTheProcessGroup) {
  Launch launch = Shell("sleep 30 & echo started; wait");
  launch.timeout = absl::Milliseconds(300);
  absl::Time start = absl::Now();
  absl::StatusOr<RunResult> result = RunWorker(launch);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_EQ(result->termination, Termination::TIMED_OUT);
  EXPECT_EQ(result->signal, SIGKILL);
  EXPECT_EQ(result->stdout_data.Contents(), "started\n");
}

// Without a pid namespace a process left behind (in a session of its own, out of reach
// of the group kill) keeps the pipes open, and its output is collected; with one
// (bwrap_pid_namespace) the run ends with the process, on what the pipes hold.
TEST_F(WorkerTest, OutputEndsWithTheProcessWhenItsNamespaceDoes) {
  const std::string script = "echo first; setsid sh -c 'sleep 1; echo late' & sleep 0.2";
  absl::StatusOr<RunResult> waited = RunWorker(Shell(script));
  ASSERT_TRUE(waited.ok()) << waited.status();
  EXPECT_EQ(waited->stdout_data.Contents(), "first\nlate\n");

  Launch launch = Shell(script);
  launch.bwrap_pid_namespace = true;
  absl::StatusOr<RunResult> ended = RunWorker(launch);
  ASSERT_TRUE(ended.ok()) << ended.status();
  EXPECT_EQ(ended->stdout_data.Contents(), "first\n");
  EXPECT_LT(ended->wall_time, absl::Milliseconds(900));  // Not waiting for "late".
}

// poll never times out while a command keeps writing: the deadline must hold anyway,
// whether output is kept or streamed.
TEST_F(WorkerTest, TimeoutHoldsAgainstEndlessOutput) {
  for (bool streamed : {false, true}) {
    Launch launch = Shell("yes");
    launch.timeout = absl::Milliseconds(300);
    uint64_t streamed_bytes = 0;
    if (streamed) {
      launch.on_output = [&](int, uint64_t, absl::string_view data) {
        streamed_bytes += data.size();
      };
    }
    absl::StatusOr<RunResult> result = RunWorker(launch);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->termination, Termination::TIMED_OUT) << streamed;
    EXPECT_LT(result->wall_time, absl::Seconds(5)) << streamed;
    EXPECT_GT(result->stdout_data.total_bytes(), 0u) << streamed;
    if (streamed) {
      EXPECT_GT(streamed_bytes, 0u);
    }
  }
}

TEST_F(WorkerTest, EnvironmentIsExactlyWhatWasGiven) {
  setenv("SANDBOXD_TEST_SECRET", "hunter2", 1);
  Launch launch = Shell("env");
  launch.env = {"ONLY=this"};
  absl::StatusOr<RunResult> result = RunWorker(launch);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(result->stdout_data.Contents(), HasSubstr("ONLY=this"));
  EXPECT_THAT(result->stdout_data.Contents(), ::testing::Not(HasSubstr("hunter2")));
}

TEST_F(WorkerTest, ChildInheritsOnlyStdio) {
  Launch launch = Shell("ls /proc/self/fd");
  absl::StatusOr<RunResult> result = RunWorker(launch);
  ASSERT_TRUE(result.ok()) << result.status();
  // 0, 1, 2 and the descriptor ls opens to read the directory.
  EXPECT_EQ(result->stdout_data.Contents(), "0\n1\n2\n3\n");
}

TEST_F(WorkerTest, RunsInCwd) {
  Launch launch = Shell("pwd");
  launch.cwd = "/usr";
  absl::StatusOr<RunResult> result = RunWorker(launch);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->stdout_data.Contents(), "/usr\n");
}

TEST_F(WorkerTest, MissingProgramIsFailedPrecondition) {
  Launch launch = Shell("");
  launch.argv = {"/no/such/program"};
  absl::StatusOr<RunResult> result = RunWorker(launch);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(result.status().message(), HasSubstr("/no/such/program"));
}

TEST_F(WorkerTest, LeavesNoFileDescriptorsBehind) {
  int before = OpenFdCount();
  for (int i = 0; i < 20; ++i) {
    Launch launch = Shell("echo hi");
    launch.stdin_data = "input";
    ASSERT_TRUE(RunWorker(launch).ok());
  }
  EXPECT_EQ(OpenFdCount(), before);
}

TEST_F(WorkerTest, StreamsOutputAsItArrives) {
  Launch launch = Shell("echo first; sleep 0.5; echo second");
  std::vector<std::pair<absl::Time, std::string>> chunks;
  launch.on_output = [&](int fd, uint64_t offset, absl::string_view data) {
    EXPECT_EQ(fd, 1);
    EXPECT_EQ(offset, chunks.empty() ? 0u : 6u);
    chunks.emplace_back(absl::Now(), std::string(data));
  };
  absl::StatusOr<RunResult> result = RunWorker(launch);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[0].second, "first\n");
  EXPECT_EQ(chunks[1].second, "second\n");
  EXPECT_GE(chunks[1].first - chunks[0].first, absl::Milliseconds(300));
  EXPECT_EQ(result->stdout_data.Contents(), "");  // Streamed, not kept.
  EXPECT_EQ(result->stdout_data.total_bytes(), 13u);
}

TEST_F(WorkerTest, StreamedOutputStopsAtTheLimit) {
  Launch launch = Shell("printf 0123456789");
  launch.output_limit = 4;
  std::string streamed;
  launch.on_output = [&](int, uint64_t, absl::string_view data) {
    streamed.append(data.data(), data.size());
  };
  absl::StatusOr<RunResult> result = RunWorker(launch);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(streamed, "0123");
  EXPECT_TRUE(result->stdout_data.truncated());
  EXPECT_EQ(result->stdout_data.total_bytes(), 10u);
}

TEST_F(WorkerTest, StdinFromTheCallersPipe) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  Launch launch = Shell("tr a-z A-Z");
  launch.stdin_fd = fds[0];
  std::thread writer([&] {
    ASSERT_EQ(write(fds[1], "live\n", 5), 5);
    close(fds[1]);
  });
  absl::StatusOr<RunResult> result = RunWorker(launch);
  writer.join();
  close(fds[0]);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->stdout_data.Contents(), "LIVE\n");
}

TEST_F(WorkerTest, SignalsReachTheCommandsProcessGroup) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
  Launch launch = Shell("trap 'echo caught; exit 3' INT; echo ready; while :; do sleep 0.05; done");
  launch.signal_fd = fds[0];
  launch.on_output = [&](int, uint64_t, absl::string_view data) {
    unsigned char sigint = SIGINT;
    if (data == "ready\n") {
      ASSERT_EQ(write(fds[1], &sigint, 1), 1);
    }
  };
  absl::StatusOr<RunResult> result = RunWorker(launch);
  close(fds[0]);
  close(fds[1]);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->termination, Termination::EXITED);
  EXPECT_EQ(result->exit_code, 3);
}

TEST_F(WorkerTest, CancellationKillsTheCommand) {
  Launch launch = Shell("sleep 30");
  absl::Time cancel_at = absl::Now() + absl::Milliseconds(200);
  launch.is_cancelled = [&] { return absl::Now() > cancel_at; };
  absl::StatusOr<RunResult> result = RunWorker(launch);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->termination, Termination::CANCELLED);
  EXPECT_LT(result->wall_time, absl::Seconds(5));
}

TEST_F(WorkerTest, ReportsUsage) {
  absl::StatusOr<RunResult> result =
      RunWorker(Shell("i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_GT(result->user_cpu + result->system_cpu, absl::ZeroDuration());
  EXPECT_GT(result->max_rss_bytes, 0u);
  EXPECT_GT(result->wall_time, absl::ZeroDuration());
}

}  // namespace
}  // namespace sandboxd

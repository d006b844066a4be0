#include "sandbox/exec/outcome.h"

#include <signal.h>

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sandboxd {
namespace {

using ::testing::HasSubstr;

constexpr size_t kOutputLimit = 1000;

RunBounds Bounds(bool under_bwrap = true) {
  RunBounds bounds;
  bounds.timeout = absl::Seconds(10);
  bounds.output_limit = kOutputLimit;
  bounds.under_bwrap = under_bwrap;
  bounds.limits.memory_bytes = 1 << 28;
  bounds.limits.processes = 16;
  return bounds;
}

RunResult Exited(int code, const std::string& err = "") {
  RunResult result(kOutputLimit);
  result.exit_code = code;
  result.stderr_data.Append(err);
  result.stderr_head = err.substr(0, kStderrHeadBytes);
  return result;
}

RunResult Signaled(int signal) {
  RunResult result(kOutputLimit);
  result.termination = Termination::SIGNALED;
  result.signal = signal;
  return result;
}

TEST(OutcomeTest, ASignalIsReportedOneWayWhoeverReportsIt) {
  // bwrap turns the command's death by SIGTERM into an exit with 143.
  RunResult from_bwrap = Exited(143);
  ConcludeRun(Bounds(), from_bwrap);
  EXPECT_EQ(from_bwrap.termination, Termination::SIGNALED);
  EXPECT_EQ(from_bwrap.signal, SIGTERM);
  EXPECT_EQ(from_bwrap.exit_code, 143);
  EXPECT_EQ(from_bwrap.message, "killed by SIGTERM");
  // Without bwrap the kernel says so itself.
  RunResult direct = Signaled(SIGTERM);
  ConcludeRun(Bounds(/*under_bwrap=*/false), direct);
  EXPECT_EQ(direct.termination, Termination::SIGNALED);
  EXPECT_EQ(direct.signal, SIGTERM);
  EXPECT_EQ(direct.exit_code, 143);
  // The control: without bwrap, an exit with 143 is the program's own.
  RunResult exit_143 = Exited(143);
  ConcludeRun(Bounds(/*under_bwrap=*/false), exit_143);
  EXPECT_EQ(exit_143.termination, Termination::EXITED);
  EXPECT_EQ(exit_143.signal, 0);
  EXPECT_EQ(exit_143.message, "exited with status 143");
}

// The OOM killer picks the command (bwrap reports 137) or bwrap itself (killed by 9).
TEST(OutcomeTest, AMemoryKillIsOneOutcomeWhicheverProcessDied) {
  RunResult command = Exited(137);
  RunResult bwrap = Signaled(SIGKILL);
  for (RunResult* result : {&command, &bwrap}) {
    result->oom_killed = true;
    ConcludeRun(Bounds(), *result);
    EXPECT_EQ(result->termination, Termination::MEMORY_LIMIT);
    EXPECT_EQ(result->signal, SIGKILL);
    EXPECT_EQ(result->exit_code, 137);
    EXPECT_THAT(result->message, HasSubstr("limits.memory_bytes (268435456 bytes)"));
  }
  RunResult unrelated = Signaled(SIGKILL);  // The control: no OOM kill.
  ConcludeRun(Bounds(), unrelated);
  EXPECT_EQ(unrelated.termination, Termination::SIGNALED);
}

TEST(OutcomeTest, AProgramThatCannotBeExecutedIsNotItsExit) {
  RunResult missing = Exited(1, "bwrap: execvp nope: No such file or directory\n");
  ConcludeRun(Bounds(), missing);
  EXPECT_EQ(missing.termination, Termination::EXEC_FAILED);
  EXPECT_EQ(missing.exit_code, 127);
  EXPECT_THAT(missing.message, HasSubstr("the program nope was not found"));
  RunResult denied = Exited(126, "sandboxd-launch: exec ./run.sh: Permission denied\n");
  ConcludeRun(Bounds(), denied);
  EXPECT_EQ(denied.termination, Termination::EXEC_FAILED);
  EXPECT_EQ(denied.exit_code, 126);
  EXPECT_THAT(denied.message, HasSubstr("./run.sh could not be executed: Permission denied"));
}

TEST(OutcomeTest, ASetUpFailureIsItsOwnOutcome) {
  const std::string line = "bwrap: Can't mkdir /x: Read-only file system\n";
  RunResult failed = Exited(1, line);
  ConcludeRun(Bounds(), failed);
  EXPECT_EQ(failed.termination, Termination::SETUP_FAILED);
  EXPECT_THAT(failed.message, HasSubstr("Can't mkdir /x"));
  // The controls: a command that printed more, or wrote to stdout, ran.
  RunResult more = Exited(1, line + "and more\n");
  RunResult out = Exited(1, line);
  out.stdout_data.Append("x");
  for (RunResult* ran : {&more, &out}) {
    ConcludeRun(Bounds(), *ran);
    EXPECT_EQ(ran->termination, Termination::EXITED);
    EXPECT_EQ(ran->exit_code, 1);
  }
}

TEST(OutcomeTest, ARefusedForkNamesTheProcessLimit) {
  RunResult failed = Exited(1, "bwrap: Can't fork for pid 1: Resource temporarily unavailable\n");
  failed.forks_refused = true;
  ConcludeRun(Bounds(), failed);
  EXPECT_EQ(failed.termination, Termination::PROCESS_LIMIT);
  EXPECT_THAT(failed.message, HasSubstr("limits.processes (16): bwrap: Can't fork"));
  RunResult survived = Exited(0);  // The control: it coped with the refusal.
  survived.forks_refused = true;
  ConcludeRun(Bounds(), survived);
  EXPECT_EQ(survived.termination, Termination::EXITED);
}

TEST(OutcomeTest, OurOwnKillSaysItsSignal) {
  RunResult timed_out = Exited(137);  // bwrap's init reported the command's death first.
  timed_out.termination = Termination::TIMED_OUT;
  ConcludeRun(Bounds(), timed_out);
  EXPECT_EQ(timed_out.signal, SIGKILL);
  EXPECT_EQ(timed_out.exit_code, 137);
  EXPECT_THAT(timed_out.message, HasSubstr("ran past its timeout of 10s"));
}

TEST(OutcomeTest, OutputPastItsLimitIsSaid) {
  RunResult result = Exited(0);
  result.stdout_data.Append(std::string(kOutputLimit + 1, 'x'));
  ConcludeRun(Bounds(), result);
  EXPECT_EQ(result.termination, Termination::EXITED);
  EXPECT_EQ(result.message, "stdout passed output_limit_bytes (1000), and only 1000 bytes of it were kept");
}

}  // namespace
}  // namespace sandboxd

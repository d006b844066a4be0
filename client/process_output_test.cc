#include "client/process_output.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sandboxd {
namespace {

namespace v1 = ::sandbox::v1;

v1::ProcessOutput Output(bool running, uint64_t out_next, uint64_t out_total) {
  v1::ProcessOutput output;
  output.set_running(running);
  output.mutable_stdout()->set_next_offset(out_next);
  output.mutable_stdout()->set_total_bytes(out_total);
  if (!running) {
    output.mutable_result()->set_termination(v1::EXITED);
    output.mutable_result()->set_exit_code(3);
  }
  return output;
}

TEST(FinishedTest, OnlyOnceExitedAndCaughtUp) {
  EXPECT_FALSE(Finished(Output(/*running=*/true, 5, 5)));
  EXPECT_FALSE(Finished(Output(/*running=*/false, 5, 9)));  // More to read.
  EXPECT_TRUE(Finished(Output(/*running=*/false, 9, 9)));
}

TEST(FormatReadStatusTest, SaysWhereToGoOnAndHowItEnded) {
  EXPECT_EQ(FormatReadStatus(Output(true, 12, 12)),
            "next: --stdout-offset=12 --stderr-offset=0; running");
  EXPECT_EQ(FormatReadStatus(Output(false, 12, 12)),
            "next: --stdout-offset=12 --stderr-offset=0; exited with 3");
  v1::ProcessOutput killed = Output(false, 0, 0);
  killed.mutable_stderr()->set_lost_bytes(7);
  killed.mutable_result()->set_termination(v1::SIGNALED);
  killed.mutable_result()->set_exit_code(137);
  killed.mutable_result()->set_message("killed by SIGKILL");
  EXPECT_EQ(FormatReadStatus(killed),
            "next: --stdout-offset=0 --stderr-offset=0; 7 bytes of stderr were no longer kept; "
            "ended (signaled, exit code 137): killed by SIGKILL");
}

}  // namespace
}  // namespace sandboxd

// The helper's terminal, driven as the server drives it: framed input on stdin, the
// terminal's output on stdout, signals to the helper's process group.

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "sandbox/inside/protocol.h"
#include "sandbox/inside/test_support.h"

namespace sandboxd {
namespace {

std::string Data(const std::string& payload) { return MakeFrame(FrameType::kData, payload); }

const std::vector<std::string> kEnv = {"PS1=$ ", "TERM=xterm", "PATH=/usr/bin:/bin", "HOME=/"};

class PtyTest : public ::testing::Test {
 protected:
  void SetUp() override { fds_before_ = OpenFdCount(); }
  void TearDown() override {
    helper_.reset();
    EXPECT_EQ(OpenFdCount(), fds_before_) << "the test leaked fds";
  }

  // The helper running `program` on a 24x80 terminal.
  void Start(const std::vector<std::string>& program) {
    std::vector<std::string> args = {"pty", "24", "80", "--"};
    args.insert(args.end(), program.begin(), program.end());
    helper_ = std::make_unique<HelperProcess>(args, &kEnv);
  }

  // An interactive bash, at its first prompt.
  void StartBash() {
    Start({"/bin/bash", "--norc", "--noprofile", "-i"});
    ASSERT_TRUE(helper_->Expect("$ ")) << helper_->out() << helper_->err();
  }

  // Types `line` into bash and waits for its echo, then for `output` after it.
  // Outputs are spelled with '' in the line (echo T''TY) so that the echo does not
  // match them. Lines stay shorter than the terminal, which would wrap them.
  void Type(const std::string& line, const std::string& output) {
    ASSERT_TRUE(helper_->Send(Data(line + "\r")));
    ASSERT_TRUE(helper_->Expect(line)) << "no echo of " << line << " in " << helper_->out();
    ASSERT_TRUE(helper_->Expect(output)) << "no " << output << " in " << helper_->out();
  }

  // Runs `line` at the prompt and waits for the prompt after it, where readline reads
  // again (it takes the terminal before it prints the prompt). Only at a prompt: a
  // line typed ahead is echoed again with the next prompt, which would be taken for
  // the one after it.
  void RunToPrompt(const std::string& line) { Type(line, "$ "); }

  // Waits until bash is at a prompt, whatever was typed ahead.
  void Sync() {
    Type("echo SY''NC", "SYNC");
    ASSERT_TRUE(helper_->Expect("$ "));
  }

  // bash's `sleep 100` in the foreground, started; its pid.
  pid_t SleepInForeground() {
    EXPECT_TRUE(helper_->Send(Data("sleep 100\r")));
    EXPECT_TRUE(helper_->Expect("sleep 100"));
    return FindDescendant(helper_->pid(), "sleep", milliseconds(5000));
  }

  std::unique_ptr<HelperProcess> helper_;
  int fds_before_ = 0;
};

TEST_F(PtyTest, TheCommandHasATerminal) {
  StartBash();
  Type("test -t 0 && test -t 1 && test -t 2 && echo T''TY", "TTY");
  Type("stty size", "24 80");
}

TEST_F(PtyTest, AResizeFrameResizesTheTerminal) {
  StartBash();
  ASSERT_TRUE(helper_->Send(MakeFrame(FrameType::kResize, ResizePayload(50, 132))));
  Type("stty size", "50 132");
}

TEST_F(PtyTest, AResizeSendsSigwinchToTheForeground) {
  StartBash();
  // A non-interactive shell in the foreground, which runs its trap between sleeps.
  Type("bash -c 'trap \"echo WIN\"\"CHED\" WINCH;echo RE\"\"ADY;while :;do sleep .05;done'",
       "READY");
  ASSERT_TRUE(helper_->Send(MakeFrame(FrameType::kResize, ResizePayload(30, 100))));
  ASSERT_TRUE(helper_->Expect("WINCHED")) << helper_->out();
  // ^C ends it, and the interactive shell is back.
  ASSERT_TRUE(helper_->Send(Data("\x03")));
  Type("echo ali''ve", "alive");
}

TEST_F(PtyTest, AnInteractiveShellSeesSigwinch) {
  StartBash();
  RunToPrompt("trap 'echo WIN''CHED' WINCH");
  ASSERT_TRUE(helper_->Send(MakeFrame(FrameType::kResize, ResizePayload(40, 90))));
  // bash runs the trap when readline next returns to it.
  Type("", "WINCHED");
}

TEST_F(PtyTest, ControlCEndsTheForegroundJobNotTheShell) {
  StartBash();
  pid_t sleep_pid = SleepInForeground();
  ASSERT_GT(sleep_pid, 0) << helper_->out();
  ASSERT_TRUE(helper_->Send(Data("\x03")));
  EXPECT_TRUE(Within(absl::Milliseconds(5000), [&] { return !Alive(sleep_pid); }));
  Type("echo ali''ve", "alive");
}

TEST_F(PtyTest, ASignalToTheHelperReachesTheForegroundJob) {
  StartBash();
  pid_t sleep_pid = SleepInForeground();
  ASSERT_GT(sleep_pid, 0) << helper_->out();
  // As the server does: to the helper's process group. bash (in a session of its
  // own) gets nothing from the kill itself; only what the helper forwards reaches
  // sleep, whose process group is the terminal's foreground.
  ASSERT_EQ(kill(-helper_->pid(), SIGINT), 0);
  EXPECT_TRUE(Within(absl::Milliseconds(5000), [&] { return !Alive(sleep_pid); }));
  Type("echo ali''ve", "alive");
}

TEST_F(PtyTest, ASignalWithoutAForegroundJobReachesTheShell) {
  StartBash();
  RunToPrompt("trap 'echo GOT''USR1' USR1");
  ASSERT_EQ(kill(-helper_->pid(), SIGUSR1), 0);
  Type("", "GOTUSR1");
}

TEST_F(PtyTest, KEndIsEndOfFileAndTheHelperExitsAsTheShell) {
  StartBash();
  // At the prompt: ^D typed ahead while a command runs is the command's (or lost, as
  // on any terminal, when the shell's readline takes the terminal out of canonical
  // mode before reading it).
  RunToPrompt("(exit 3)");
  ASSERT_TRUE(helper_->Send(MakeFrame(FrameType::kEnd)));
  EXPECT_EQ(helper_->Wait(), 3) << helper_->out();
}

TEST_F(PtyTest, TheEndOfStdinIsEndOfFileToo) {
  Start({"/bin/cat"});
  ASSERT_TRUE(helper_->Send(Data("hello\r")));
  helper_->CloseStdin();
  EXPECT_EQ(helper_->Wait(), 0);
  // The terminal's echo, then cat's copy.
  EXPECT_EQ(helper_->out(), "hello\r\nhello\r\n");
}

TEST_F(PtyTest, ExitsWithTheCommandsExitCode) {
  StartBash();
  ASSERT_TRUE(helper_->Send(Data("exit 7\r")));
  EXPECT_EQ(helper_->Wait(), 7);
}

TEST_F(PtyTest, ExitsWith128PlusTheSignalThatKilledTheCommand) {
  Start({"/bin/sh", "-c", "kill -TERM $$"});
  EXPECT_EQ(helper_->Wait(), 128 + SIGTERM);
}

TEST_F(PtyTest, AProgramThatIsNotThereIs127) {
  Start({"/nonexistent/program"});
  EXPECT_EQ(helper_->Wait(), 127);
  EXPECT_NE(helper_->out().find("sandboxd-helper: cannot execute /nonexistent/program"),
            std::string::npos)
      << helper_->out();
  Start({"/dev/null"});  // There, but not executable.
  EXPECT_EQ(helper_->Wait(), 126);
}

TEST_F(PtyTest, TheCommandGetsOnlyTheTerminal) {
  Start({"/bin/sh", "-c", "cd /proc/self/fd && echo *"});
  EXPECT_EQ(helper_->Wait(), 0);
  // The shell's own reading of the directory may hold one more.
  EXPECT_TRUE(helper_->out() == "0 1 2\r\n" || helper_->out() == "0 1 2 3\r\n") << helper_->out();
}

TEST_F(PtyTest, NoOutputIsLostWhenTheCommandExits) {
  Start({"/bin/sh", "-c", "head -c 300000 /dev/zero | tr '\\0' a; echo; echo DONE"});
  ASSERT_EQ(helper_->Wait(), 0);
  const std::string& out = helper_->out();
  EXPECT_EQ(std::count(out.begin(), out.end(), 'a'), 300000);
  EXPECT_EQ(out.substr(out.size() - 6), "DONE\r\n");
}

TEST_F(PtyTest, ABackgroundJobHoldingTheTerminalIsNotWaitedFor) {
  Start({"/bin/sh", "-c", "sleep 30 & echo STARTED"});
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(helper_->Wait(milliseconds(5000)), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(PtyTest, InputTheCommandDoesNotReadBacksUp) {
  // Raw: a terminal in canonical mode drops what overflows a line instead of holding it.
  Start({"/bin/sh", "-c", "stty raw -echo && echo RE''ADY && sleep 30"});
  ASSERT_TRUE(helper_->Expect("READY"));
  size_t taken = helper_->Offer(Data(std::string(4 << 20, 'x')), milliseconds(1000));
  // The pipe (64 KiB), the helper's ~256 KiB and one read, the terminal's buffers.
  EXPECT_LT(taken, size_t{1} << 20);
  EXPECT_GT(taken, size_t{256} << 10);
}

TEST_F(PtyTest, AMalformedFrameKillsTheCommandsSession) {
  StartBash();
  pid_t sleep_pid = FindDescendant(helper_->pid(), "bash", milliseconds(1000));
  ASSERT_GT(sleep_pid, 0);
  // A background job, in a process group of its own (job control).
  Type("sleep 100 & echo BACK''GROUND", "BACKGROUND");
  pid_t job = FindDescendant(helper_->pid(), "sleep", milliseconds(5000));
  ASSERT_GT(job, 0);
  ASSERT_TRUE(helper_->Send(std::string("z\0\0\0\0", 5)));
  EXPECT_EQ(helper_->Wait(), kHelperInvalidArgument);
  EXPECT_TRUE(Within(absl::Milliseconds(5000), [&] { return !Alive(sleep_pid) && !Alive(job); }));
}

// As the server runs it: in a bwrap sandbox with a /dev (and devpts) of its own, where
// only /usr is there to run from, as an unprivileged user.
TEST_F(PtyTest, RunsInsideASandbox) {
  std::string why = WhyNoSandbox();
  if (!why.empty()) GTEST_SKIP() << why;
  TempDir dir;
  helper_ = std::make_unique<HelperProcess>(
      std::vector<std::string>{"pty", "24", "80", "--", "/bin/bash", "--norc", "--noprofile", "-i"},
      &kEnv, Sandbox(dir.path()));
  ASSERT_TRUE(helper_->Expect("$ ")) << helper_->out() << helper_->err();
  Type("tty; id -u", "/dev/pts/0");
  ASSERT_TRUE(helper_->Expect("65534"));
  Type("stty size", "24 80");
  pid_t sleep_pid = SleepInForeground();
  ASSERT_GT(sleep_pid, 0) << helper_->out();
  ASSERT_TRUE(helper_->Send(Data("\x03")));
  EXPECT_TRUE(Within(absl::Milliseconds(5000), [&] { return !Alive(sleep_pid); }));
  Sync();
  RunToPrompt("(exit 4)");
  ASSERT_TRUE(helper_->Send(MakeFrame(FrameType::kEnd)));
  EXPECT_EQ(helper_->Wait(), 4) << helper_->out();
}

TEST_F(PtyTest, AStdoutWithoutAReaderEndsTheHelper) {
  StartBash();
  pid_t bash = FindDescendant(helper_->pid(), "bash", milliseconds(1000));
  ASSERT_GT(bash, 0);
  helper_->CloseStdout();
  EXPECT_EQ(helper_->Wait(), kHelperInternal);
  EXPECT_TRUE(Within(absl::Milliseconds(5000), [&] { return !Alive(bash); }));
}

}  // namespace
}  // namespace sandboxd

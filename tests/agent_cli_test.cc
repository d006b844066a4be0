// sandboxctl's agent commands and the Python client against a real server: a shell on
// a terminal driven through a real one (tmux), files copied in and out, processes and
// sessions by id.

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "base/read_file.h"
#include "sandbox/exec/worker.h"
#include "tests/sandboxd_process.h"
#include "tests/test_util.h"

namespace sandboxd::testing {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;

// The longest any one step may take before the test gives up on it.
constexpr absl::Duration kStepTimeout = absl::Seconds(10);

// A scratch directory of the test's own (Bazel's TEST_TMPDIR), made fresh.
std::string Scratch(const std::string& name) {
  const char* root = std::getenv("TEST_TMPDIR");
  std::string dir = absl::StrCat(root != nullptr ? root : "/tmp", "/", name);
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  std::filesystem::create_directories(dir);
  return dir;
}

void WriteLocalFile(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

// Runs `argv` (absolute argv[0]) with `env`, bounded by `timeout`.
RunResult RunHost(const std::vector<std::string>& argv, const std::vector<std::string>& env,
              const std::string& stdin_data = "", absl::Duration timeout = absl::Seconds(30)) {
  Launch launch;
  launch.argv = argv;
  launch.env = env;
  launch.stdin_data = stdin_data;
  launch.timeout = timeout;
  launch.output_limit = 8 << 20;
  absl::StatusOr<RunResult> result = RunWorker(launch);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? *std::move(result) : RunResult(0);
}

// A tmux server of the test's own (its own socket) with one window, the terminal a
// person would type into. Killed, with what runs in it, when this goes away.
class Tmux {
 public:
  // The socket goes in a directory of its own below /tmp: a Unix socket's path has
  // at most 107 bytes, and TEST_TMPDIR's are longer.
  Tmux(int cols, int rows) : socket_dir_(MakeSocketDir()), socket_(socket_dir_ + "/tmux.sock") {
    RunResult started = Tmux::Run({"new-session", "-d", "-s", "t", "-x", absl::StrCat(cols),
                                   "-y", absl::StrCat(rows),
                                   "env -i PATH=/usr/bin:/bin HOME=/tmp TERM=xterm-256color "
                                   "PS1='local$ ' bash --norc"});
    EXPECT_EQ(started.exit_code, 0) << started.stderr_data.Contents();
  }
  ~Tmux() {
    Run({"kill-server"});
    std::error_code ignored;
    std::filesystem::remove_all(socket_dir_, ignored);
  }

  RunResult Run(std::vector<std::string> args) {
    args.insert(args.begin(), {"/usr/bin/tmux", "-S", socket_});
    return RunHost(args, {"PATH=/usr/bin:/bin", "TERM=xterm-256color", "HOME=/tmp"}, "",
                        kStepTimeout);
  }

  // Types `text` and presses Enter.
  void Type(const std::string& text) {
    Run({"send-keys", "-t", "t", "-l", text});
    Run({"send-keys", "-t", "t", "Enter"});
  }
  void Keys(const std::string& keys) { Run({"send-keys", "-t", "t", keys}); }

  // The whole window, history included, wrapped lines joined.
  std::string Screen() {
    return Run({"capture-pane", "-p", "-J", "-S", "-", "-t", "t"}).stdout_data.Contents();
  }

  // Waits until the window shows `text`; true if it did within `wait`.
  bool WaitFor(const std::string& text, absl::Duration wait = kStepTimeout) {
    absl::Time deadline = absl::Now() + wait;
    while (absl::Now() < deadline) {
      if (absl::StrContains(Screen(), text)) return true;
      absl::SleepFor(absl::Milliseconds(50));
    }
    return false;
  }

  // The host terminal the window's shell runs on (/dev/pts/N).
  std::string PaneTty() {
    return std::string(absl::StripAsciiWhitespace(
        Run({"display-message", "-p", "-t", "t", "#{pane_tty}"}).stdout_data.Contents()));
  }

 private:
  static std::string MakeSocketDir() {
    char dir[] = "/tmp/sandboxd_agent_tmux.XXXXXX";
    EXPECT_NE(mkdtemp(dir), nullptr);
    return dir;
  }

  const std::string socket_dir_;
  const std::string socket_;
};

// What `text` shows between the last `before` and the `after` that follows it.
std::string Between(const std::string& text, const std::string& before, const std::string& after) {
  size_t start = text.rfind(before);
  if (start == std::string::npos) return "";
  start += before.size();
  size_t end = text.find(after, start);
  return text.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

class AgentCliTest : public SharedServerTest {
 protected:
  static void SetUpTestSuite() { StartServer(); }

  static RunResult Sandboxctl(const std::vector<std::string>& args,
                              const std::string& stdin_data = "") {
    Launch launch = SandboxctlLaunch(args, server_->address());
    launch.stdin_data = stdin_data;
    launch.timeout = absl::Seconds(30);
    launch.output_limit = 8 << 20;
    absl::StatusOr<RunResult> result = RunWorker(launch);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *std::move(result) : RunResult(0);
  }

  // Runs sandboxctl and expects it to succeed; returns its stdout.
  static std::string Ok(const std::vector<std::string>& args, const std::string& stdin_data = "") {
    RunResult result = Sandboxctl(args, stdin_data);
    EXPECT_EQ(result.exit_code, 0) << absl::StrJoin(args, " ") << ": "
                                   << result.stderr_data.Contents();
    return result.stdout_data.Contents();
  }
};

// In the tmux window: records the terminal's settings, runs `sandboxctl exec -t` with
// a shell in the sandbox (its prompt "remote-42> "), then records them again and says
// "back-21". Waits for the remote prompt.
void StartRemoteShell(Tmux& tmux, const std::string& dir, const std::string& address) {
  ASSERT_TRUE(tmux.WaitFor("local$ ")) << tmux.Screen();
  // Each step prints a marker that the shell computes ($((...))), so that what was
  // typed never matches what is waited for.
  tmux.Type(absl::StrCat("stty -g > ", dir, "/before; SANDBOXD_ADDRESS=", address, " ",
                         Runfile("client/sandboxctl"),
                         " exec -t --cwd=/ '--env=PS1=remote-$((40+2))> ' -- bash --norc -i; "
                         "echo \"exited=$?\"; stty -g > ",
                         dir, "/after; stty -a > ", dir, "/after-a; echo back-$((20+1))"));
  ASSERT_TRUE(tmux.WaitFor("remote-42> ")) << tmux.Screen();
}

// The terminal's settings are as they were before sandboxctl ran: cooked, echoing.
void ExpectRestored(const std::string& dir) {
  std::string before = ReadFileOrEmpty(dir + "/before");
  EXPECT_FALSE(before.empty());
  EXPECT_EQ(ReadFileOrEmpty(dir + "/after"), before);
  std::string after_a = ReadFileOrEmpty(dir + "/after-a");
  EXPECT_THAT(after_a, HasSubstr(" icanon"));
  EXPECT_THAT(after_a, HasSubstr(" echo "));
  EXPECT_THAT(after_a, Not(HasSubstr("-isig")));
}

// The pid of the sandboxctl that the window's shell runs, or -1.
pid_t SandboxctlIn(Tmux& tmux) {
  pid_t shell = 0;
  std::string text(absl::StripAsciiWhitespace(
      tmux.Run({"display-message", "-p", "-t", "t", "#{pane_pid}"}).stdout_data.Contents()));
  if (!absl::SimpleAtoi(text, &shell)) return -1;
  for (pid_t child : ChildrenOf(shell)) {
    if (ProcessName(child) == "sandboxctl") return child;
  }
  return -1;
}

// The whole interactive path: a real terminal (a tmux window) runs `sandboxctl exec -t`
// with a shell in the sandbox; keys typed there reach it, the sizes follow, Ctrl-C
// interrupts its job, its exit code comes back, and the terminal is itself again.
TEST_F(AgentCliTest, ShellOnATerminalDrivenFromARealOne) {
  std::string dir = Scratch("terminal");
  Tmux tmux(/*cols=*/100, /*rows=*/30);
  std::string pane_tty = tmux.PaneTty();
  ASSERT_THAT(pane_tty, ContainsRegex("^/dev/pts/[0-9]+$"));
  StartRemoteShell(tmux, dir, server_->address());
  if (HasFatalFailure()) return;
  tmux.Type("echo ready-$((1+1))");
  ASSERT_TRUE(tmux.WaitFor("ready-2")) << tmux.Screen();

  // This terminal is raw while the remote shell has it: no echo, no line editing, no
  // signals from keys (so Ctrl-C is a byte that goes on). The control for "restored".
  RunResult during = RunHost({"/usr/bin/stty", "-a", "-F", pane_tty}, {"PATH=/usr/bin:/bin"});
  EXPECT_THAT(during.stdout_data.Contents(), HasSubstr("-icanon"));
  EXPECT_THAT(during.stdout_data.Contents(), HasSubstr("-echo "));
  EXPECT_THAT(during.stdout_data.Contents(), HasSubstr("-isig"));

  // The shell's terminal is one of the sandbox's own: a devpts with only it in it.
  tmux.Type("tty; ls /dev/pts | grep -c '^[0-9]'; echo tty-$((2+2))");
  ASSERT_TRUE(tmux.WaitFor("tty-4")) << tmux.Screen();
  std::string tty_lines = Between(tmux.Screen(), "echo tty-$((2+2))", "tty-4");
  EXPECT_THAT(tty_lines, ContainsRegex("/dev/pts/[0-9]+\r?\n1\r?\n")) << tty_lines;

  tmux.Type("stty size; echo size-$((3+3))");
  ASSERT_TRUE(tmux.WaitFor("size-6")) << tmux.Screen();
  EXPECT_THAT(Between(tmux.Screen(), "echo size-$((3+3))", "size-6"), HasSubstr("30 100"));

  // A resize here is a SIGWINCH to sandboxctl, which resizes the remote terminal.
  tmux.Run({"resize-window", "-t", "t", "-x", "120", "-y", "40"});
  bool resized = false;
  for (int attempt = 0; attempt < 20 && !resized; ++attempt) {
    absl::SleepFor(absl::Milliseconds(100));
    std::string marker = absl::StrCat("resized-", attempt);
    tmux.Type(absl::StrCat("stty size; echo resized-$((", attempt, "+0))"));
    ASSERT_TRUE(tmux.WaitFor(marker)) << tmux.Screen();
    resized = absl::StrContains(
        Between(tmux.Screen(), absl::StrCat("echo resized-$((", attempt, "+0))"), marker),
        "40 120");
  }
  EXPECT_TRUE(resized) << tmux.Screen();

  // Ctrl-C is a byte the remote terminal turns into SIGINT for its foreground job; the
  // shell itself lives on. Without it, sleep would hold the shell for 100 s.
  tmux.Type("sleep 100");
  absl::SleepFor(absl::Milliseconds(500));
  absl::Time interrupted = absl::Now();
  tmux.Keys("C-c");
  tmux.Type("echo alive-$((5+5))");
  ASSERT_TRUE(tmux.WaitFor("alive-10", absl::Seconds(5))) << tmux.Screen();
  EXPECT_LT(absl::Now() - interrupted, absl::Seconds(5));

  // The shell's exit code is sandboxctl's, and the terminal is as it was.
  tmux.Type("exit 3");
  ASSERT_TRUE(tmux.WaitFor("back-21")) << tmux.Screen();
  EXPECT_THAT(tmux.Screen(), HasSubstr("exited=3"));
  ExpectRestored(dir);
}

// sandboxctl told to stop (SIGTERM) hangs the remote terminal up, which ends the shell,
// and puts this terminal back before it goes.
TEST_F(AgentCliTest, TerminatedSandboxctlHangsUpAndRestores) {
  std::string dir = Scratch("terminated");
  Tmux tmux(/*cols=*/80, /*rows=*/24);
  StartRemoteShell(tmux, dir, server_->address());
  if (HasFatalFailure()) return;
  pid_t sandboxctl = SandboxctlIn(tmux);
  ASSERT_GT(sandboxctl, 0) << tmux.Screen();
  ASSERT_EQ(kill(sandboxctl, SIGTERM), 0);
  ASSERT_TRUE(tmux.WaitFor("back-21")) << tmux.Screen();
  EXPECT_THAT(tmux.Screen(), HasSubstr(absl::StrCat("exited=", 128 + SIGTERM)));
  EXPECT_THAT(tmux.Screen(), HasSubstr("hung up process p-"));
  ExpectRestored(dir);
  // The hangup ended the remote shell (bash exits on SIGHUP).
  absl::Time deadline = absl::Now() + kStepTimeout;
  std::string listed;
  do {
    absl::SleepFor(absl::Milliseconds(50));
    listed = Ok({"ps"});
  } while (absl::StrContains(listed, "running  yes") && absl::Now() < deadline);
  EXPECT_THAT(listed, Not(HasSubstr("running  yes"))) << listed;
}

// A server that goes away in the middle ends the session with an error, and the
// terminal is put back all the same.
TEST_F(AgentCliTest, LostServerRestoresTheTerminal) {
  absl::StatusOr<std::unique_ptr<SandboxdProcess>> server = SandboxdProcess::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  std::string dir = Scratch("lost");
  Tmux tmux(/*cols=*/80, /*rows=*/24);
  StartRemoteShell(tmux, dir, (*server)->address());
  if (HasFatalFailure()) return;
  ASSERT_TRUE((*server)->Stop(SIGTERM, absl::Seconds(20)).ok());
  ASSERT_TRUE(tmux.WaitFor("back-21")) << tmux.Screen();
  EXPECT_THAT(tmux.Screen(), HasSubstr("exited=125"));
  EXPECT_THAT(tmux.Screen(), HasSubstr("sandboxctl: "));
  ExpectRestored(dir);
}

// Without a terminal here, -t still runs the command on one there, fed from the pipe.
TEST_F(AgentCliTest, TerminalFromAPipe) {
  RunResult result = Sandboxctl({"exec", "-t", "--cwd=/", "--", "bash", "--norc", "-i"},
                                "if [ -t 0 ]; then echo on-a-$((6*7)); fi\nexit 4\n");
  EXPECT_EQ(result.exit_code, 4) << result.stderr_data.Contents();
  EXPECT_THAT(result.stdout_data.Contents(), HasSubstr("on-a-42"));
}

TEST_F(AgentCliTest, CopyRoundTripListAndCat) {
  absl::StatusOr<std::string> workspace = server_->MakeWorkspace();
  ASSERT_TRUE(workspace.ok()) << workspace.status();
  std::string dir = Scratch("copy");
  std::string data(3 * (1 << 20) + 12345, '\0');
  std::mt19937 random(7);
  for (char& c : data) c = static_cast<char>(random());
  WriteLocalFile(dir + "/up.bin", data);
  const std::vector<std::string> writable = {"--mode=workspace-write",
                                             absl::StrCat("--writable=", *workspace)};
  std::vector<std::string> up = {"cp", dir + "/up.bin", absl::StrCat(":", *workspace, "/d/r.bin"),
                                 "--parents"};
  up.insert(up.end(), writable.begin(), writable.end());
  Ok(up);
  // What the server wrote, as the host sees it, and what comes back.
  EXPECT_EQ(ReadFileOrEmpty(*workspace + "/d/r.bin"), data);
  Ok({"cp", absl::StrCat(":", *workspace, "/d/r.bin"), dir + "/down.bin"});
  EXPECT_EQ(RunHost({"/usr/bin/cmp", dir + "/up.bin", dir + "/down.bin"}, {}).exit_code, 0);

  std::string listing = Ok({"ls", "-d", "2", *workspace});
  EXPECT_THAT(listing, ContainsRegex(absl::StrCat("d 0[0-7]+ [0-9]+ [-0-9T:]+Z ", *workspace, "/d\n")));
  EXPECT_THAT(listing, ContainsRegex(absl::StrCat("- 0644 ", data.size(), " [-0-9T:]+Z ",
                                                  *workspace, "/d/r.bin\n")));
  EXPECT_THAT(Ok({"ls", *workspace}), Not(HasSubstr("r.bin")));  // Depth 1.

  std::vector<std::string> small = {"cp", "-", absl::StrCat(":", *workspace, "/small.txt")};
  small.insert(small.end(), writable.begin(), writable.end());
  Ok(small, "small and plain\n");
  EXPECT_EQ(Ok({"cat", *workspace + "/small.txt"}), "small and plain\n");
  EXPECT_EQ(Ok({"cp", absl::StrCat(":", *workspace, "/small.txt"), "-"}), "small and plain\n");

  // Outside the writable roots, the server refuses, saying why; nothing is written.
  std::vector<std::string> refused = {"cp", dir + "/up.bin", ":/usr/sandboxd-agent-test.bin"};
  refused.insert(refused.end(), writable.begin(), writable.end());
  RunResult denied = Sandboxctl(refused);
  EXPECT_EQ(denied.exit_code, 125);
  EXPECT_THAT(denied.stderr_data.Contents(), HasSubstr("sandboxctl: "));
  EXPECT_THAT(denied.stderr_data.Contents(), HasSubstr("read-only file system"));
  EXPECT_FALSE(std::filesystem::exists("/usr/sandboxd-agent-test.bin"));
  // Read-only (the server's default) refuses a write to the workspace too.
  RunResult read_only = Sandboxctl({"cp", dir + "/up.bin", absl::StrCat(":", *workspace, "/ro.bin")});
  EXPECT_EQ(read_only.exit_code, 125);
  EXPECT_THAT(read_only.stderr_data.Contents(), HasSubstr("read-only"));
  EXPECT_FALSE(std::filesystem::exists(*workspace + "/ro.bin"));
  // A file that is not there leaves the local side alone.
  RunResult missing = Sandboxctl({"cp", absl::StrCat(":", *workspace, "/none"), dir + "/none"});
  EXPECT_EQ(missing.exit_code, 125);
  EXPECT_THAT(missing.stderr_data.Contents(), HasSubstr("no such file"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/none"));
  RunResult both = Sandboxctl({"cp", "a", "b"});
  EXPECT_EQ(both.exit_code, 125);
  EXPECT_THAT(both.stderr_data.Contents(), HasSubstr("exactly one of SRC and DST"));
}

TEST_F(AgentCliTest, MakeMoveStatRemove) {
  absl::StatusOr<std::string> workspace = server_->MakeWorkspace();
  ASSERT_TRUE(workspace.ok()) << workspace.status();
  const std::string w = *workspace;
  auto with_write = [&](std::vector<std::string> args) {
    args.push_back("--mode=workspace-write");
    args.push_back("--writable=" + w);
    return args;
  };
  Ok(with_write({"mkdir", "-p", w + "/a/b"}));
  EXPECT_TRUE(std::filesystem::is_directory(w + "/a/b"));
  Ok(with_write({"cp", "-", absl::StrCat(":", w, "/a/b/f.txt"), "--file-mode=0600"}), "x");
  std::string stat = Ok({"stat", w + "/a/b/f.txt"});
  EXPECT_THAT(stat, HasSubstr("type: regular\nsize: 1\nmode: 0600\n"));
  Ok(with_write({"mv", w + "/a/b/f.txt", w + "/g.txt"}));
  EXPECT_EQ(ReadFileOrEmpty(w + "/g.txt"), "x");
  RunResult not_empty = Sandboxctl(with_write({"rm", w + "/a"}));
  EXPECT_EQ(not_empty.exit_code, 125);
  EXPECT_TRUE(std::filesystem::exists(w + "/a"));
  Ok(with_write({"rm", "-r", w + "/a"}));
  EXPECT_FALSE(std::filesystem::exists(w + "/a"));
}

TEST_F(AgentCliTest, ProcessesAndSessionsById) {
  std::string session(absl::StripAsciiWhitespace(Ok({"session", "create", "--cwd=/"})));
  ASSERT_THAT(session, ContainsRegex("^s-"));
  EXPECT_THAT(Ok({"session", "ls"}), HasSubstr(session));
  // The session's /tmp lasts from one call to the next, files included.
  Ok({"exec", "--session", session, "--", "sh", "-c", "echo kept > /tmp/note"});
  EXPECT_EQ(Ok({"cat", "--session", session, "/tmp/note"}), "kept\n");

  std::string id(absl::StripAsciiWhitespace(
      Ok({"start", "--session", session, "--", "sh", "-c", "read x; echo got $x"})));
  ASSERT_THAT(id, ContainsRegex("^p-"));
  std::string listed = Ok({"ps"});
  EXPECT_THAT(listed, ContainsRegex(absl::StrCat(id, " +running +no +", session)));
  EXPECT_THAT(listed, HasSubstr("sh -c 'read x; echo got $x'"));
  Ok({"write", id, "hello", "--close"});
  RunResult read = Sandboxctl({"read", id, "--until-exit", "--wait", "10s"});
  EXPECT_EQ(read.exit_code, 0) << read.stderr_data.Contents();
  EXPECT_EQ(read.stdout_data.Contents(), "got hello\n");
  EXPECT_THAT(read.stderr_data.Contents(),
              HasSubstr("next: --stdout-offset=10 --stderr-offset=0; exited with 0"));
  // From an offset: only what came after it.
  RunResult tail = Sandboxctl({"read", id, "--stdout-offset=4"});
  EXPECT_EQ(tail.stdout_data.Contents(), "hello\n");
  EXPECT_THAT(Ok({"ps", "--session", session}), ContainsRegex(absl::StrCat(id, " +exited 0")));

  // Signals, by name; a process killed by one exits (here) with 128 + it.
  std::string sleeper(absl::StripAsciiWhitespace(
      Ok({"start", "--session", session, "--", "sleep", "100"})));
  RunResult resize = Sandboxctl({"resize", sleeper, "30", "100"});
  EXPECT_EQ(resize.exit_code, 125);  // No terminal.
  EXPECT_THAT(resize.stderr_data.Contents(), HasSubstr("sandboxctl: "));
  Ok({"signal", sleeper, "TERM"});
  RunResult ended = Sandboxctl({"read", sleeper, "--until-exit", "--wait", "10s"});
  EXPECT_EQ(ended.exit_code, 128 + SIGTERM) << ended.stderr_data.Contents();
  std::string killed(absl::StripAsciiWhitespace(
      Ok({"start", "--session", session, "--", "sleep", "100"})));
  Ok({"kill", killed});
  EXPECT_THAT(Ok({"ps"}), Not(HasSubstr(killed)));  // Forgotten.

  // Closing the session ends what runs in it and forgets its processes.
  std::string last(absl::StripAsciiWhitespace(
      Ok({"start", "--session", session, "--", "sleep", "100"})));
  Ok({"session", "close", session});
  EXPECT_THAT(Ok({"session", "ls"}), Not(HasSubstr(session)));
  EXPECT_THAT(Ok({"ps"}), Not(HasSubstr(last)));
  RunResult gone = Sandboxctl({"read", id});
  EXPECT_EQ(gone.exit_code, 125);
  EXPECT_THAT(gone.stderr_data.Contents(), HasSubstr("sandboxctl: "));
}

TEST_F(AgentCliTest, StartOnATerminalThenDriveIt) {
  std::string id(absl::StripAsciiWhitespace(
      Ok({"start", "--terminal=30x100", "--cwd=/", "--env=PS1=$((1+1))> ", "--", "bash",
          "--norc", "-i"})));
  Ok({"write", id, "stty size; exit 5", "--newline"});
  RunResult read = Sandboxctl({"read", id, "--until-exit", "--wait", "10s"});
  EXPECT_EQ(read.exit_code, 5) << read.stderr_data.Contents();
  EXPECT_THAT(read.stdout_data.Contents(), HasSubstr("30 100"));
  Ok({"kill", id});
}

// The Python client, as an agent loop uses it.
constexpr char kPythonCheck[] = R"py(
import os, sys
import sandboxd_client

address, workspace = sys.argv[1], sys.argv[2]
with sandboxd_client.connect(address) as channel:
    client = sandboxd_client.Client(channel)
    session = client.create_session(
        policy=sandboxd_client.policy("workspace-write", writable_roots=[workspace]),
        cwd=workspace, idle_timeout=60)
    sid = session.session_id
    assert sid in [s.session_id for s in client.list_sessions()]
    shell = client.start_process(["bash", "--norc", "-i"], terminal=(30, 100),
                                 session_id=sid, env={"PS1": "agent> "})
    prompt = client.read_until(shell.process_id, "agent> ", timeout=10)
    assert prompt.found, prompt
    client.write_process(shell.process_id, text="echo $((6*7))\n")
    answer = client.read_until(shell.process_id, "42", timeout=10,
                               stdout_offset=prompt.stdout_offset)
    assert answer.found, answer
    assert answer.stdout.startswith(b"echo $((6*7))"), answer.stdout  # The echo, then 42.
    print("read_until: 42")

    data = os.urandom(2 * sandboxd_client.CHUNK_BYTES + 99)
    info = client.write_file(workspace + "/py.bin", data, session_id=sid)
    assert info.size == len(data), info
    assert client.read_file(workspace + "/py.bin", session_id=sid) == data
    chunks = list(client.iter_file(workspace + "/py.bin", session_id=sid))
    assert b"".join(chunks) == data and len(chunks) >= 1
    with open(sys.argv[3], "rb") as f:
        client.write_file(workspace + "/from-file.bin", f, session_id=sid)
    assert client.read_file(workspace + "/from-file.bin", session_id=sid) == open(
        sys.argv[3], "rb").read()
    names = [entry.path for entry in client.list_files(workspace, session_id=sid)]
    assert workspace + "/py.bin" in names, names
    print("files: identical")

    assert shell.process_id in [p.process_id for p in client.list_processes(sid)]
    client.close_session(sid)
    assert sid not in [s.session_id for s in client.list_sessions()]
    assert shell.process_id not in [p.process_id for p in client.list_processes()]
    print("session: closed")
)py";

TEST_F(AgentCliTest, PythonClientDrivesAShellAndFiles) {
  absl::StatusOr<std::string> workspace = server_->MakeWorkspace();
  ASSERT_TRUE(workspace.ok()) << workspace.status();
  std::string dir = Scratch("python");
  RunResult generated =
      RunHost({"/bin/bash", Runfile("client/python/generate.sh"), dir + "/gen"}, {"PATH=/usr/bin:/bin"});
  ASSERT_EQ(generated.exit_code, 0) << generated.stderr_data.Contents();
  WriteLocalFile(dir + "/check.py", kPythonCheck);
  WriteLocalFile(dir + "/local.bin", std::string(3 << 20, 'z') + "end");
  RunResult check = RunHost(
      {"/usr/bin/python3", dir + "/check.py", server_->address(), *workspace, dir + "/local.bin"},
      {"PATH=/usr/bin:/bin",
       absl::StrCat("PYTHONPATH=", dir, "/gen:", Runfile("client/python"))},
      "", absl::Seconds(60));
  EXPECT_EQ(check.exit_code, 0) << check.stdout_data.Contents() << check.stderr_data.Contents();
  EXPECT_EQ(check.stdout_data.Contents(), "read_until: 42\nfiles: identical\nsession: closed\n")
      << check.stderr_data.Contents();
}

}  // namespace
}  // namespace sandboxd::testing

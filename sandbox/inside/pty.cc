#include "sandbox/inside/pty.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "base/unique_fd.h"
#include "sandbox/inside/frames.h"
#include "sandbox/inside/protocol.h"

namespace sandboxd {
namespace {

// Input waiting for the terminal beyond which stdin is no longer read: a command that
// does not read its input holds the server back instead of filling the helper.
constexpr size_t kMaxPendingInput = 256 << 10;
// One read of stdin or of the terminal.
constexpr size_t kReadSize = 64 << 10;
// What is still relayed once the command has exited. Its own output is in the
// terminal's buffers (tens of KiB); more would come from a background job that keeps
// writing, which is not waited for.
constexpr size_t kDrainLimit = 1 << 20;
// A terminal that cannot be made, or a program that cannot be run: the shell's 126.
constexpr int kCannotExecute = 126;
constexpr int kNotFound = 127;

constexpr int kForwardedSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

void Say(int fd, const std::string& message) {
  std::string line = "sandboxd-helper: " + message + "\n";
  ssize_t ignored = write(fd, line.data(), line.size());
  (void)ignored;
}

std::string Reason(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

struct Terminal {
  UniqueFd master;
  UniqueFd slave;
};

// Makes a terminal of `rows` x `cols`; what failed, or "". The slave is opened from
// the master (TIOCGPTPEER), not by its name in /dev/pts, which a command could have
// replaced; and only a real master answers TIOCGPTPEER, whatever /dev/ptmx turned out
// to be.
std::string OpenTerminal(uint16_t rows, uint16_t cols, Terminal& terminal) {
  terminal.master.Reset(posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!terminal.master.valid()) return Reason("cannot open /dev/ptmx");
  int master = terminal.master.get();
  if (grantpt(master) != 0 || unlockpt(master) != 0) return Reason("cannot unlock the terminal");
  winsize size{};
  size.ws_row = rows;
  size.ws_col = cols;
  if (ioctl(master, TIOCSWINSZ, &size) != 0) return Reason("cannot size the terminal");
  terminal.slave.Reset(ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!terminal.slave.valid()) return Reason("cannot open the terminal's slave");
  // Non-blocking: a command that does not read must not stop the relay in a write.
  if (fcntl(master, F_SETFL, O_RDWR | O_NONBLOCK) != 0) return Reason("fcntl");
  return "";
}

// The child, between fork and exec. The helper has one thread, so the child may
// allocate; it must not return. Its failures go to the terminal, where the command's
// output would have gone.
[[noreturn]] void BecomeCommand(int slave, char** argv) {
  // A session of its own, with the new terminal as its controlling terminal: job
  // control, ^C and SIGWINCH then reach the command's foreground process group.
  if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) != 0) {
    Say(slave, Reason("cannot take the terminal"));
    _exit(kCannotExecute);
  }
  for (int fd = 0; fd < 3; ++fd) {
    if (dup2(slave, fd) < 0) _exit(kCannotExecute);
  }
  // The master, the signalfd and whatever the server passed stay with the helper.
  if (close_range(3, ~0U, 0) != 0) {
    for (int fd = 3; fd < 4096; ++fd) close(fd);
  }
  // Dispositions set to SIG_IGN survive exec (the helper ignores SIGPIPE, and the
  // server may have passed on more), as does the mask that blocks the signalfd's.
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  for (int signal = 1; signal < NSIG; ++signal) sigaction(signal, &default_action, nullptr);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  execvp(argv[0], argv);
  int err = errno;
  Say(2, std::string("cannot execute ") + argv[0] + ": " + std::strerror(err));
  _exit(err == ENOENT ? kNotFound : kCannotExecute);
}

// Kills every process of the session `session`: the command's, in every process group
// it made (an interactive shell puts each job in one of its own). No system call kills
// a session, so /proc names the candidates; the command's own group goes first, in
// case there is no /proc. (Whatever forks past this, the sandbox's end takes.)
void KillSession(pid_t session) {
  kill(-session, SIGKILL);
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return;
  while (const dirent* entry = readdir(proc)) {
    pid_t pid = static_cast<pid_t>(atoi(entry->d_name));
    if (pid > 0 && getsid(pid) == session) kill(pid, SIGKILL);
  }
  closedir(proc);
}

int ExitCodeOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return kCannotExecute;
}

// Bytes on their way to a descriptor: appended at the end, written from the front.
class Pending {
 public:
  bool empty() const { return start_ == bytes_.size(); }
  size_t size() const { return bytes_.size() - start_; }
  void Append(const char* bytes, size_t size) { bytes_.append(bytes, size); }
  void Clear() {
    bytes_.clear();
    start_ = 0;
  }

  // One write(2) of what is pending; false when it failed other than EAGAIN or EINTR
  // (errno says why).
  bool WriteTo(int fd) {
    ssize_t n = write(fd, bytes_.data() + start_, size());
    if (n < 0) return errno == EAGAIN || errno == EINTR;
    start_ += static_cast<size_t>(n);
    if (empty()) {
      Clear();
    } else if (start_ >= bytes_.size() / 2) {
      bytes_.erase(0, start_);
      start_ = 0;
    }
    return true;
  }

 private:
  std::string bytes_;
  size_t start_ = 0;
};

// The helper's side of the terminal, until the command exits (see RunOnTerminal).
class Relay : public FrameDecoder::Sink {
 public:
  Relay(int master, pid_t child, int signals)
      : master_(master), child_(child), signals_(signals), buffer_(kReadSize) {}

  int Run() {
    while (!exited_) {
      pollfd fds[4] = {
          {signals_, POLLIN, 0},
          // POLLERR comes unasked when the pipe's reader is gone.
          {STDOUT_FILENO, static_cast<short>(output_.empty() ? 0 : POLLOUT), 0},
          {MasterFd(), MasterEvents(), 0},
          {reading_input_ && input_.size() < kMaxPendingInput ? STDIN_FILENO : -1, POLLIN, 0},
      };
      if (poll(fds, 4, -1) < 0) {
        if (errno == EINTR) continue;
        Say(2, Reason("poll"));
        Abandon(kHelperInternal);
      }
      if (fds[0].revents != 0) HandleSignals();
      if ((fds[1].revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) Abandon(kHelperInternal);
      if ((fds[1].revents & POLLOUT) != 0 && !output_.WriteTo(STDOUT_FILENO)) {
        Abandon(kHelperInternal);
      }
      if ((fds[2].revents & (POLLHUP | POLLERR)) != 0) master_hung_up_ = true;
      if ((fds[2].revents & POLLOUT) != 0) WriteInput();
      if ((fds[2].revents & (POLLIN | POLLHUP | POLLERR)) != 0 && output_.empty()) ReadOutput();
      if (fds[3].revents != 0) ReadInput();
    }
    return Finish();
  }

  void OnData(const char* bytes, size_t size) override {
    if (!master_hung_up_) input_.Append(bytes, size);
  }

  void OnResize(uint16_t rows, uint16_t cols) override {
    winsize size{};
    size.ws_row = rows;
    size.ws_col = cols;
    ioctl(master_, TIOCSWINSZ, &size);
  }

  // The terminal's VEOF, read now (the command may have changed it), queued behind the
  // input before it; a terminal without one gets nothing.
  void OnEnd() override {
    reading_input_ = false;
    termios modes{};
    if (tcgetattr(master_, &modes) == 0 && modes.c_cc[VEOF] != _POSIX_VDISABLE) {
      char eof = static_cast<char>(modes.c_cc[VEOF]);
      OnData(&eof, 1);
    }
  }

 private:
  // A hung-up master is readable (to its end, EIO) and writable (to no one) for ever: it
  // is polled only while it is read, or poll would spin.
  int MasterFd() const {
    return master_closed_ || (master_hung_up_ && !output_.empty()) ? -1 : master_;
  }

  short MasterEvents() const {
    // Output is read only when the last of it is out, which bounds the buffer; the
    // terminal holds the rest, and then the command's writes wait.
    short events = output_.empty() ? POLLIN : 0;
    if (!input_.empty() && !master_hung_up_) events |= POLLOUT;
    return events;
  }

  void HandleSignals() {
    signalfd_siginfo info;
    while (read(signals_, &info, sizeof info) == sizeof info) {
      if (info.ssi_signo == SIGCHLD) {
        Reap();
      } else {
        Forward(static_cast<int>(info.ssi_signo));
      }
    }
  }

  void Reap() {
    int status = 0;
    if (waitpid(child_, &status, WNOHANG) == child_) {
      exited_ = true;
      status_ = status;
    }
  }

  // To whoever the terminal says is in front, as the kernel sends ^C; to the command's
  // own group when no one is (yet).
  void Forward(int signal) {
    pid_t group = tcgetpgrp(master_);
    if (group <= 0 || kill(-group, signal) != 0) kill(-child_, signal);
  }

  void ReadInput() {
    ssize_t n = read(STDIN_FILENO, buffer_.data(), buffer_.size());
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n <= 0) {  // The end of stdin, or an error that is as good as one.
      if (reading_input_) OnEnd();
      return;
    }
    if (!decoder_.Feed(buffer_.data(), static_cast<size_t>(n), *this)) {
      Say(2, "a malformed frame on stdin (see protocol.h); the command is killed");
      Abandon(kHelperInvalidArgument);
    }
  }

  void WriteInput() {
    // EIO: no one has the slave open any more, and no one will read this.
    if (!input_.WriteTo(master_)) input_.Clear();
  }

  void ReadOutput() {
    ssize_t n = read(master_, buffer_.data(), buffer_.size());
    if (n > 0) {
      output_.Append(buffer_.data(), static_cast<size_t>(n));
      if (!output_.WriteTo(STDOUT_FILENO)) Abandon(kHelperInternal);
      return;
    }
    // EIO: every holder of the slave has closed it (and what they wrote was read
    // first). The command may live on without it; only its exit ends the relay.
    if (n == 0 || (errno != EAGAIN && errno != EINTR)) master_closed_ = true;
  }

  // Writes all the output that is pending, waiting for stdout as needed.
  bool FlushOutput() {
    while (!output_.empty()) {
      if (!output_.WriteTo(STDOUT_FILENO)) return false;
      pollfd out{STDOUT_FILENO, POLLOUT, 0};
      if (!output_.empty() && poll(&out, 1, -1) < 0 && errno != EINTR) return false;
    }
    return true;
  }

  // The command has exited. What it wrote last is in the terminal still: a read of the
  // master flushes what the slave's writes queued before it says EAGAIN (someone, a
  // background job, still has the slave open) or EIO (no one has).
  int Finish() {
    size_t drained = 0;
    while (FlushOutput() && !master_closed_ && drained < kDrainLimit) {
      ssize_t n = read(master_, buffer_.data(), buffer_.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      output_.Append(buffer_.data(), static_cast<size_t>(n));
      drained += static_cast<size_t>(n);
    }
    FlushOutput();
    return ExitCodeOf(status_);
  }

  [[noreturn]] void Abandon(int exit_status) {
    KillSession(child_);
    _exit(exit_status);
  }

  int master_;
  pid_t child_;
  int signals_;
  std::vector<char> buffer_;
  FrameDecoder decoder_;
  Pending input_;   // stdin's kData, for the terminal.
  Pending output_;  // The terminal's output, for stdout.
  bool reading_input_ = true;
  bool master_hung_up_ = false;
  bool master_closed_ = false;
  bool exited_ = false;
  int status_ = 0;
};

}  // namespace

int RunOnTerminal(const TerminalCommand& command) {
  if (command.argv.empty()) {
    Say(2, "no program to run");
    return kHelperInvalidArgument;
  }
  Terminal terminal;
  std::string failed = OpenTerminal(command.rows, command.cols, terminal);
  if (!failed.empty()) {
    Say(2, failed);
    return kCannotExecute;
  }
  // Signals are read from a signalfd, so they are blocked from here on; SIGCHLD with
  // them, so that an exit before the relay starts is not missed. A stdout without a
  // reader is an EPIPE, not a death.
  sigset_t signals;
  sigemptyset(&signals);
  for (int signal : kForwardedSignals) sigaddset(&signals, signal);
  sigaddset(&signals, SIGCHLD);
  sigprocmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  UniqueFd signal_fd(signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!signal_fd.valid()) {
    Say(2, Reason("signalfd"));
    return kCannotExecute;
  }
  std::vector<std::string> args = command.argv;
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t child = fork();
  if (child < 0) {
    Say(2, Reason("fork"));
    return kCannotExecute;
  }
  if (child == 0) BecomeCommand(terminal.slave.get(), argv.data());
  // Only the command holds the slave now: when it and its children close it, the
  // master reads EIO.
  terminal.slave.Reset();
  // Writes to stdout must not block the relay (signals, input) while the server reads
  // slowly; the pipe's end is the helper's alone.
  fcntl(STDOUT_FILENO, F_SETFL, fcntl(STDOUT_FILENO, F_GETFL) | O_NONBLOCK);
  Relay relay(terminal.master.get(), child, signal_fd.get());
  return relay.Run();
}

}  // namespace sandboxd

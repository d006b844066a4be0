#include "sandbox/exec/worker.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/errno_status.h"
#include "base/read_file.h"
#include "base/unique_fd.h"

namespace sandboxd {
namespace {

// Parent-side descriptors live at or above this number, so that none of them can
// already sit at 0-3, where the child's dup2 would then be a no-op that leaves
// FD_CLOEXEC set.
constexpr int kFirstParentFd = 10;
// How long output may keep flowing after a kill or exit before the pipes are dropped
// (only a process outside a pid namespace, with no sandbox, can hold them that long).
constexpr absl::Duration kDrainGrace = absl::Seconds(2);
// What one read of an output pipe may take: the whole 1 MiB pipe of a fast writer,
// which becomes one streamed message. Streaming 1 GiB ran at about 600 MiB/s with
// 256 KiB reads and 780 MiB/s with these.
constexpr size_t kReadBufferSize = size_t{1} << 20;
// How often RunIo::is_cancelled is asked.
constexpr absl::Duration kCancelCheckInterval = absl::Milliseconds(100);
// How often a signal that came before its command looks for it.
constexpr absl::Duration kPendingSignalInterval = absl::Milliseconds(5);

absl::StatusOr<UniqueFd> MoveHigh(int fd, bool nonblocking) {
  UniqueFd low(fd);
  int high = fcntl(fd, F_DUPFD_CLOEXEC, kFirstParentFd);
  if (high < 0) return ErrnoError("fcntl(F_DUPFD_CLOEXEC)");
  if (nonblocking && fcntl(high, F_SETFL, O_NONBLOCK) != 0) {
    close(high);
    return ErrnoError("fcntl(O_NONBLOCK)");
  }
  return UniqueFd(high);
}

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

// A pipe whose `parent_end` ("read" or "write") is non-blocking.
absl::StatusOr<Pipe> MakePipe(bool parent_reads) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return ErrnoError("pipe2");
  absl::StatusOr<UniqueFd> read = MoveHigh(fds[0], parent_reads);
  absl::StatusOr<UniqueFd> write = MoveHigh(fds[1], !parent_reads);
  if (!read.ok()) return read.status();
  if (!write.ok()) return write.status();
  return Pipe{*std::move(read), *std::move(write)};
}

// The filter fits in the pipe's buffer, so it is written whole before the child starts.
absl::StatusOr<UniqueFd> SeccompPipe(const std::string& bpf) {
  absl::StatusOr<Pipe> pipe = MakePipe(/*parent_reads=*/false);
  if (!pipe.ok()) return pipe.status();
  if (write(pipe->write.get(), bpf.data(), bpf.size()) != static_cast<ssize_t>(bpf.size())) {
    return ErrnoError("writing the seccomp filter");
  }
  return std::move(pipe->read);
}

// Starts the command: a fresh spawn, or the pre-started launcher's exec.
absl::StatusOr<pid_t> Start(const LaunchCommand& command, const ChildFds& fds) {
  if (command.starter != nullptr) {
    return command.starter->Exec(command, fds);
  }
  return SpawnChild(command.argv, command.env, command.cwd, fds);
}

// Feeds stdin, drains stdout and stderr, and reaps the process; kills it at the
// deadline.
class Supervisor {
 public:
  Supervisor(const RunIo& io, bool bwrap_pid_namespace, pid_t pid, UniqueFd pidfd,
             UniqueFd in, UniqueFd out, UniqueFd err, RunResult& result)
      : io_(io), bwrap_pid_namespace_(bwrap_pid_namespace), pid_(pid), pidfd_(std::move(pidfd)), in_(std::move(in)),
        out_(std::move(out)), err_(std::move(err)), result_(result) {}

  absl::Status Run(absl::Time start) {
    deadline_ = start + io_.timeout;
    while (!reaped_ || out_.valid() || err_.valid()) {
      pollfd fds[6];
      int n = 0;
      for (const UniqueFd* fd : {&in_, &out_, &err_, &pidfd_}) {
        if (!fd->valid()) continue;
        fds[n++] = {fd->get(), static_cast<short>(fd == &in_ ? POLLOUT : POLLIN), 0};
      }
      for (int fd : {io_.cancel_fd, io_.signal_fd}) {
        if (fd >= 0 && !reaped_ && !killed_) fds[n++] = {fd, POLLIN, 0};
      }
      int rc = poll(fds, n, PollTimeoutMillis());
      if (rc < 0 && errno != EINTR) {
        absl::Status error = ErrnoError("poll");
        KillTree();
        Reap();
        return error;
      }
      if (!reaped_ && !killed_ && io_.is_cancelled && io_.is_cancelled()) {
        Kill(Termination::CANCELLED);
        continue;
      }
      // Checked on every round, not only when poll times out: a command that never
      // stops writing keeps poll from ever timing out.
      if (absl::Now() >= deadline_) {
        if (reaped_ || killed_) break;  // Output held open past the grace: stop reading.
        Kill(Termination::TIMED_OUT);
        continue;
      }
      if (rc <= 0) {  // A cancellation check, a signal waiting for the command, or EINTR.
        if (!pending_signals_.empty() && !reaped_ && !killed_) DeliverSignals(/*readable=*/false);
        continue;
      }
      for (int i = 0; i < n; ++i) {
        if (fds[i].revents != 0) Handle(fds[i].fd);
      }
    }
    if (!reaped_) Reap();  // Killed, but the grace ran out before the exit was seen.
    result_.wall_time = absl::Now() - start;
    return absl::OkStatus();
  }

 private:
  // Until the deadline, or the next cancellation check when someone may cancel.
  int PollTimeoutMillis() const {
    absl::Duration left = deadline_ - absl::Now();
    if (io_.is_cancelled) left = std::min(left, kCancelCheckInterval);
    if (!pending_signals_.empty() && !reaped_) left = std::min(left, kPendingSignalInterval);
    if (left <= absl::ZeroDuration()) return 0;
    return static_cast<int>(absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1))));
  }

  void Handle(int fd) {
    if (fd == io_.cancel_fd) {
      Kill(Termination::CANCELLED);
    } else if (fd == io_.signal_fd) {
      DeliverSignals(/*readable=*/true);
    } else if (fd == in_.get()) {
      WriteStdin();
    } else if (fd == out_.get()) {
      ReadOnce(out_, 1, result_.stdout_data);
    } else if (fd == err_.get()) {
      ReadOnce(err_, 2, result_.stderr_data);
    } else if (fd == pidfd_.get()) {
      // The process is a zombie now: its pid, and so its process group, cannot be
      // reused until it is reaped, so killing the group here cannot hit a stranger.
      KillTree();
      Reap();
      in_.Reset();
      deadline_ = std::min(deadline_, absl::Now() + kDrainGrace);
      if (bwrap_pid_namespace_) DrainAndClose();
    }
  }

  void WriteStdin() {
    const std::string& data = io_.stdin_data;
    ssize_t n = write(in_.get(), data.data() + stdin_offset_, data.size() - stdin_offset_);
    if (n > 0) stdin_offset_ += static_cast<size_t>(n);
    if (stdin_offset_ == data.size() || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      in_.Reset();  // All written, or the command closed its end (EPIPE).
    }
  }

  // One read, so that the loop around gets to its deadline and cancellation checks
  // however fast the command writes. True when it read something.
  bool ReadOnce(UniqueFd& fd, int stream, OutputBuffer& buffer) {
    if (read_buffer_ == nullptr) read_buffer_.reset(new char[kReadBufferSize]);
    ssize_t n;
    do {
      n = read(fd.get(), read_buffer_.get(), kReadBufferSize);
    } while (n < 0 && errno == EINTR);
    if (n > 0) {
      Output(stream, absl::string_view(read_buffer_.get(), static_cast<size_t>(n)), buffer);
      return true;
    }
    if (n == 0 || errno != EAGAIN) fd.Reset();
    return false;
  }

  // Takes what the pipes hold now and stops reading them.
  void DrainAndClose() {
    for (UniqueFd* fd : {&out_, &err_}) {
      bool out = fd == &out_;
      OutputBuffer& buffer = out ? result_.stdout_data : result_.stderr_data;
      while (fd->valid() && ReadOnce(*fd, out ? 1 : 2, buffer)) {
      }
      fd->Reset();
    }
  }

  // Keeps the data, or passes on what fits within the output limit and counts the rest.
  void Output(int stream, absl::string_view data, OutputBuffer& buffer) {
    std::string& head = result_.stderr_head;
    if (stream == 2 && head.size() < kStderrHeadBytes) {
      absl::string_view start = data.substr(0, kStderrHeadBytes - head.size());
      head.append(start.data(), start.size());
    }
    if (!io_.on_output) {
      buffer.Append(data);
      return;
    }
    uint64_t sent = buffer.total_bytes();
    if (sent < io_.output_limit) {
      size_t room = static_cast<size_t>(io_.output_limit - sent);
      io_.on_output(stream, sent, data.substr(0, room));
    }
    buffer.Count(data.size());
  }

  // Each byte on signal_fd is a signal for the command's process group. Under bwrap the
  // command sits two generations down (bwrap, then bwrap's init in the pid namespace,
  // then the command in a session of its own); signalling bwrap instead would kill the
  // sandbox rather than let the command handle the signal. Signals that come before
  // the command exists wait for it (PollTimeoutMillis polls for it meanwhile).
  // `readable`: poll said signal_fd has bytes; else only the pending ones are tried (a
  // read of a blocking descriptor with nothing in it would hang the worker).
  void DeliverSignals(bool readable) {
    unsigned char signals[64];
    ssize_t n = readable ? read(io_.signal_fd, signals, sizeof signals) : 0;
    if (n > 0) pending_signals_.append(reinterpret_cast<char*>(signals), static_cast<size_t>(n));
    if (pending_signals_.empty()) return;
    pid_t target = pid_;
    // While the process is still sandboxd-launch, not yet the bwrap it execs, its
    // children (if any) are not the command's: the signal waits.
    if (bwrap_pid_namespace_ && IsLauncher(target)) return;
    if (bwrap_pid_namespace_) target = FirstChild(FirstChild(target));
    if (target <= 0) return;  // The command has not started yet.
    for (char signal : pending_signals_) {
      int number = static_cast<unsigned char>(signal);
      if (kill(-target, number) != 0) kill(target, number);
    }
    pending_signals_.clear();
  }

  static bool IsLauncher(pid_t pid) {
    return ReadFileOrEmpty(absl::StrCat("/proc/", pid, "/comm")) == "sandboxd-launch\n";
  }

  static pid_t FirstChild(pid_t pid) {
    if (pid <= 0) return 0;
    // Not a stream: it would throw if the process exited between open and read.
    std::string children =
        ReadFileOrEmpty(absl::StrCat("/proc/", pid, "/task/", pid, "/children"));
    pid_t child = 0;
    return absl::SimpleAtoi(children.substr(0, children.find(' ')), &child) ? child : 0;
  }

  // Kills the tree for `why` and leaves a grace period to collect the last output.
  void Kill(Termination why) {
    KillTree();
    killed_ = true;
    result_.termination = why;
    deadline_ = absl::Now() + kDrainGrace;
  }

  void KillTree() {
    if (reaped_) return;
    kill(-pid_, SIGKILL);
    kill(pid_, SIGKILL);
  }

  void Reap() {
    int status = 0;
    struct rusage usage {};
    while (wait4(pid_, &status, 0, &usage) < 0 && errno == EINTR) {
    }
    reaped_ = true;
    pidfd_.Reset();
    // After our own kill, the termination already says why.
    if (WIFEXITED(status)) {
      if (!killed_) result_.termination = Termination::EXITED;
      result_.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
      if (!killed_) result_.termination = Termination::SIGNALED;
      result_.signal = WTERMSIG(status);
    }
    result_.user_cpu = absl::DurationFromTimeval(usage.ru_utime);
    result_.system_cpu = absl::DurationFromTimeval(usage.ru_stime);
    result_.max_rss_bytes = static_cast<uint64_t>(usage.ru_maxrss) * 1024;
  }

  const RunIo& io_;
  const bool bwrap_pid_namespace_;
  pid_t pid_;
  UniqueFd pidfd_;
  UniqueFd in_;
  UniqueFd out_;
  UniqueFd err_;
  RunResult& result_;
  absl::Time deadline_;
  size_t stdin_offset_ = 0;
  // Signals read before the command existed.
  std::string pending_signals_;
  // Made on the first output, and left uninitialized: a command that prints little
  // touches only a page of it.
  std::unique_ptr<char[]> read_buffer_;
  bool reaped_ = false;
  bool killed_ = false;
};

}  // namespace

absl::StatusOr<RunResult> RunWorker(const LaunchCommand& command, const RunIo& io) {
  // Child stdin: the caller's pipe, a pipe we feed, or /dev/null when there is nothing
  // to feed.
  UniqueFd child_in, parent_in;
  if (io.stdin_fd >= 0) {
    int fd = fcntl(io.stdin_fd, F_DUPFD_CLOEXEC, kFirstParentFd);
    if (fd < 0) return ErrnoError("fcntl(F_DUPFD_CLOEXEC)");
    child_in.Reset(fd);
  } else if (io.stdin_data.empty()) {
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoError("open /dev/null");
    absl::StatusOr<UniqueFd> high = MoveHigh(fd, false);
    if (!high.ok()) return high.status();
    child_in = *std::move(high);
  } else {
    absl::StatusOr<Pipe> in = MakePipe(/*parent_reads=*/false);
    if (!in.ok()) return in.status();
    child_in = std::move(in->read);
    parent_in = std::move(in->write);
  }
  absl::StatusOr<Pipe> out = MakePipe(/*parent_reads=*/true);
  if (!out.ok()) return out.status();
  absl::StatusOr<Pipe> err = MakePipe(/*parent_reads=*/true);
  if (!err.ok()) return err.status();
  // Room for a fast writer to get ahead while a chunk is being sent (64 KiB by
  // default; 1 MiB is what an unprivileged process may ask for). Best effort.
  fcntl(out->read.get(), F_SETPIPE_SZ, 1 << 20);
  fcntl(err->read.get(), F_SETPIPE_SZ, 1 << 20);
  UniqueFd seccomp;
  if (!command.seccomp_bpf.empty()) {
    absl::StatusOr<UniqueFd> fd = SeccompPipe(command.seccomp_bpf);
    if (!fd.ok()) return fd.status();
    seccomp = *std::move(fd);
  }

  ChildFds fds{child_in.get(), out->write.get(), err->write.get(), seccomp.get()};
  for (const SharedFd& fd : command.passed_fds) fds.passed.push_back(fd->get());
  absl::Time start = absl::Now();
  absl::StatusOr<pid_t> pid = Start(command, fds);
  if (!pid.ok()) return pid.status();
  // Only the child may hold the write ends, so EOF means every process holding them
  // is gone.
  child_in.Reset();
  out->write.Reset();
  err->write.Reset();
  seccomp.Reset();

  UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, *pid, 0)));
  RunResult result(io.output_limit);
  if (!pidfd.valid()) {
    absl::Status error = ErrnoError("pidfd_open");
    kill(*pid, SIGKILL);
    waitpid(*pid, nullptr, 0);
    return error;
  }
  Supervisor supervisor(io, command.bwrap_pid_namespace, *pid, std::move(pidfd),
                        std::move(parent_in), std::move(out->read), std::move(err->read),
                        result);
  if (absl::Status s = supervisor.Run(start); !s.ok()) return s;
  return result;
}

}  // namespace sandboxd

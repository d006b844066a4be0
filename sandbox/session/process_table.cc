#include "sandbox/session/process_table.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/errno_status.h"
#include "sandbox/inside/protocol.h"
#include "sandbox/session/ids.h"

namespace sandboxd {
namespace {

// A terminal's input goes in frames no larger than this, each written whole: the
// helper reads a frame's header before its payload, so a frame cut short by a deadline
// would corrupt everything after it.
constexpr size_t kInputFrameBytes = 64 * 1024;
// Room for input ahead of a command that reads slowly (64 KiB by default).
constexpr int kStdinPipeBytes = 1 << 20;
// How long a frame begun may take to go in whole, past the call's deadline, before the
// process is killed (its input could no longer be framed).
constexpr absl::Duration kFrameGrace = absl::Seconds(10);
// How often a waiting read asks whether its reader went away.
constexpr absl::Duration kGoneCheckInterval = absl::Milliseconds(250);
// How long Kill waits for the process to be gone, where the caller names no deadline.
constexpr absl::Duration kKillWait = absl::Seconds(10);

absl::Status MakePipe(UniqueFd& read_end, UniqueFd& write_end, bool nonblocking_write,
                      bool nonblocking_read = false) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return ErrnoError("pipe2");
  if (nonblocking_read && fcntl(fds[0], F_SETFL, O_NONBLOCK) != 0) {
    close(fds[0]);
    close(fds[1]);
    return ErrnoError("fcntl");
  }
  read_end.Reset(fds[0]);
  write_end.Reset(fds[1]);
  if (nonblocking_write && fcntl(fds[1], F_SETFL, O_NONBLOCK) != 0) return ErrnoError("fcntl");
  return absl::OkStatus();
}

int MillisUntil(absl::Time deadline) {
  absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  return static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(left) + 1, 1000));
}

// The bytes a pipe's write end can take now without blocking (its capacity less what
// it holds), or 0 where the kernel does not say.
size_t PipeRoom(int fd) {
  int size = fcntl(fd, F_GETPIPE_SZ);
  int queued = 0;
  if (size <= 0 || ioctl(fd, FIONREAD, &queued) != 0) return 0;
  return static_cast<size_t>(std::max(size - queued, 0));
}

}  // namespace

Process::Process(std::string id, ProcessSpec spec, size_t output_bytes)
    : id_(std::move(id)), spec_(std::move(spec)), out_(output_bytes), err_(output_bytes) {}

Process::~Process() {
  if (begun_.load() && running()) Kill(absl::Now() + kKillWait);
  if (thread_.joinable()) thread_.join();
}

absl::Status Process::Prepare() {
  // A signal that finds the pipe full (the worker stopped reading: it is being killed)
  // is dropped rather than waited for.
  absl::Status pipes = MakePipe(signal_read_, signal_write_, true, /*nonblocking_read=*/true);
  if (pipes.ok()) pipes = MakePipe(cancel_read_, cancel_write_, true);
  absl::MutexLock lock(&write_mu_);
  if (pipes.ok()) pipes = MakePipe(stdin_read_, stdin_write_, true);
  if (pipes.ok()) fcntl(stdin_write_.get(), F_SETPIPE_SZ, kStdinPipeBytes);  // Best effort.
  return pipes;
}

absl::Status Process::Begin(const Runner& runner) {
  thread_ = std::thread([this, &runner] { Run(runner); });
  begun_ = true;
  if (spec_.initial_stdin.empty()) return absl::OkStatus();
  absl::StatusOr<size_t> written =
      Write(spec_.initial_stdin, false, absl::Now() + absl::Seconds(5));
  if (!written.ok()) return written.status();
  if (*written < spec_.initial_stdin.size()) {
    return absl::DeadlineExceededError(absl::StrCat(
        "the command took ", *written, " of the request's ", spec_.initial_stdin.size(),
        " bytes of stdin within 5 s; write the rest with WriteProcess"));
  }
  return absl::OkStatus();
}

void Process::Run(const Runner& runner) {
  RunIo io;
  io.timeout = spec_.plan.timeout;
  // Everything streams into the rings, which bound what is kept.
  io.output_limit = std::numeric_limits<size_t>::max();
  io.stdin_fd = stdin_read_.get();
  io.signal_fd = signal_read_.get();
  io.cancel_fd = cancel_read_.get();
  io.on_output = [this](int fd, uint64_t, absl::string_view data) { Append(fd, data); };
  absl::StatusOr<RunResult> result = runner.Run(spec_.plan, io);
  absl::MutexLock lock(&mu_);
  outcome_ = std::move(result);
  changed_.SignalAll();
}

void Process::Append(int fd, absl::string_view data) {
  absl::MutexLock lock(&mu_);
  (fd == 2 ? err_ : out_).Append(data);
  changed_.SignalAll();
}

Process::Output Process::Read(uint64_t out_offset, uint64_t err_offset, size_t max_bytes,
                              absl::Time deadline, bool until_exit,
                              const std::function<bool()>& gone) {
  absl::MutexLock lock(&mu_);
  last_used_ = absl::Now();
  auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (outcome_.has_value()) return true;
    return !until_exit && (out_.total_bytes() > out_offset || err_.total_bytes() > err_offset);
  };
  while (!ready() && absl::Now() < deadline && !(gone && gone())) {
    changed_.WaitWithDeadline(&mu_, std::min(deadline, absl::Now() + kGoneCheckInterval));
  }
  last_used_ = absl::Now();
  Output output;
  output.out = out_.Read(out_offset, max_bytes);
  output.err = err_.Read(err_offset, max_bytes);
  output.out_total = out_.total_bytes();
  output.err_total = err_.total_bytes();
  output.running = !outcome_.has_value();
  output.outcome = outcome_;
  return output;
}

absl::StatusOr<size_t> Process::Write(absl::string_view data, bool close, absl::Time deadline) {
  absl::MutexLock lock(&write_mu_);
  if (!stdin_write_.valid()) {
    return absl::FailedPreconditionError(absl::StrCat("the stdin of ", id_, " is closed"));
  }
  if (!running()) return absl::FailedPreconditionError(absl::StrCat(id_, " has exited"));
  size_t written = 0;
  while (written < data.size()) {
    size_t most = kInputFrameBytes;
    // A frame no larger than the pipe has room for, so that it can go in whole even
    // where the pipe could not be grown (a user out of pipe pages gets one page).
    if (spec_.terminal) {
      size_t room = PipeRoom(stdin_write_.get());
      if (room > kFrameHeaderBytes) most = std::min(most, room - kFrameHeaderBytes);
      else most = 1;  // WriteWhole waits for room for a byte and its header.
    }
    absl::string_view piece = data.substr(written, most);
    absl::Status s;
    if (spec_.terminal) {
      std::string frame = FrameHeader(FrameType::kData, static_cast<uint32_t>(piece.size()));
      frame.append(piece.data(), piece.size());
      s = WriteWhole(frame, deadline);
      if (s.ok()) written += piece.size();
    } else {
      absl::StatusOr<size_t> n = WriteSome(piece, deadline);
      if (n.ok()) written += *n;
      s = n.status();
    }
    if (s.ok()) continue;
    if (written > 0 && absl::IsDeadlineExceeded(s)) return written;
    return s;
  }
  if (close) {
    if (spec_.terminal) {
      absl::Status s = WriteWhole(FrameHeader(FrameType::kEnd, 0), deadline);
      if (!s.ok()) return s;
    }
    stdin_write_.Reset();
  }
  return written;
}

absl::StatusOr<size_t> Process::WriteSome(absl::string_view bytes, absl::Time deadline) {
  while (true) {
    ssize_t n = write(stdin_write_.get(), bytes.data(), bytes.size());
    if (n > 0) return static_cast<size_t>(n);
    if (n < 0 && errno == EPIPE) {
      stdin_write_.Reset();
      return absl::FailedPreconditionError(absl::StrCat(id_, " closed its stdin"));
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) return ErrnoError("writing stdin");
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat(id_, " is not reading its stdin; nothing more was written"));
    }
    pollfd fd{stdin_write_.get(), POLLOUT, 0};
    poll(&fd, 1, std::min(MillisUntil(deadline), 100));
    if (!running()) return absl::FailedPreconditionError(absl::StrCat(id_, " has exited"));
  }
}

absl::Status Process::WriteWhole(absl::string_view frame, absl::Time deadline) {
  // Not begun: wait for room for the whole frame, up to the deadline.
  while (PipeRoom(stdin_write_.get()) < frame.size()) {
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat(id_, " is not reading its input; nothing more was written"));
    }
    pollfd fd{stdin_write_.get(), POLLOUT, 0};
    poll(&fd, 1, std::min(MillisUntil(deadline), 5));
    if (!running()) return absl::FailedPreconditionError(absl::StrCat(id_, " has exited"));
  }
  // Begun: it must go in whole (the pipe counts room in pages, so the last bytes may
  // still have to wait a little).
  size_t done = 0;
  absl::Time give_up = std::max(deadline, absl::Now()) + kFrameGrace;
  while (done < frame.size()) {
    absl::StatusOr<size_t> n = WriteSome(frame.substr(done), give_up);
    if (n.ok()) {
      done += *n;
      continue;
    }
    if (!absl::IsDeadlineExceeded(n.status())) return n.status();
    // Half a frame is in: what follows could no longer be read as frames.
    Kill(absl::Now() + kKillWait);
    return absl::AbortedError(
        absl::StrCat(id_, " stopped reading in the middle of its input and was killed"));
  }
  return absl::OkStatus();
}

absl::Status Process::Signal(int number) {
  if (!running()) return absl::FailedPreconditionError(absl::StrCat(id_, " has exited"));
  unsigned char byte = static_cast<unsigned char>(number);
  if (write(signal_write_.get(), &byte, 1) != 1) {
    return absl::ResourceExhaustedError(absl::StrCat(id_, " has signals waiting; retry"));
  }
  return absl::OkStatus();
}

absl::Status Process::Resize(uint16_t rows, uint16_t cols, absl::Time deadline) {
  if (!spec_.terminal) {
    return absl::FailedPreconditionError(absl::StrCat(
        id_, " has no terminal to resize (start it with a terminal)"));
  }
  absl::MutexLock lock(&write_mu_);
  if (!stdin_write_.valid() || !running()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the terminal of ", id_, " is closed (its input was closed, or it has exited)"));
  }
  std::string frame = FrameHeader(FrameType::kResize, 4) + ResizePayload(rows, cols);
  return WriteWhole(frame, deadline);
}

void Process::Kill(absl::Time deadline) {
  // RunWorker kills the tree when cancel_read_ becomes readable; a byte written is
  // safe from any thread, where closing the descriptor would not be.
  char byte = 1;
  if (write(cancel_write_.get(), &byte, 1) < 0) {
    // Only a full pipe: the process is being killed already.
  }
  if (!begun_.load()) return;  // It will see the byte as soon as it starts.
  absl::MutexLock lock(&mu_);
  while (!outcome_.has_value()) {
    if (changed_.WaitWithDeadline(&mu_, deadline)) break;
  }
}

bool Process::running() const {
  absl::MutexLock lock(&mu_);
  return !outcome_.has_value();
}

void Process::Touch() {
  absl::MutexLock lock(&mu_);
  last_used_ = absl::Now();
}

absl::Time Process::last_used() const {
  absl::MutexLock lock(&mu_);
  return last_used_;
}

bool Process::IdleAt(absl::Time now) const {
  absl::MutexLock lock(&mu_);
  return now - last_used_ > spec_.idle_timeout;
}

absl::StatusOr<std::shared_ptr<Process>> ProcessTable::Start(ProcessSpec spec) {
  std::string id = NewId("p", replica_);
  auto process = std::make_shared<Process>(id, std::move(spec), bounds_.output_bytes);
  if (absl::Status s = process->Prepare(); !s.ok()) return s;
  {
    absl::MutexLock lock(&mu_);
    // Checked under the lock that EndSession takes: a session that ends from here on
    // finds this process among its own.
    if (process->plan().ended && process->plan().ended()) {
      return absl::NotFoundError(absl::StrCat("session ", process->session_id(),
                                              " has been closed"));
    }
    int owned = 0;
    for (const auto& [_, kept] : processes_) owned += kept->owner() == process->owner();
    if (owned >= bounds_.max_per_owner) {
      return absl::ResourceExhaustedError(absl::StrCat(
          process->owner(), " has ", owned, " processes on this replica, its limit "
          "(--max_processes_per_client); kill some (KillProcess) or let exited ones be "
          "forgotten"));
    }
    if (static_cast<int>(processes_.size()) >= bounds_.max_total) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "this replica keeps ", processes_.size(), " processes, its limit "
          "(--max_processes_kept); retry later, or elsewhere"));
    }
    processes_[id] = process;
  }
  if (absl::Status s = process->Begin(runner_); !s.ok()) {
    absl::MutexLock lock(&mu_);
    processes_.erase(id);
    return s;
  }
  return process;
}

absl::StatusOr<std::shared_ptr<Process>> ProcessTable::Find(const std::string& owner,
                                                            const std::string& id) {
  if (absl::Status s = CheckId(id, "p", replica_); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  auto found = processes_.find(id);
  if (found == processes_.end() || found->second->owner() != owner) {
    return absl::NotFoundError(absl::StrCat(
        "no process ", id, " of yours here: it was killed, or forgotten after its idle "
        "time, or never was"));
  }
  found->second->Touch();
  return found->second;
}

absl::StatusOr<std::shared_ptr<Process>> ProcessTable::Remove(const std::string& owner,
                                                              const std::string& id) {
  absl::StatusOr<std::shared_ptr<Process>> process = Find(owner, id);
  if (!process.ok()) return process;
  {
    absl::MutexLock lock(&mu_);
    processes_.erase(id);
  }
  (*process)->Kill(absl::Now() + kKillWait);
  return process;
}

std::vector<std::shared_ptr<Process>> ProcessTable::List(const std::string& owner,
                                                         const std::string& session_id) const {
  std::vector<std::shared_ptr<Process>> out;
  absl::MutexLock lock(&mu_);
  for (const auto& [_, process] : processes_) {
    if (process->owner() != owner) continue;
    if (!session_id.empty() && process->session_id() != session_id) continue;
    out.push_back(process);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a->started() < b->started();
  });
  return out;
}

template <typename Pick>
std::vector<std::shared_ptr<Process>> ProcessTable::TakeIf(Pick pick) {
  std::vector<std::shared_ptr<Process>> taken;
  absl::MutexLock lock(&mu_);
  for (auto it = processes_.begin(); it != processes_.end();) {
    if (pick(*it->second)) {
      taken.push_back(std::move(it->second));
      it = processes_.erase(it);
    } else {
      ++it;
    }
  }
  return taken;
}

void ProcessTable::EndSession(const std::string& session_id) {
  for (const auto& process :
       TakeIf([&](const Process& p) { return p.session_id() == session_id; })) {
    process->Kill(absl::Now() + kKillWait);
  }
}

int ProcessTable::RunningIn(const std::string& session_id) const {
  absl::MutexLock lock(&mu_);
  int running = 0;
  for (const auto& [_, process] : processes_) {
    running += process->session_id() == session_id && process->running();
  }
  return running;
}

absl::Time ProcessTable::LastUsedIn(const std::string& session_id) const {
  absl::MutexLock lock(&mu_);
  absl::Time last = absl::InfinitePast();
  for (const auto& [_, process] : processes_) {
    if (process->session_id() == session_id) last = std::max(last, process->last_used());
  }
  return last;
}

void ProcessTable::ReapIdle(absl::Time now) {
  for (const auto& process : TakeIf([&](const Process& p) { return p.IdleAt(now); })) {
    process->Kill(absl::Now() + kKillWait);
  }
}

void ProcessTable::KillAll() {
  std::vector<std::shared_ptr<Process>> all = TakeIf([](const Process&) { return true; });
  // Every kill is asked for before any is waited for.
  absl::Time now = absl::Now();
  for (const auto& process : all) process->Kill(now);
  for (const auto& process : all) process->Kill(now + kKillWait);
}

absl::StatusOr<ProcessTable::Waiter> ProcessTable::Wait(const std::string& owner) {
  absl::MutexLock lock(&mu_);
  int& waiting = waiting_[owner];
  if (waiting >= bounds_.max_waiting_per_owner) {
    return absl::ResourceExhaustedError(absl::StrCat(
        owner, " has ", waiting, " reads waiting for output already; wait for fewer at "
        "once"));
  }
  ++waiting;
  return Waiter(this, owner);
}

ProcessTable::Waiter::~Waiter() {
  if (table_ == nullptr) return;
  absl::MutexLock lock(&table_->mu_);
  if (--table_->waiting_[owner_] == 0) table_->waiting_.erase(owner_);
}

}  // namespace sandboxd

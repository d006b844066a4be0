#include "server/exec_stream.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/utf8.h"
#include "base/write_all.h"
#include "server/response.h"
#include "server/status.h"

namespace sandboxd {
namespace {

namespace v1 = ::sandbox::v1;

// How long the output and result may take to reach a client once the command is gone;
// a client that takes longer has the call cancelled. The command itself never waits
// past its timeout for a client.
constexpr absl::Duration kResultWait = absl::Seconds(5);
// At most this much output waits for a slow client (a few of the worker's reads).
constexpr size_t kOutboxBytes = size_t{4} << 20;

bool MakePipe(UniqueFd& read_end, UniqueFd& write_end, int flags) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC | flags) != 0) return false;
  read_end.Reset(fds[0]);
  write_end.Reset(fds[1]);
  return true;
}

}  // namespace

int SignalNumber(v1::Signal signal) {
  switch (signal) {
    case v1::SIGNAL_INTERRUPT:
      return SIGINT;
    case v1::SIGNAL_TERMINATE:
      return SIGTERM;
    case v1::SIGNAL_KILL:
      return SIGKILL;
    case v1::SIGNAL_HANGUP:
      return SIGHUP;
    case v1::SIGNAL_QUIT:
      return SIGQUIT;
    default:
      return 0;
  }
}

ExecStreamCall::ExecStreamCall(grpc::CallbackServerContext& context, const grpc::Status& status)
    : context_(context), outbox_([this](const auto& m) { StartWriteOf(m); }, kOutboxBytes) {
  absl::MutexLock lock(&mu_);
  FinishOnce(status);
}

ExecStreamCall::ExecStreamCall(grpc::CallbackServerContext& context, const Runner& runner,
                               ExecStreamHooks hooks, RunQueue::Place place, Alarms& alarms,
                               absl::Duration start_wait)
    : context_(context),
      runner_(&runner),
      hooks_(std::move(hooks)),
      place_(std::move(place)),
      outbox_([this](const auto& m) { StartWriteOf(m); }, kOutboxBytes) {
  start_alarm_.emplace(alarms.Set(absl::Now() + start_wait, [this, start_wait] {
    absl::MutexLock lock(&mu_);
    if (started_ || finished_) return;
    absl::Status late = absl::DeadlineExceededError(absl::StrCat(
        "no start message came within ", absl::FormatDuration(start_wait),
        "; send {\"start\": ExecRequest} first, as soon as the stream opens"));
    Refuse(late);
  }));
  absl::MutexLock lock(&mu_);
  ReadMore();
}

void ExecStreamCall::OnReadDone(bool ok) {
  // Not under mu_: a firing alarm holds the alarms' lock, then takes mu_.
  start_alarm_.reset();
  absl::MutexLock lock(&mu_);
  reading_ = false;
  if (finished_) return;
  if (!ok && started_) {  // Half-closed (or cancelled): no more stdin.
    stdin_closed_ = true;
    return;
  }
  absl::Status refused;
  if (!ok) {
    refused = context_.IsCancelled()
                  ? absl::CancelledError("the client cancelled the call")
                  : absl::InvalidArgumentError(
                        "the stream ended before its start message; send {\"start\": "
                        "ExecRequest} first");
  } else if (!started_ && !read_.has_start()) {
    refused = absl::InvalidArgumentError(
        "the first ExecStream message must be `start`, holding the request");
  }
  if (!refused.ok()) {
    Refuse(refused);
    return;
  }
  if (started_) {
    Take();
  } else {
    Begin();
  }
  ReadMore();
}

void ExecStreamCall::Begin() {
  started_ = true;
  place_.reset();  // The run queue takes it from here.
  start_ = std::move(*read_.mutable_start());
  encoding_ = start_.output_encoding();
  if (!MakePipe(stdin_read_, stdin_write_, 0) ||
      !MakePipe(signal_read_, signal_write_, O_NONBLOCK)) {
    Refuse(absl::InternalError("cannot create the stream's pipes"));
    return;
  }
  run_thread_ = std::thread([this] { RunCommand(); });
}

void ExecStreamCall::Take() {
  const v1::ExecStreamRequest& message = read_;
  switch (message.message_case()) {
    case v1::ExecStreamRequest::kStdin:
      if (stdin_closed_) return;  // After close_stdin: there is nowhere for it to go.
      stdin_bytes_ += message.stdin().size();
      stdin_.push_back(std::move(*read_.mutable_stdin()));
      return;
    case v1::ExecStreamRequest::kCloseStdin:
      stdin_closed_ = true;
      return;
    case v1::ExecStreamRequest::kSignal:
      if (int number = SignalNumber(message.signal()); number != 0) {
        Signal(number);
      } else {
        Abort(absl::InvalidArgumentError(absl::StrCat(
            "signal ", static_cast<int>(message.signal()),
            " is not one this server delivers; use SIGNAL_INTERRUPT, SIGNAL_TERMINATE, "
            "SIGNAL_KILL, SIGNAL_HANGUP or SIGNAL_QUIT")));
      }
      return;
    case v1::ExecStreamRequest::kStart:
      Abort(absl::InvalidArgumentError(
          "a second start message: one ExecStream call runs one command; open another "
          "call for the next"));
      return;
    default:
      Abort(absl::InvalidArgumentError(
          "an ExecStream message with none of start, stdin, close_stdin or signal set "
          "(or only fields this server does not know)"));
      return;
  }
}

void ExecStreamCall::ReadMore() {
  if (finished_ || reading_ || aborted_ || stdin_bytes_ >= kStdinBufferBytes) return;
  reading_ = true;
  StartRead(&read_);
}

void ExecStreamCall::Abort(absl::Status status) {
  if (aborted_) return;
  misuse_ = std::move(status);
  aborted_ = true;
  // Right away; Stopped() would have the worker notice within its next check.
  Signal(SIGKILL);
}

void ExecStreamCall::Signal(int number) {
  // The pipe holds thousands of signals; a client that sends more loses some.
  unsigned char byte = static_cast<unsigned char>(number);
  ssize_t unused = write(signal_write_.get(), &byte, 1);
  (void)unused;
}

bool ExecStreamCall::TakeFinish() {
  if (finished_) return false;
  finished_ = true;
  return true;
}

void ExecStreamCall::Refuse(const absl::Status& status) {
  hooks_.refused(status);
  FinishOnce(ToGrpcStatus(status));
}

void ExecStreamCall::FinishOnce(const grpc::Status& status) {
  if (TakeFinish()) Finish(status);
}

void ExecStreamCall::StartWriteOf(const v1::ExecStreamResponse& message) {
  {
    absl::MutexLock lock(&mu_);
    if (!finished_) {
      StartWrite(&message);
      return;
    }
  }
  outbox_.WriteDone(false);  // The call is over: this write would never end.
}

void ExecStreamCall::OnWriteDone(bool ok) { outbox_.WriteDone(ok); }

void ExecStreamCall::OnCancel() { outbox_.Abandon(); }

void ExecStreamCall::OnDone() {
  start_alarm_.reset();
  // The run thread's last act was Finish, so this waits for it only to return.
  if (run_thread_.joinable()) run_thread_.join();
  delete this;
}

bool ExecStreamCall::Stopped() const { return aborted_ || context_.IsCancelled(); }

void ExecStreamCall::RunCommand() {
  std::thread stdin_thread([this] { FeedStdin(); });
  absl::Status status = AdmitAndRun();
  {
    absl::MutexLock lock(&mu_);
    run_over_ = true;
  }
  // The command is gone: a stdin write blocked on it fails once no read end is left.
  stdin_read_.Reset();
  stdin_thread.join();
  bool delivered = !dropped_output_ &&
                   outbox_.Drain(std::min(absl::Now() + kResultWait,
                                          absl::FromChrono(context_.deadline())));
  bool finish;
  {
    absl::MutexLock lock(&mu_);
    if (!misuse_.ok()) status = misuse_;
    finish = TakeFinish();
  }
  if (!status.ok() && !reported_) hooks_.refused(status);
  if (!delivered) context_.TryCancel();  // Output was lost, or would never arrive.
  // Last: the call may be gone once this returns.
  if (finish) Finish(delivered ? ToGrpcStatus(status) : grpc::Status::CANCELLED);
}

absl::Status ExecStreamCall::AdmitAndRun() {
  absl::StatusOr<Admitted> admitted = hooks_.admit(start_, [this] { return Stopped(); });
  if (!admitted.ok()) return admitted.status();
  const Plan& plan = admitted->plan;
  RunIo& io = admitted->io;
  io.stdin_fd = stdin_read_.get();
  io.signal_fd = signal_read_.get();
  io.on_output = [this](int fd, uint64_t offset, absl::string_view data) {
    SendOutput(fd, offset, data);
  };
  // A client that does not read holds the command back only until its timeout.
  give_up_at_ = absl::Now() + io.timeout;
  absl::StatusOr<RunResult> result = runner_->Run(plan, io);
  if (!result.ok()) return result.status();
  if (aborted_) return absl::OkStatus();  // RunCommand ends the call with why.
  FlushHeldBack();
  v1::ExecStreamResponse last;
  FillResponse(plan, *result, encoding_, *last.mutable_result());
  Send(std::move(last));
  hooks_.ran(*result);
  reported_ = true;
  return absl::OkStatus();
}

bool ExecStreamCall::StdinReady() const {
  return !stdin_.empty() || stdin_closed_ || run_over_;
}

void ExecStreamCall::FeedStdin() {
  bool open = WriteAll(stdin_write_.get(), start_.stdin());
  for (;;) {
    std::string chunk;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &ExecStreamCall::StdinReady));
      if (stdin_.empty() || run_over_) break;
      chunk = std::move(stdin_.front());
      stdin_.pop_front();
    }
    // Once the command has closed its stdin, the rest is dropped as it comes.
    open = open && WriteAll(stdin_write_.get(), chunk);
    absl::MutexLock lock(&mu_);
    stdin_bytes_ -= chunk.size();
    ReadMore();
  }
  stdin_write_.Reset();  // EOF for the command.
}

void ExecStreamCall::SendOutput(int fd, uint64_t offset, absl::string_view data) {
  v1::ExecStreamResponse message;
  v1::OutputChunk& chunk = *message.mutable_output();
  chunk.set_stream(fd == 1 ? v1::STDOUT : v1::STDERR);
  if (encoding_ != v1::OUTPUT_TEXT) {
    chunk.set_offset(offset);
    chunk.set_data(data.data(), data.size());
    Send(std::move(message));
    return;
  }
  std::string bytes = held_back_[fd];
  bytes.append(data.data(), data.size());
  chunk.set_offset(offset - held_back_[fd].size());
  size_t keep = bytes.size() - CutOffUtf8Suffix(bytes);
  held_back_[fd] = bytes.substr(keep);
  held_back_offset_[fd] = offset + data.size() - held_back_[fd].size();
  if (keep == 0) return;
  chunk.set_text(SanitizeUtf8(absl::string_view(bytes).substr(0, keep)));
  Send(std::move(message));
}

void ExecStreamCall::Send(v1::ExecStreamResponse message) {
  if (!outbox_.Put(std::move(message), give_up_at_)) dropped_output_ = true;
}

void ExecStreamCall::FlushHeldBack() {
  for (int fd : {1, 2}) {
    if (held_back_[fd].empty()) continue;
    std::string rest = std::move(held_back_[fd]);
    held_back_[fd].clear();
    v1::ExecStreamResponse message;
    v1::OutputChunk& chunk = *message.mutable_output();
    chunk.set_stream(fd == 1 ? v1::STDOUT : v1::STDERR);
    chunk.set_offset(held_back_offset_[fd]);
    chunk.set_text(SanitizeUtf8(rest));
    Send(std::move(message));
  }
}

}  // namespace sandboxd

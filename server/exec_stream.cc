#include "server/exec_stream.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "absl/status/status.h"
#include "server/response.h"
#include "server/utf8.h"

namespace sandboxd {
namespace {

namespace v1 = ::sandbox::v1;

// How long a client may keep the stream open after the result before the call ends.
constexpr absl::Duration kHalfCloseWait = absl::Seconds(5);
// How long past the command's timeout the output and result may take to be written.
constexpr absl::Duration kStuckWriteGrace = absl::Seconds(5);
// At most this much output waits for a slow client (a few of the worker's reads).
constexpr size_t kOutboxBytes = size_t{4} << 20;

bool MakePipe(UniqueFd& read_end, UniqueFd& write_end) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return false;
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

ExecStreamSession::ExecStreamSession(grpc::ServerContext& context, ExecStreamIo& io,
                                     v1::OutputEncoding encoding)
    : context_(context),
      io_(io),
      encoding_(encoding),
      outbox_([&io](const v1::ExecStreamResponse& message) { return io.Write(message); },
              kOutboxBytes) {}

absl::StatusOr<RunResult> ExecStreamSession::Run(const Runner& runner, Plan plan,
                                                 const std::string& initial_stdin) {
  if (!MakePipe(stdin_read_, stdin_write_) || !MakePipe(signal_read_, signal_write_)) {
    return absl::InternalError("cannot create the stream's pipes");
  }
  fcntl(signal_read_.get(), F_SETFL, O_NONBLOCK);
  plan.launch.stdin_fd = stdin_read_.get();
  plan.launch.signal_fd = signal_read_.get();
  plan.launch.on_output = [this](int fd, uint64_t offset, absl::string_view data) {
    SendOutput(fd, offset, data);
  };

  std::thread reader([this, &initial_stdin] { ReadClient(initial_stdin); });
  // Output waits for a slow client at most this long: past it, the worker must be free
  // to kill the command at its timeout.
  give_up_at_ = absl::Now() + plan.launch.timeout + kStuckWriteGrace;
  absl::StatusOr<RunResult> result = runner.Run(plan);
  // The command is gone: a reader blocked writing its stdin gets EPIPE once our own
  // copy of the read end is closed too.
  stdin_read_.Reset();
  if (result.ok()) {
    FlushHeldBack();
    v1::ExecStreamResponse last;
    FillResponse(plan, *result, encoding_, *last.mutable_result());
    Send(std::move(last));
  }
  // Output was dropped, or the client did not take it all in time: the result would
  // be a lie or would never arrive, so the call ends (and the writer thread with it).
  if (dropped_output_ || !outbox_.Finish(give_up_at_)) context_.TryCancel();
  StopReading(reader);
  return result;
}

void ExecStreamSession::ReadClient(const std::string& initial_stdin) {
  WriteStdin(initial_stdin);
  v1::ExecStreamRequest message;
  while (io_.Read(&message)) {
    switch (message.message_case()) {
      case v1::ExecStreamRequest::kStdin:
        WriteStdin(message.stdin());
        break;
      case v1::ExecStreamRequest::kCloseStdin:
        stdin_write_.Reset();
        break;
      case v1::ExecStreamRequest::kSignal:
        if (int number = SignalNumber(message.signal()); number != 0) {
          unsigned char byte = static_cast<unsigned char>(number);
          ssize_t unused = write(signal_write_.get(), &byte, 1);
          (void)unused;
        }
        break;
      default:
        break;  // A second start, or a field this server does not know: ignored.
    }
  }
  // Half-closed (or cancelled, which the worker notices by itself): EOF on stdin.
  stdin_write_.Reset();
  reader_done_.Notify();
}

void ExecStreamSession::WriteStdin(absl::string_view data) {
  while (!data.empty() && stdin_write_.valid()) {
    ssize_t n = write(stdin_write_.get(), data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      stdin_write_.Reset();  // The command closed its stdin, or is gone.
      return;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
}

void ExecStreamSession::SendOutput(int fd, uint64_t offset, absl::string_view data) {
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

void ExecStreamSession::Send(v1::ExecStreamResponse message) {
  if (!outbox_.Put(std::move(message), give_up_at_)) dropped_output_ = true;
}

void ExecStreamSession::FlushHeldBack() {
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

void ExecStreamSession::StopReading(std::thread& reader) {
  if (!reader_done_.WaitForNotificationWithTimeout(kHalfCloseWait)) context_.TryCancel();
  reader.join();
}

}  // namespace sandboxd

#include "client/stream_exec.h"

#include <unistd.h>

#include <cerrno>
#include <memory>
#include <thread>

#include <grpcpp/client_context.h>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "base/write_all.h"

namespace sandboxd {
namespace {

namespace v1 = ::sandbox::v1;
using Stream = grpc::ClientReaderWriter<v1::ExecStreamRequest, v1::ExecStreamResponse>;

// The write side of the stream, shared with the stdin and signal threads. Those threads
// are never joined (they block in read and sigwait until the process exits), so this
// outlives the call, and once closed it never touches the stream again.
class Writer {
 public:
  explicit Writer(Stream* stream) : stream_(stream) {}

  void Send(const v1::ExecStreamRequest& message) {
    absl::MutexLock lock(&mu_);
    if (stream_ != nullptr) stream_->Write(message);
  }
  // Half-closes the stream, once; later Sends do nothing.
  void Close() {
    absl::MutexLock lock(&mu_);
    if (stream_ != nullptr) stream_->WritesDone();
    stream_ = nullptr;
  }

 private:
  absl::Mutex mu_;
  Stream* stream_ ABSL_GUARDED_BY(mu_);
};

v1::Signal ToProto(int signal) {
  switch (signal) {
    case SIGINT:
      return v1::SIGNAL_INTERRUPT;
    case SIGTERM:
      return v1::SIGNAL_TERMINATE;
    case SIGHUP:
      return v1::SIGNAL_HANGUP;
    case SIGQUIT:
      return v1::SIGNAL_QUIT;
    default:
      return v1::SIGNAL_UNSPECIFIED;
  }
}

void PumpStdin(std::shared_ptr<Writer> writer) {
  char buf[65536];
  for (;;) {
    ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    v1::ExecStreamRequest message;
    if (n <= 0) {
      message.set_close_stdin(true);
      writer->Send(message);
      return;
    }
    message.set_stdin(buf, static_cast<size_t>(n));
    writer->Send(message);
  }
}

[[noreturn]] void ForwardSignals(std::shared_ptr<Writer> writer, sigset_t signals) {
  for (;;) {
    int signal = 0;
    if (sigwait(&signals, &signal) != 0) continue;
    v1::ExecStreamRequest message;
    message.set_signal(ToProto(signal));
    writer->Send(message);
  }
}

}  // namespace

sigset_t ForwardedSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  for (int signal : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&signals, signal);
  return signals;
}

absl::StatusOr<v1::ExecResponse> StreamExec(const Connection& connection,
                                            const v1::ExecRequest& request, bool pass_stdin,
                                            const sigset_t& signals, bool collect) {
  auto stub = v1::SandboxService::NewStub(connection.NewChannel());
  grpc::ClientContext context;
  connection.Prepare(context);
  std::unique_ptr<Stream> stream = stub->ExecStream(&context);
  auto writer = std::make_shared<Writer>(stream.get());
  v1::ExecStreamRequest start;
  *start.mutable_start() = request;
  writer->Send(start);
  std::thread(ForwardSignals, writer, signals).detach();
  if (pass_stdin) {
    std::thread(PumpStdin, writer).detach();
  } else {
    v1::ExecStreamRequest close;
    close.set_close_stdin(true);
    writer->Send(close);
  }

  v1::ExecResponse result;
  std::string out, err;
  bool has_result = false;
  v1::ExecStreamResponse message;
  while (stream->Read(&message)) {
    if (message.has_result()) {
      result = message.result();
      has_result = true;
      writer->Close();
    } else {
      const v1::OutputChunk& chunk = message.output();
      bool is_err = chunk.stream() == v1::STDERR;
      if (collect) {
        (is_err ? err : out) += chunk.data();
      } else {
        WriteAll(is_err ? STDERR_FILENO : STDOUT_FILENO, chunk.data());
      }
    }
  }
  result.set_stdout(std::move(out));
  result.set_stderr(std::move(err));
  writer->Close();
  grpc::Status status = stream->Finish();
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                        status.error_message());
  }
  if (!has_result) return absl::InternalError("the server ended the stream without a result");
  return result;
}

}  // namespace sandboxd

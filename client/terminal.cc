#include "client/terminal.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "client/cli.h"
#include "client/exec_command.h"
#include "client/process_output.h"
#include "sandbox/v1/sandbox.grpc.pb.h"

namespace sandboxd {
namespace {

namespace v1 = ::sandbox::v1;

// The settings RawTerminal found, for RestoreNow, which signal handlers call: written
// before g_raw_active is set, and only read after.
termios g_saved_settings;
int g_raw_fd = -1;
volatile sig_atomic_t g_raw_active = 0;

constexpr int kFatalSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};

// The handler of a fatal signal while the terminal is raw: restore it, then die of the
// signal as before (SA_RESETHAND put the default action back; the signal, blocked while
// this runs, strikes again on return).
void RestoreAndDie(int signal) {
  RawTerminal::RestoreNow();
  raise(signal);
}

// How long one long-poll for output waits; the server answers as soon as some comes.
constexpr absl::Duration kOutputPoll = absl::Seconds(30);
// A write waits on the server for the command to take its input, at most 10 s.
constexpr absl::Duration kWriteTimeout = absl::Seconds(30);

// What the relay threads share with the main one. The input and signal threads are
// never joined (they block in read and sigwait until the process exits), so this
// outlives the call; once the relay has ended, they make no more calls: End waits for
// the calls under way and stops later ones, so that none runs while the process exits.
class Relay {
 public:
  Relay(const Connection& connection, std::string id)
      : connection_(connection),
        stub_(v1::SandboxService::NewStub(connection.NewChannel())),
        id_(std::move(id)) {}

  const std::string& id() const { return id_; }

  void Write(const std::string& data, bool close_stdin) {
    v1::WriteProcessRequest request;
    request.set_process_id(id_);
    request.set_data(data);
    request.set_close_stdin(close_stdin);
    Call([&](grpc::ClientContext* context) {
      v1::WriteProcessResponse response;
      // A command that has exited takes no more: the output loop is about to end.
      stub_->WriteProcess(context, request, &response);
    });
  }

  void Resize(const TerminalSize& size) {
    v1::ResizeTerminalRequest request;
    request.set_process_id(id_);
    request.set_rows(size.rows);
    request.set_cols(size.cols);
    Call([&](grpc::ClientContext* context) {
      v1::ResizeTerminalResponse response;
      stub_->ResizeTerminal(context, request, &response);
    });
  }

  void Signal(v1::Signal signal) {
    v1::SignalProcessRequest request;
    request.set_process_id(id_);
    request.set_signal(signal);
    Call([&](grpc::ClientContext* context) {
      v1::SignalProcessResponse response;
      stub_->SignalProcess(context, request, &response);
    });
  }

  void End() {
    absl::WriterMutexLock lock(&mu_);
    ended_ = true;
  }

 private:
  template <typename F>
  void Call(F call) {
    absl::ReaderMutexLock lock(&mu_);
    if (ended_) return;
    std::unique_ptr<grpc::ClientContext> context = NewContext(connection_, kWriteTimeout);
    call(context.get());
  }

  const Connection connection_;
  const std::unique_ptr<v1::SandboxService::Stub> stub_;
  const std::string id_;
  absl::Mutex mu_;
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
};

// Sends what is typed (or piped) on, as it comes: a read returns as soon as there is a
// byte (raw mode has VMIN 1, VTIME 0), and bytes typed during a call go in the next.
void PumpInput(std::shared_ptr<Relay> relay) {
  char buf[16384];
  for (;;) {
    ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // End of input (or a terminal that went away): on the remote terminal, its
      // end-of-file character.
      relay->Write("", /*close_stdin=*/true);
      return;
    }
    relay->Write(std::string(buf, static_cast<size_t>(n)), /*close_stdin=*/false);
  }
}

[[noreturn]] void HandleSignals(std::shared_ptr<Relay> relay, sigset_t signals, bool raw) {
  for (;;) {
    int signal = 0;
    if (sigwait(&signals, &signal) != 0) continue;
    switch (signal) {
      case SIGWINCH:
        relay->Resize(LocalTerminalSize());
        break;
      case SIGINT:
        relay->Signal(v1::SIGNAL_INTERRUPT);
        break;
      case SIGQUIT:
        relay->Signal(v1::SIGNAL_QUIT);
        break;
      default:
        if (!raw) {
          relay->Signal(signal == SIGHUP ? v1::SIGNAL_HANGUP : v1::SIGNAL_TERMINATE);
          break;
        }
        // This end is going away: hang the remote terminal up, as closing a terminal
        // does (a shell exits), put this one back, and go.
        relay->Signal(v1::SIGNAL_HANGUP);
        RawTerminal::RestoreNow();
        std::string message = absl::StrCat("\nsandboxctl: ", strsignal(signal),
                                           ": hung up process ", relay->id(), "\n");
        ssize_t ignored = write(STDERR_FILENO, message.data(), message.size());
        (void)ignored;
        _exit(128 + signal);
    }
  }
}

// Forgets the process once it has ended (or kills it when the relay failed), so that it
// holds none of the caller's process slots until its idle timeout.
void Forget(const Connection& connection, v1::SandboxService::Stub& stub, const std::string& id) {
  v1::KillProcessRequest request;
  request.set_process_id(id);
  v1::KillProcessResponse response;
  std::unique_ptr<grpc::ClientContext> context = NewContext(connection, absl::Seconds(5));
  stub.KillProcess(context.get(), request, &response);
}

}  // namespace

std::unique_ptr<RawTerminal> RawTerminal::Enter(int fd) {
  termios settings;
  if (!isatty(fd) || tcgetattr(fd, &settings) != 0) return nullptr;
  g_saved_settings = settings;
  g_raw_fd = fd;
  g_raw_active = 1;
  struct sigaction action = {};
  action.sa_handler = RestoreAndDie;
  action.sa_flags = SA_RESETHAND;
  sigemptyset(&action.sa_mask);
  for (int signal : kFatalSignals) sigaction(signal, &action, nullptr);
  cfmakeraw(&settings);
  if (tcsetattr(fd, TCSADRAIN, &settings) != 0) {
    RestoreNow();
    return nullptr;
  }
  return std::unique_ptr<RawTerminal>(new RawTerminal());
}

RawTerminal::~RawTerminal() {
  RestoreNow();
  for (int signal : kFatalSignals) ::signal(signal, SIG_DFL);
}

void RawTerminal::RestoreNow() {
  if (!g_raw_active) return;
  g_raw_active = 0;
  // TCSANOW, not TCSADRAIN: output that cannot drain (a stopped terminal) must not
  // keep the terminal raw.
  tcsetattr(g_raw_fd, TCSANOW, &g_saved_settings);
}

TerminalSize LocalTerminalSize() {
  TerminalSize size;
  for (int fd : {STDIN_FILENO, STDOUT_FILENO}) {
    winsize ws = {};
    if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
      size.rows = ws.ws_row;
      size.cols = ws.ws_col;
      break;
    }
  }
  return size;
}

sigset_t TerminalSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  for (int signal : {SIGWINCH, SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&signals, signal);
  return signals;
}

int RunOnTerminal(const Connection& connection, const v1::ExecRequest& request,
                  const sigset_t& signals) {
  // A stdout whose reader has gone must fail a write, not kill us with the terminal raw.
  ::signal(SIGPIPE, SIG_IGN);
  auto stub = v1::SandboxService::NewStub(connection.NewChannel());
  v1::StartProcessRequest start;
  *start.mutable_exec() = request;
  TerminalSize size = LocalTerminalSize();
  start.mutable_terminal()->set_rows(size.rows);
  start.mutable_terminal()->set_cols(size.cols);
  if (const char* term = std::getenv("TERM"); term != nullptr) {
    start.mutable_terminal()->set_term(term);
  }
  v1::ProcessOutput started;
  {
    std::unique_ptr<grpc::ClientContext> context = NewContext(connection, kCallTimeout);
    grpc::Status status = stub->StartProcess(context.get(), start, &started);
    if (!status.ok()) return RpcFailure(connection, status);
  }
  auto relay = std::make_shared<Relay>(connection, started.process_id());
  absl::StatusOr<v1::ProcessOutput> last = started;
  bool output_failed = false;
  int write_error = 0;
  {
    std::unique_ptr<RawTerminal> raw = RawTerminal::Enter(STDIN_FILENO);
    // A resize between LocalTerminalSize and here is a SIGWINCH still pending.
    std::thread(HandleSignals, relay, signals, raw != nullptr).detach();
    std::thread(PumpInput, relay).detach();
    auto write = [&](const v1::ProcessOutput& output) {
      output_failed = !WriteOutput(output);
      if (output_failed) write_error = errno;
      return !output_failed;
    };
    OutputOffsets offsets;
    offsets.out = started.stdout().next_offset();
    offsets.err = started.stderr().next_offset();
    if (write(started) && !Finished(started)) {
      last = ReadOutput(*stub, connection, relay->id(), offsets, kOutputPoll,
                        absl::InfiniteFuture(), /*follow=*/true, write);
    }
    relay->End();
  }  // The terminal is itself again before anything more is printed.
  if (!last.ok() || output_failed) {
    Forget(connection, *stub, relay->id());
    if (output_failed) return Fail(absl::StrCat("cannot write the output: ", strerror(write_error)));
    return RpcFailure(connection, last.status());
  }
  Forget(connection, *stub, relay->id());
  const v1::ExecResponse& result = last->result();
  if (result.termination() != v1::EXITED && !result.message().empty()) {
    std::cerr << "sandboxctl: " << result.message() << "\n";
  }
  return ExitCodeFor(result);
}

}  // namespace sandboxd

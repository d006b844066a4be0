// sandboxctl: the command-line client of sandboxd.
//
//   sandboxctl [--server=ADDR] exec [options] -- CMD [ARGS...]
//
// Streams the command's stdout and stderr to its own as they come, passes its stdin on,
// forwards Ctrl-C (and TERM, HUP, QUIT) to the command, and exits with the command's
// exit code (128 + signal when killed, 124 on timeout, 125 when it could not run).

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include "absl/strings/str_cat.h"
#include "client/args.h"
#include "client/exec_command.h"
#include "client/stream_exec.h"
#include "sandbox/v1/sandbox.grpc.pb.h"
#include "server/listen.h"

namespace sandboxd {
namespace {

namespace v1 = ::sandbox::v1;

const std::vector<OptionSpec> kGlobalOptions = {
    {"server", "ADDR",
     "sandboxd's address: unix:/path or HOST:PORT (default: $SANDBOXD_ADDRESS, else the "
     "server's default socket)"},
    {"help", "", "show this help"},
};

constexpr char kUsage[] =
    "Usage: sandboxctl [--server=ADDR] COMMAND [options]\n\n"
    "Commands:\n"
    "  exec [options] -- CMD [ARGS...]     run a command in the sandbox\n"
    "  explain [options] -- CMD [ARGS...]  show how the server would run it (bwrap argv,\n"
    "                                      seccomp mode, environment) without running it\n"
    "  capabilities                        what the server's host allows, and its backend\n\n"
    "Global options:\n";

int Fail(const std::string& message) {
  std::cerr << "sandboxctl: " << message << "\n";
  return kExitClientError;
}

std::string ServerAddress(const ParsedArgs& global) {
  if (global.Has("server")) return global.Get("server");
  const char* env = std::getenv("SANDBOXD_ADDRESS");
  if (env != nullptr && env[0] != '\0') return env;
  return DefaultListenAddress();
}

void ReportTruncation(const char* stream, bool truncated, uint64_t total) {
  if (!truncated) return;
  std::cerr << "sandboxctl: " << stream << " truncated: the command wrote " << total
            << " bytes, more than --output-limit\n";
}

// Builds the request of exec and explain from their words; sets `help` (and prints
// the help) when --help was asked for, and `pass_stdin` unless --no-stdin was.
absl::StatusOr<v1::ExecRequest> RequestFromWords(const std::string& command,
                                                 const std::vector<std::string>& words,
                                                 bool& help, bool& pass_stdin) {
  absl::StatusOr<ParsedArgs> args = ParseArgs(words, ExecOptions());
  if (!args.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(args.status().message(), " (see sandboxctl ", command, " --help)"));
  }
  help = args->Has("help");
  pass_stdin = !args->Has("no-stdin");
  if (help) {
    std::cout << "Usage: sandboxctl " << command << " [options] -- CMD [ARGS...]\n\n"
              << OptionsHelp(ExecOptions());
    return v1::ExecRequest();
  }
  char cwd[4096];
  if (getcwd(cwd, sizeof cwd) == nullptr) cwd[0] = '\0';
  return BuildExecRequest(*args, cwd);
}

int RpcFailure(const std::string& address, const grpc::Status& status) {
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    return Fail(absl::StrCat("cannot reach sandboxd at ", address, ": ", status.error_message(),
                             "\nIs the server running? Start it with tools/serve, or point "
                             "--server or $SANDBOXD_ADDRESS at it."));
  }
  return Fail(status.error_message());
}

int RpcFailure(const std::string& address, const absl::Status& status) {
  return RpcFailure(address, grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                                          std::string(status.message())));
}

int Exec(v1::SandboxService::Stub& stub, const std::string& address,
         const v1::ExecRequest& request, bool pass_stdin, const sigset_t& signals) {
  absl::StatusOr<v1::ExecResponse> response = StreamExec(stub, request, pass_stdin, signals);
  if (!response.ok()) return RpcFailure(address, response.status());
  ReportTruncation("stdout", response->stdout_truncated(), response->stdout_total_bytes());
  ReportTruncation("stderr", response->stderr_truncated(), response->stderr_total_bytes());
  if (response->termination() == v1::TIMED_OUT) {
    std::cerr << "sandboxctl: the command timed out and was killed\n";
  } else if (response->termination() == v1::CANCELLED) {
    std::cerr << "sandboxctl: the command was cancelled (the server is shutting down)\n";
  }
  return ExitCodeFor(*response);
}

int Explain(v1::SandboxService::Stub& stub, const std::string& address,
            const v1::ExecRequest& request) {
  grpc::ClientContext context;
  v1::ExplainResponse response;
  grpc::Status status = stub.Explain(&context, request, &response);
  if (!status.ok()) return RpcFailure(address, status);
  std::cout << FormatExplanation(response);
  return 0;
}

int Capabilities(const std::string& address) {
  auto stub = v1::SandboxService::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  v1::GetCapabilitiesResponse response;
  grpc::Status status = stub->GetCapabilities(&context, v1::GetCapabilitiesRequest(), &response);
  if (!status.ok()) return RpcFailure(address, status);
  std::cout << FormatCapabilities(response);
  return 0;
}

int RunCommand(const std::string& command, const std::string& address,
               const std::vector<std::string>& words) {
  bool help = false, pass_stdin = true;
  absl::StatusOr<v1::ExecRequest> request = RequestFromWords(command, words, help, pass_stdin);
  if (!request.ok()) return Fail(std::string(request.status().message()));
  if (help) return 0;
  // Forwarded signals are blocked before gRPC starts threads, which inherit the mask;
  // one thread takes them with sigwait.
  sigset_t signals = ForwardedSignals();
  if (command == "exec") pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  auto stub = v1::SandboxService::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  if (command == "explain") return Explain(*stub, address, *request);
  return Exec(*stub, address, *request, pass_stdin, signals);
}

int Main(int argc, char** argv) {
  std::vector<std::string> words(argv + 1, argv + argc);
  absl::StatusOr<ParsedArgs> global = ParseArgs(words, kGlobalOptions);
  if (!global.ok()) return Fail(std::string(global.status().message()));
  if (global->Has("help") || global->rest.empty() || global->rest[0] == "help") {
    std::cout << kUsage << OptionsHelp(kGlobalOptions);
    return global->rest.empty() && !global->Has("help") ? kExitClientError : 0;
  }
  const std::string& command = global->rest[0];
  std::vector<std::string> rest(global->rest.begin() + 1, global->rest.end());
  if (command == "exec" || command == "explain") {
    return RunCommand(command, ServerAddress(*global), rest);
  }
  if (command == "capabilities") return Capabilities(ServerAddress(*global));
  return Fail(absl::StrCat("unknown command \"", command, "\"; see sandboxctl --help"));
}

}  // namespace
}  // namespace sandboxd

int main(int argc, char** argv) { return sandboxd::Main(argc, argv); }

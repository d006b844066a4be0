// sandboxctl: the command-line client of sandboxd.
//
//   sandboxctl [global options] exec [options] -- CMD [ARGS...]
//
// Streams the command's stdout and stderr to its own as they come, passes its stdin on,
// forwards Ctrl-C (and TERM, HUP, QUIT) to the command, and exits with the command's
// exit code (128 + signal when killed, 124 on timeout, 125 when it could not run).

#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <string>
#include <vector>

#include <google/protobuf/util/json_util.h>
#include <grpcpp/client_context.h>

#include "absl/strings/str_cat.h"
#include "base/malloc_tuning.h"
#include "client/args.h"
#include "client/connection.h"
#include "client/exec_command.h"
#include "client/stream_exec.h"
#include "sandbox/v1/sandbox.grpc.pb.h"

namespace sandboxd {
namespace {

namespace v1 = ::sandbox::v1;

constexpr char kUsage[] =
    "Usage: sandboxctl [global options] COMMAND [options]\n\n"
    "Commands:\n"
    "  exec [options] -- CMD [ARGS...]     run a command in the sandbox\n"
    "  explain [options] -- CMD [ARGS...]  show how the server would run it (bwrap argv,\n"
    "                                      seccomp mode, environment) without running it\n"
    "  capabilities                        what the server's host allows, and its backend\n\n"
    "Run sandboxctl COMMAND --help for a command's options.\n\n"
    "Global options:\n";

int Fail(const std::string& message) {
  std::cerr << "sandboxctl: " << message << "\n";
  return kExitClientError;
}

int RpcFailure(const Connection& connection, grpc::StatusCode code, const std::string& message) {
  if (code == grpc::StatusCode::UNAVAILABLE) {
    return Fail(absl::StrCat("cannot reach sandboxd at ", connection.address(), ": ", message,
                             "\nIs the server running? Start it with tools/serve, or point "
                             "--server or $SANDBOXD_ADDRESS at it."));
  }
  return Fail(message);
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

// `message` as one line of JSON, field names as in the proto.
void PrintJson(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  if (!google::protobuf::util::MessageToJsonString(message, &json, options).ok()) return;
  std::cout << json << "\n";
}

int Exec(const Connection& connection, const v1::ExecRequest& request, bool pass_stdin,
         const sigset_t& signals, bool json) {
  absl::StatusOr<v1::ExecResponse> response =
      StreamExec(connection, request, pass_stdin, signals, /*collect=*/json);
  if (!response.ok()) {
    return RpcFailure(connection, static_cast<grpc::StatusCode>(response.status().code()),
                      std::string(response.status().message()));
  }
  if (json) {
    PreferText(*response);
    PrintJson(*response);
    return ExitCodeFor(*response);
  }
  // After the command's own output: what the proxy refused it.
  std::cerr << FormatDenials(*response);
  ReportTruncation("stdout", response->stdout_truncated(), response->stdout_total_bytes());
  ReportTruncation("stderr", response->stderr_truncated(), response->stderr_total_bytes());
  // How it ended, unless it simply exited: a limit, a signal, a program not found...
  if (response->termination() != v1::EXITED && !response->message().empty()) {
    std::cerr << "sandboxctl: " << response->message() << "\n";
  }
  return ExitCodeFor(*response);
}

int Explain(const Connection& connection, const v1::ExecRequest& request, bool json) {
  auto stub = v1::SandboxService::NewStub(connection.NewChannel());
  grpc::ClientContext context;
  connection.Prepare(context);
  v1::ExplainResponse response;
  grpc::Status status = stub->Explain(&context, request, &response);
  if (!status.ok()) return RpcFailure(connection, status.error_code(), status.error_message());
  if (json) {
    PrintJson(response);
  } else {
    std::cout << FormatExplanation(response);
  }
  return 0;
}

int Capabilities(const Connection& connection, bool json) {
  auto stub = v1::SandboxService::NewStub(connection.NewChannel());
  grpc::ClientContext context;
  connection.Prepare(context);
  v1::GetCapabilitiesResponse response;
  grpc::Status status = stub->GetCapabilities(&context, v1::GetCapabilitiesRequest(), &response);
  if (!status.ok()) return RpcFailure(connection, status.error_code(), status.error_message());
  if (json) {
    PrintJson(response);
  } else {
    std::cout << FormatCapabilities(response);
  }
  return 0;
}

int RunCommand(const std::string& command, const Connection& connection,
               const std::vector<std::string>& words, bool json) {
  bool help = false, pass_stdin = true;
  absl::StatusOr<v1::ExecRequest> request = RequestFromWords(command, words, help, pass_stdin);
  if (!request.ok()) return Fail(std::string(request.status().message()));
  if (help) return 0;
  if (command == "explain") return Explain(connection, *request, json);
  // Forwarded signals are blocked before gRPC starts threads, which inherit the mask;
  // one thread takes them with sigwait.
  sigset_t signals = ForwardedSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return Exec(connection, *request, pass_stdin, signals, json);
}

int Main(int argc, char** argv) {
  std::vector<std::string> words(argv + 1, argv + argc);
  absl::StatusOr<ParsedArgs> global = ParseArgs(words, Connection::Options());
  if (!global.ok()) return Fail(std::string(global.status().message()));
  if (global->Has("help") || global->rest.empty() || global->rest[0] == "help") {
    std::cout << kUsage << OptionsHelp(Connection::Options());
    return global->rest.empty() && !global->Has("help") ? kExitClientError : 0;
  }
  absl::StatusOr<Connection> connection = Connection::FromArgs(*global);
  if (!connection.ok()) return Fail(std::string(connection.status().message()));
  const std::string& command = global->rest[0];
  std::vector<std::string> rest(global->rest.begin() + 1, global->rest.end());
  bool json = global->Has("json");
  if (command == "exec" || command == "explain") {
    return RunCommand(command, *connection, rest, json);
  }
  if (command == "capabilities") {
    if (!rest.empty()) {
      std::cout << "Usage: sandboxctl capabilities\n\nPrints what the server's host allows.\n";
      return rest[0] == "--help" ? 0 : kExitClientError;
    }
    return Capabilities(*connection, json);
  }
  return Fail(absl::StrCat("unknown command \"", command, "\"; see sandboxctl --help"));
}

}  // namespace
}  // namespace sandboxd

int main(int argc, char** argv) {
  sandboxd::KeepLargeBuffersInHeap();
  return sandboxd::Main(argc, argv);
}

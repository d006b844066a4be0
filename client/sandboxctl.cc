// sandboxctl: the command-line client of sandboxd.
//
//   sandboxctl [global options] exec [options] -- CMD [ARGS...]
//
// Streams the command's stdout and stderr to its own as they come, passes its stdin on,
// forwards Ctrl-C (and TERM, HUP, QUIT) to the command, and exits with the command's
// exit code (128 + signal when killed, 124 on timeout, 125 when it could not run).
// With -t, the command runs on a terminal in the sandbox, driven from this one.
//
// Besides: processes that outlive a call (start, read, write, signal, resize, ps, kill),
// sessions (session create|close|ls), and files (cp, ls, cat, stat, mkdir, mv, rm).

#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include <grpcpp/client_context.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/malloc_tuning.h"
#include "client/args.h"
#include "client/cli.h"
#include "client/connection.h"
#include "client/exec_command.h"
#include "client/file_commands.h"
#include "client/process_commands.h"
#include "client/session_commands.h"
#include "client/stream_exec.h"
#include "client/terminal.h"
#include "sandbox/v1/sandbox.grpc.pb.h"

namespace sandboxd {
namespace {

namespace v1 = ::sandbox::v1;

constexpr char kUsageHead[] =
    "Usage: sandboxctl [global options] COMMAND [options]\n\n"
    "Commands:\n"
    "  exec [options] -- CMD [ARGS...]     run a command in the sandbox (-t: on a terminal)\n"
    "  explain [options] -- CMD [ARGS...]  show how the server would run it (bwrap argv,\n"
    "                                      seccomp mode, environment) without running it\n"
    "  capabilities                        what the server's host allows, and its backend\n";

constexpr char kUsageTail[] =
    "\nA path in the sandbox is written as the sandbox sees it (/work/a.txt); cp wants\n"
    "it with a leading ':' (sandboxctl cp ./a.txt :/work/a.txt). File commands run as a\n"
    "command would: writing needs --mode=workspace-write and a --writable root (or a\n"
    "--session, whose /tmp is writable).\n\n"
    "Run sandboxctl COMMAND --help for a command's options.\n\n"
    "Global options:\n";

// The options of `exec`: those of every command that runs one, and -t.
std::vector<OptionSpec> ExecOnlyOptions() {
  std::vector<OptionSpec> specs = ExecOptions();
  specs.insert(specs.end() - 1,  // Before --help.
               OptionSpec{"tty", "",
                          "run on a terminal in the sandbox, driven from this one (raw mode; "
                          "Ctrl-C goes to the command's terminal)",
                          false, false, 't'});
  return specs;
}

std::vector<const std::vector<Subcommand>*> Tables() {
  return {&ProcessCommands(), &SessionCommands(), &FileCommands()};
}

std::string Usage() {
  std::string out = kUsageHead;
  for (const std::vector<Subcommand>* table : Tables()) {
    out += "\n";
    for (const Subcommand& command : *table) {
      std::string left = absl::StrCat(command.name, " ", command.synopsis);
      if (left.size() > 34) {
        absl::StrAppendFormat(&out, "  %s\n  %-34s  %s\n", left, "", command.summary);
      } else {
        absl::StrAppendFormat(&out, "  %-34s  %s\n", left, command.summary);
      }
    }
  }
  return out + kUsageTail;
}

void ReportTruncation(const char* stream, bool truncated, uint64_t total) {
  if (!truncated) return;
  std::cerr << "sandboxctl: " << stream << " truncated: the command wrote " << total
            << " bytes, more than --output-limit\n";
}

// Builds the request of exec and explain from their words; sets `help` (and prints
// the help) when --help was asked for, `pass_stdin` unless --no-stdin was, and `tty`
// when -t was.
absl::StatusOr<v1::ExecRequest> RequestFromWords(const std::string& command,
                                                 const std::vector<std::string>& words,
                                                 bool& help, bool& pass_stdin, bool& tty) {
  const std::vector<OptionSpec> specs = command == "exec" ? ExecOnlyOptions() : ExecOptions();
  absl::StatusOr<ParsedArgs> args = ParseArgs(words, specs);
  if (!args.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(args.status().message(), " (see sandboxctl ", command, " --help)"));
  }
  help = args->Has("help");
  pass_stdin = !args->Has("no-stdin");
  tty = args->Has("tty");
  if (help) {
    std::cout << "Usage: sandboxctl " << command << " [options] -- CMD [ARGS...]\n\n"
              << OptionsHelp(specs);
    return v1::ExecRequest();
  }
  char cwd[4096];
  if (getcwd(cwd, sizeof cwd) == nullptr) cwd[0] = '\0';
  return BuildExecRequest(*args, cwd);
}

int Exec(const Connection& connection, const v1::ExecRequest& request, bool pass_stdin,
         const sigset_t& signals, bool json) {
  absl::StatusOr<v1::ExecResponse> response =
      StreamExec(connection, request, pass_stdin, signals, /*collect=*/json);
  if (!response.ok()) return RpcFailure(connection, response.status());
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
  if (!status.ok()) return RpcFailure(connection, status);
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
  if (!status.ok()) return RpcFailure(connection, status);
  if (json) {
    PrintJson(response);
  } else {
    std::cout << FormatCapabilities(response);
  }
  return 0;
}

int RunCommand(const std::string& command, const Connection& connection,
               const std::vector<std::string>& words, bool json) {
  bool help = false, pass_stdin = true, tty = false;
  absl::StatusOr<v1::ExecRequest> request =
      RequestFromWords(command, words, help, pass_stdin, tty);
  if (!request.ok()) return Fail(std::string(request.status().message()));
  if (help) return 0;
  if (command == "explain") return Explain(connection, *request, json);
  if (tty) {
    if (json) return Fail("--json does not go with exec -t");
    if (!pass_stdin) return Fail("--no-stdin does not go with exec -t");
    // As below; one thread takes them with sigwait.
    sigset_t signals = TerminalSignals();
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    return RunOnTerminal(connection, *request, signals);
  }
  // Forwarded signals are blocked before gRPC starts threads, which inherit the mask;
  // one thread takes them with sigwait.
  sigset_t signals = ForwardedSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return Exec(connection, *request, pass_stdin, signals, json);
}

// The command of the table named by the first word (two for "session ..."), or nullptr;
// `used` says how many words its name took.
const Subcommand* FindSubcommand(const std::vector<std::string>& words, size_t& used) {
  for (const std::vector<Subcommand>* table : Tables()) {
    for (const Subcommand& command : *table) {
      std::string name = words[0];
      used = 1;
      if (name == "session" && words.size() > 1) {
        name = absl::StrCat(name, " ", words[1]);
        used = 2;
      }
      if (name == command.name) return &command;
    }
  }
  return nullptr;
}

int Main(int argc, char** argv) {
  std::vector<std::string> words(argv + 1, argv + argc);
  absl::StatusOr<ParsedArgs> global = ParseArgs(words, Connection::Options());
  if (!global.ok()) return Fail(std::string(global.status().message()));
  if (global->Has("help") || global->rest.empty() || global->rest[0] == "help") {
    std::cout << Usage() << OptionsHelp(Connection::Options());
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
  size_t used = 0;
  if (const Subcommand* found = FindSubcommand(global->rest, used); found != nullptr) {
    std::vector<std::string> after(global->rest.begin() + static_cast<std::ptrdiff_t>(used),
                                   global->rest.end());
    return found->run(*found, *connection, after, json);
  }
  if (command == "session") {
    return Fail("usage: sandboxctl session create|close|ls (see sandboxctl --help)");
  }
  return Fail(absl::StrCat("unknown command \"", command, "\"; see sandboxctl --help"));
}

}  // namespace
}  // namespace sandboxd

int main(int argc, char** argv) {
  sandboxd::KeepLargeBuffersInHeap();
  return sandboxd::Main(argc, argv);
}

#include "client/process_commands.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "base/enum_name.h"
#include "base/utf8.h"
#include "client/exec_command.h"
#include "client/process_output.h"
#include "sandbox/v1/sandbox.grpc.pb.h"

namespace sandboxd {
namespace {

namespace v1 = ::sandbox::v1;
using Stub = v1::SandboxService::Stub;

std::unique_ptr<Stub> NewStub(const Connection& connection) {
  return v1::SandboxService::NewStub(connection.NewChannel());
}

// `sandboxctl read` and `start --wait` print what came: the bytes, then where to go on.
// In JSON, output that is valid UTF-8 shows as text (as exec's does), the rest as bytes
// (base64).
bool PrintOutput(const v1::ProcessOutput& output, bool json) {
  if (!json) return WriteOutput(output);
  v1::ProcessOutput shown = output;
  for (v1::ProcessStream* stream : {shown.mutable_stdout(), shown.mutable_stderr()}) {
    if (stream->data().empty() || !IsValidUtf8(stream->data())) continue;
    *stream->mutable_text() = std::move(*stream->mutable_data());
    stream->clear_data();
  }
  PrintJson(shown);
  return true;
}

int ExitCodeOfRead(const v1::ProcessOutput& output, bool json) {
  if (!json) std::cerr << "sandboxctl: " << FormatReadStatus(output) << "\n";
  return !output.running() && output.has_result() ? ExitCodeFor(output.result()) : 0;
}

int Start(const Subcommand& self, const Connection& connection,
          const std::vector<std::string>& words, bool json) {
  std::vector<OptionSpec> specs = Without(ExecOptions(), {"no-stdin", "help"});
  specs.push_back({"terminal", "ROWSxCOLS",
                   "run on a terminal of this size (default 24x80); its output is stdout",
                   false, /*optional_value=*/true});
  specs.push_back({"wait", "DURATION",
                   "wait up to this long (at most 60s) for the command to exit, then print "
                   "its output so far"});
  specs.push_back({"idle-timeout", "DURATION",
                   "kill (or, once exited, forget) it after this long without a call about "
                   "it (default and ceiling: the server's)"});
  int exit_code = 0;
  std::optional<ParsedArgs> args =
      ParseCommand(self, specs, words, /*interspersed=*/false, 1, -1, exit_code);
  if (!args.has_value()) return exit_code;
  char cwd[4096];
  if (getcwd(cwd, sizeof cwd) == nullptr) cwd[0] = '\0';
  v1::StartProcessRequest request;
  absl::StatusOr<v1::ExecRequest> exec = BuildExecRequest(*args, cwd);
  if (!exec.ok()) return Fail(std::string(exec.status().message()));
  *request.mutable_exec() = *std::move(exec);
  if (args->Has("terminal")) {
    v1::Terminal& terminal = *request.mutable_terminal();
    if (!args->Get("terminal").empty()) {
      absl::StatusOr<std::pair<uint32_t, uint32_t>> size = ParseTerminalSize(args->Get("terminal"));
      if (!size.ok()) return Fail(std::string(size.status().message()));
      terminal.set_rows(size->first);
      terminal.set_cols(size->second);
    }
    if (const char* term = std::getenv("TERM"); term != nullptr) terminal.set_term(term);
  }
  for (const char* option : {"wait", "idle-timeout"}) {
    absl::StatusOr<absl::Duration> duration =
        DurationOption(*args, option, absl::ZeroDuration());
    if (!duration.ok()) return Fail(std::string(duration.status().message()));
    if (!args->Has(option)) continue;
    SetDuration(*duration, std::string(option) == "wait" ? *request.mutable_wait()
                                                        : *request.mutable_idle_timeout());
  }
  auto stub = NewStub(connection);
  absl::Duration wait = absl::Seconds(request.wait().seconds());
  std::unique_ptr<grpc::ClientContext> context = NewContext(connection, kCallTimeout + wait);
  v1::ProcessOutput response;
  grpc::Status status = stub->StartProcess(context.get(), request, &response);
  if (!status.ok()) return RpcFailure(connection, status);
  if (json) {
    PrintOutput(response, json);
    return 0;
  }
  std::cout << response.process_id() << std::endl;
  if (!args->Has("wait")) return 0;
  PrintOutput(response, json);
  return ExitCodeOfRead(response, json);
}

int Read(const Subcommand& self, const Connection& connection,
         const std::vector<std::string>& words, bool json) {
  std::vector<OptionSpec> specs = {
      {"stdout-offset", "N", "read stdout from this offset (what the last read said)"},
      {"stderr-offset", "N", "read stderr from this offset"},
      {"wait", "DURATION",
       "wait up to this long for output (at most 60s), or with --until-exit for the exit"},
      {"until-exit", "", "print the output as it comes until the process exits (or --wait "
                         "passes); exit with its exit code"},
  };
  int exit_code = 0;
  std::optional<ParsedArgs> args =
      ParseCommand(self, specs, words, /*interspersed=*/true, 1, 1, exit_code);
  if (!args.has_value()) return exit_code;
  OutputOffsets offsets;
  for (auto [option, offset] : {std::pair{"stdout-offset", &offsets.out},
                                std::pair{"stderr-offset", &offsets.err}}) {
    if (args->Has(option) && !absl::SimpleAtoi(args->Get(option), offset)) {
      return Fail(absl::StrCat("--", option, " needs a whole number"));
    }
  }
  const bool until_exit = args->Has("until-exit");
  absl::StatusOr<absl::Duration> wait = DurationOption(
      *args, "wait", until_exit ? absl::InfiniteDuration() : absl::ZeroDuration());
  if (!wait.ok()) return Fail(std::string(wait.status().message()));
  if (!until_exit && *wait > kMaxPoll) {
    return Fail("--wait is at most 60s (or use --until-exit)");
  }
  auto stub = NewStub(connection);
  absl::StatusOr<v1::ProcessOutput> last = ReadOutput(
      *stub, connection, args->rest[0], offsets, kMaxPoll, absl::Now() + *wait, until_exit,
      [json](const v1::ProcessOutput& output) { return PrintOutput(output, json); });
  if (!last.ok()) return RpcFailure(connection, last.status());
  return ExitCodeOfRead(*last, json);
}

int Write(const Subcommand& self, const Connection& connection,
          const std::vector<std::string>& words, bool json) {
  std::vector<OptionSpec> specs = {
      {"close", "", "close its stdin afterwards (on a terminal: send Ctrl-D)"},
      {"newline", "", "add a newline to TEXT, as Enter would"},
  };
  int exit_code = 0;
  std::optional<ParsedArgs> args =
      ParseCommand(self, specs, words, /*interspersed=*/true, 1, 2, exit_code);
  if (!args.has_value()) return exit_code;
  auto stub = NewStub(connection);
  uint64_t written = 0;
  auto send = [&](const std::string& data, bool close) {
    v1::WriteProcessRequest request;
    request.set_process_id(args->rest[0]);
    request.set_data(data);
    request.set_close_stdin(close);
    v1::WriteProcessResponse response;
    std::unique_ptr<grpc::ClientContext> context = NewContext(connection, kCallTimeout);
    grpc::Status status = stub->WriteProcess(context.get(), request, &response);
    written += response.written();
    return status;
  };
  grpc::Status status;
  if (args->rest.size() == 2) {
    status = send(args->rest[1] + (args->Has("newline") ? "\n" : ""), args->Has("close"));
  } else {
    // Stdin, in pieces well below the server's largest request.
    char buf[65536];
    for (;;) {
      ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Fail(absl::StrCat("cannot read stdin: ", strerror(errno)));
      if (n == 0) break;
      status = send(std::string(buf, static_cast<size_t>(n)), false);
      if (!status.ok()) break;
    }
    if (status.ok() && args->Has("close")) status = send("", true);
  }
  if (!status.ok()) return RpcFailure(connection, status);
  if (json) {
    v1::WriteProcessResponse total;
    total.set_written(written);
    PrintJson(total);
  }
  return 0;
}

int Signal(const Subcommand& self, const Connection& connection,
           const std::vector<std::string>& words, bool) {
  int exit_code = 0;
  std::optional<ParsedArgs> args = ParseCommand(self, {}, words, true, 2, 2, exit_code);
  if (!args.has_value()) return exit_code;
  absl::StatusOr<v1::Signal> signal = ParseSignalName(args->rest[1]);
  if (!signal.ok()) return Fail(std::string(signal.status().message()));
  v1::SignalProcessRequest request;
  request.set_process_id(args->rest[0]);
  request.set_signal(*signal);
  v1::SignalProcessResponse response;
  std::unique_ptr<grpc::ClientContext> context = NewContext(connection, kCallTimeout);
  grpc::Status status = NewStub(connection)->SignalProcess(context.get(), request, &response);
  return status.ok() ? 0 : RpcFailure(connection, status);
}

int Resize(const Subcommand& self, const Connection& connection,
           const std::vector<std::string>& words, bool) {
  int exit_code = 0;
  std::optional<ParsedArgs> args = ParseCommand(self, {}, words, true, 3, 3, exit_code);
  if (!args.has_value()) return exit_code;
  absl::StatusOr<std::pair<uint32_t, uint32_t>> size =
      ParseTerminalSize(absl::StrCat(args->rest[1], "x", args->rest[2]));
  if (!size.ok()) return Fail(std::string(size.status().message()));
  v1::ResizeTerminalRequest request;
  request.set_process_id(args->rest[0]);
  request.set_rows(size->first);
  request.set_cols(size->second);
  v1::ResizeTerminalResponse response;
  std::unique_ptr<grpc::ClientContext> context = NewContext(connection, kCallTimeout);
  grpc::Status status = NewStub(connection)->ResizeTerminal(context.get(), request, &response);
  return status.ok() ? 0 : RpcFailure(connection, status);
}

int Ps(const Subcommand& self, const Connection& connection,
       const std::vector<std::string>& words, bool json) {
  int exit_code = 0;
  std::optional<ParsedArgs> args = ParseCommand(
      self, {{"session", "ID", "only this session's processes"}}, words, true, 0, 0, exit_code);
  if (!args.has_value()) return exit_code;
  v1::ListProcessesRequest request;
  request.set_session_id(args->Get("session"));
  v1::ListProcessesResponse response;
  std::unique_ptr<grpc::ClientContext> context = NewContext(connection, kCallTimeout);
  grpc::Status status = NewStub(connection)->ListProcesses(context.get(), request, &response);
  if (!status.ok()) return RpcFailure(connection, status);
  if (json) {
    PrintJson(response);
  } else {
    std::cout << FormatProcesses(response);
  }
  return 0;
}

int Kill(const Subcommand& self, const Connection& connection,
         const std::vector<std::string>& words, bool json) {
  int exit_code = 0;
  std::optional<ParsedArgs> args = ParseCommand(self, {}, words, true, 1, 1, exit_code);
  if (!args.has_value()) return exit_code;
  v1::KillProcessRequest request;
  request.set_process_id(args->rest[0]);
  v1::KillProcessResponse response;
  std::unique_ptr<grpc::ClientContext> context = NewContext(connection, kCallTimeout);
  grpc::Status status = NewStub(connection)->KillProcess(context.get(), request, &response);
  if (!status.ok()) return RpcFailure(connection, status);
  if (json) PrintJson(response);
  return 0;
}

// A process's state in one word or two: "running", "exited 3", "signaled 137".
std::string State(const v1::ProcessInfo& process) {
  if (process.running()) return "running";
  return absl::StrCat(LogName(process.termination()), " ", process.exit_code());
}

}  // namespace

absl::StatusOr<v1::Signal> ParseSignalName(const std::string& name) {
  std::string upper = absl::AsciiStrToUpper(name);
  absl::string_view bare = upper;
  absl::ConsumePrefix(&bare, "SIG");
  if (bare == "INT") return v1::SIGNAL_INTERRUPT;
  if (bare == "TERM") return v1::SIGNAL_TERMINATE;
  if (bare == "KILL") return v1::SIGNAL_KILL;
  if (bare == "HUP") return v1::SIGNAL_HANGUP;
  if (bare == "QUIT") return v1::SIGNAL_QUIT;
  return absl::InvalidArgumentError(
      absl::StrCat("signal \"", name, "\" is not INT, TERM, KILL, HUP or QUIT"));
}

absl::StatusOr<std::pair<uint32_t, uint32_t>> ParseTerminalSize(const std::string& text) {
  std::vector<std::string> parts = absl::StrSplit(text, 'x');
  uint32_t rows = 0, cols = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &rows) ||
      !absl::SimpleAtoi(parts[1], &cols) || rows == 0 || cols == 0 || rows > 10000 ||
      cols > 10000) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", text, "\" is not a terminal size: rows and columns between 1 and 10000"));
  }
  return std::pair{rows, cols};
}

std::string FormatProcesses(const v1::ListProcessesResponse& response) {
  std::vector<std::vector<std::string>> rows = {
      {"ID", "STATE", "TTY", "SESSION", "STARTED", "COMMAND"}};
  for (const v1::ProcessInfo& process : response.processes()) {
    std::string command;
    for (const std::string& arg : process.argv()) {
      absl::StrAppend(&command, command.empty() ? "" : " ", ShellQuote(arg));
    }
    rows.push_back({process.process_id(), State(process), process.terminal() ? "yes" : "no",
                    process.session_id().empty() ? "-" : process.session_id(),
                    FormatTimestamp(process.started()), command});
  }
  std::vector<size_t> widths(rows[0].size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      absl::StrAppend(&line, row[i]);
      if (i + 1 < row.size()) line.append(widths[i] - row[i].size() + 2, ' ');
    }
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

const std::vector<Subcommand>& ProcessCommands() {
  static const auto* commands = new std::vector<Subcommand>{
      {"start", "[--terminal[=ROWSxCOLS]] [--wait=D] [exec options] -- CMD [ARGS...]",
       "start a command that outlives this call; prints its id", Start},
      {"read", "ID [--stdout-offset=N] [--wait=D] [--until-exit]",
       "print a process's output, then (on stderr) where to read on", Read},
      {"write", "ID [TEXT] [--newline] [--close]",
       "write TEXT (without it: this stdin) to a process's stdin", Write},
      {"signal", "ID INT|TERM|KILL|HUP|QUIT",
       "signal a process (on a terminal: its foreground job)", Signal},
      {"resize", "ID ROWS COLS", "resize a process's terminal", Resize},
      {"ps", "[--session=ID]", "list your processes", Ps},
      {"kill", "ID", "kill a process's tree and forget it", Kill},
  };
  return *commands;
}

}  // namespace sandboxd

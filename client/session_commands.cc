#include "client/session_commands.h"

#include <unistd.h>

#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/exec_command.h"
#include "sandbox/v1/sandbox.grpc.pb.h"

namespace sandboxd {
namespace {

namespace v1 = ::sandbox::v1;

int Create(const Subcommand& self, const Connection& connection,
           const std::vector<std::string>& words, bool json) {
  std::vector<OptionSpec> specs = Without(ExecOptions(), {"session", "no-stdin", "help"});
  specs.push_back({"idle-timeout", "DURATION",
                   "close it after this long without a call naming it and with nothing "
                   "running in it (default and ceiling: the server's)"});
  int exit_code = 0;
  std::optional<ParsedArgs> args = ParseCommand(self, specs, words, true, 0, 0, exit_code);
  if (!args.has_value()) return exit_code;
  char cwd[4096];
  if (getcwd(cwd, sizeof cwd) == nullptr) cwd[0] = '\0';
  v1::CreateSessionRequest request;
  absl::StatusOr<v1::ExecRequest> defaults = BuildExecDefaults(*args, cwd);
  if (!defaults.ok()) return Fail(std::string(defaults.status().message()));
  *request.mutable_defaults() = *std::move(defaults);
  absl::StatusOr<absl::Duration> idle =
      DurationOption(*args, "idle-timeout", absl::ZeroDuration());
  if (!idle.ok()) return Fail(std::string(idle.status().message()));
  if (args->Has("idle-timeout")) SetDuration(*idle, *request.mutable_idle_timeout());
  v1::Session response;
  std::unique_ptr<grpc::ClientContext> context = NewContext(connection, kCallTimeout);
  grpc::Status status =
      v1::SandboxService::NewStub(connection.NewChannel())->CreateSession(context.get(), request,
                                                                          &response);
  if (!status.ok()) return RpcFailure(connection, status);
  if (json) {
    PrintJson(response);
  } else {
    std::cout << response.session_id() << "\n";
  }
  return 0;
}

int Close(const Subcommand& self, const Connection& connection,
          const std::vector<std::string>& words, bool) {
  int exit_code = 0;
  std::optional<ParsedArgs> args = ParseCommand(self, {}, words, true, 1, 1, exit_code);
  if (!args.has_value()) return exit_code;
  v1::CloseSessionRequest request;
  request.set_session_id(args->rest[0]);
  v1::CloseSessionResponse response;
  std::unique_ptr<grpc::ClientContext> context = NewContext(connection, kCallTimeout);
  grpc::Status status =
      v1::SandboxService::NewStub(connection.NewChannel())->CloseSession(context.get(), request,
                                                                         &response);
  return status.ok() ? 0 : RpcFailure(connection, status);
}

int List(const Subcommand& self, const Connection& connection,
         const std::vector<std::string>& words, bool json) {
  int exit_code = 0;
  std::optional<ParsedArgs> args = ParseCommand(self, {}, words, true, 0, 0, exit_code);
  if (!args.has_value()) return exit_code;
  v1::ListSessionsResponse response;
  std::unique_ptr<grpc::ClientContext> context = NewContext(connection, kCallTimeout);
  grpc::Status status = v1::SandboxService::NewStub(connection.NewChannel())
                            ->ListSessions(context.get(), v1::ListSessionsRequest(), &response);
  if (!status.ok()) return RpcFailure(connection, status);
  if (json) {
    PrintJson(response);
  } else {
    std::cout << FormatSessions(response);
  }
  return 0;
}

}  // namespace

std::string FormatSessions(const v1::ListSessionsResponse& response) {
  size_t width = 2;
  for (const v1::Session& session : response.sessions()) {
    width = std::max(width, session.session_id().size());
  }
  std::string out = absl::StrFormat("%-*s  %7s  %12s  %s\n", width, "ID", "RUNNING",
                                    "IDLE-TIMEOUT", "CREATED");
  for (const v1::Session& session : response.sessions()) {
    absl::StrAppendFormat(&out, "%-*s  %7d  %11ds  %s\n", width, session.session_id(),
                          session.running_processes(), session.idle_timeout().seconds(),
                          FormatTimestamp(session.created()));
  }
  return out;
}

const std::vector<Subcommand>& SessionCommands() {
  static const auto* commands = new std::vector<Subcommand>{
      {"session create", "[exec options] [--idle-timeout=D]",
       "start a session (a /tmp, and defaults for the calls naming it); prints its id",
       Create},
      {"session close", "ID", "end a session: kill its processes, remove its /tmp", Close},
      {"session ls", "", "list your sessions", List},
  };
  return *commands;
}

}  // namespace sandboxd

// The service's calls about processes started by id and sessions: validation and
// conversion at the edge; the tables (sandbox/session/) keep the state.
#include <algorithm>
#include <cstdint>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/utf8.h"
#include "google/protobuf/util/time_util.h"
#include "sandbox/session/ids.h"
#include "server/exec_stream.h"
#include "server/response.h"
#include "server/service.h"
#include "server/status.h"

namespace sandboxd {
namespace {

namespace v1 = ::sandbox::v1;
using ::google::protobuf::util::TimeUtil;

// The longest a read may wait, and the most it returns of a stream.
constexpr absl::Duration kMaxReadWait = absl::Seconds(60);
constexpr uint64_t kMaxReadBytes = uint64_t{1} << 20;
// How long a write may wait for a command to take its input.
constexpr absl::Duration kMaxWriteWait = absl::Seconds(10);
constexpr uint32_t kDefaultRows = 24, kDefaultCols = 80;
constexpr char kDefaultTerm[] = "xterm-256color";

absl::Duration DurationOf(const google::protobuf::Duration& duration) {
  return absl::Seconds(duration.seconds()) + absl::Nanoseconds(duration.nanos());
}

// The timeout a request asks for when it names one and is within `most`, else `most`.
absl::StatusOr<absl::Duration> BoundedDuration(const google::protobuf::Duration& asked,
                                               bool set, absl::Duration most,
                                               const char* field, const char* flag) {
  absl::Duration duration = DurationOf(asked);
  if (!set || duration == absl::ZeroDuration()) return most;
  if (duration < absl::ZeroDuration() || duration > most) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " must lie between 0 and ", absl::FormatDuration(most), " (", flag, ")"));
  }
  return duration;
}

// How long a call may wait: 0 when it names nothing, at most kMaxReadWait.
absl::StatusOr<absl::Duration> WaitOf(const google::protobuf::Duration& asked) {
  absl::Duration wait = DurationOf(asked);
  if (wait < absl::ZeroDuration() || wait > kMaxReadWait) {
    return absl::InvalidArgumentError("wait must lie between 0 and 60s");
  }
  return wait;
}

// The call's deadline, or `most` from now, whichever comes first.
absl::Time DeadlineWithin(const grpc::ServerContext& context, absl::Duration most) {
  return std::min(absl::FromChrono(context.deadline()), absl::Now() + most);
}

// A call that names another replica's id also says which in its trailing metadata, for
// a router (or a person) to send it there.
grpc::Status Answer(grpc::ServerContext& context, const absl::Status& status,
                    const std::string& id) {
  if (absl::IsFailedPrecondition(status) && !ReplicaOf(id).empty()) {
    context.AddTrailingMetadata("sandboxd-replica", ReplicaOf(id));
  }
  return ToGrpcStatus(status);
}

void FillStream(const OutputRing::Slice& slice, uint64_t total, v1::OutputEncoding encoding,
                bool final, v1::ProcessStream& stream) {
  stream.set_offset(slice.offset);
  stream.set_lost_bytes(slice.lost);
  stream.set_total_bytes(total);
  size_t length = slice.data.size();
  if (encoding == v1::OUTPUT_TEXT) {
    // A character cut off at the end waits for the next read, unless none will come.
    if (!final || slice.offset + length < total) length -= CutOffUtf8Suffix(slice.data);
    stream.set_text(SanitizeUtf8(absl::string_view(slice.data).substr(0, length)));
  } else {
    stream.set_data(slice.data);
  }
  stream.set_next_offset(slice.offset + length);
}

// What `output` says of `process`, as ProcessOutput.
grpc::Status FillOutput(const Process& process, const Process::Output& output,
                        v1::OutputEncoding encoding, v1::ProcessOutput& response) {
  response.set_process_id(process.id());
  response.set_running(output.running);
  FillStream(output.out, output.out_total, encoding, !output.running, *response.mutable_stdout());
  FillStream(output.err, output.err_total, encoding, !output.running, *response.mutable_stderr());
  if (!output.outcome.has_value()) return grpc::Status::OK;
  if (!output.outcome->ok()) {
    return ToGrpcStatus(absl::Status(output.outcome->status().code(),
                                     absl::StrCat("the process could not run: ",
                                                  output.outcome->status().message())));
  }
  FillResponse(process.plan(), **output.outcome, encoding, *response.mutable_result());
  return grpc::Status::OK;
}

void FillInfo(const Process& process, v1::ProcessInfo& info) {
  info.set_process_id(process.id());
  for (const std::string& arg : process.argv()) info.add_argv(arg);
  info.set_terminal(process.terminal());
  info.set_session_id(process.session_id());
  *info.mutable_started() = TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(process.started()));
  Process::Output now =
      const_cast<Process&>(process).Read(std::numeric_limits<uint64_t>::max(),
                                         std::numeric_limits<uint64_t>::max(), 0,
                                         absl::InfinitePast(), false);
  info.set_running(now.running);
  info.set_stdout_total_bytes(now.out_total);
  info.set_stderr_total_bytes(now.err_total);
  if (now.outcome.has_value() && now.outcome->ok()) {
    info.set_termination((*now.outcome)->termination);
    info.set_exit_code((*now.outcome)->exit_code);
  }
}

void FillSession(const Session& session, int running, v1::Session& out) {
  out.set_session_id(session.id());
  SetDuration(session.idle_timeout(), *out.mutable_idle_timeout());
  out.set_running_processes(static_cast<uint32_t>(running));
  *out.mutable_created() = TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(session.created()));
}

}  // namespace

absl::StatusOr<ProcessTable*> SandboxServiceImpl::Processes() const {
  if (tables_.processes == nullptr) {
    return absl::FailedPreconditionError("this server keeps no processes by id");
  }
  return tables_.processes;
}

absl::StatusOr<SessionTable*> SandboxServiceImpl::Sessions() const {
  if (tables_.sessions == nullptr) return absl::FailedPreconditionError("this server keeps no sessions");
  return tables_.sessions;
}

std::shared_ptr<Process> SandboxServiceImpl::CallersProcess(grpc::ServerContext& context,
                                                            const std::string& id,
                                                            grpc::Status& refused) {
  absl::StatusOr<std::string> client = auth_.Authenticate(context);
  absl::StatusOr<ProcessTable*> processes = Processes();
  absl::StatusOr<std::shared_ptr<Process>> process =
      !client.ok() ? client.status()
      : !processes.ok() ? processes.status()
                        : (*processes)->Find(*client, id);
  if (process.ok()) return *std::move(process);
  refused = Answer(context, process.status(), id);
  return nullptr;
}

void SandboxServiceImpl::EndAgents() {
  if (tables_.sessions != nullptr) tables_.sessions->CloseAll();
  if (tables_.processes != nullptr) tables_.processes->KillAll();
}

grpc::Status SandboxServiceImpl::StartProcess(grpc::ServerContext* context,
                                              const v1::StartProcessRequest* request,
                                              v1::ProcessOutput* response) {
  CallRecord call(*this, "start_process", "StartProcess");
  absl::StatusOr<std::string> client = Identify(*context, call.log);
  if (!client.ok()) return Refuse(client.status(), call);
  absl::StatusOr<ProcessTable*> processes = Processes();
  if (!processes.ok()) return Refuse(processes.status(), call);
  if (queue_.closed()) return Refuse(RunQueue::Closed(), call);
  const v1::ExecRequest& exec = request->exec();
  if (!exec.argv().empty()) call.log.set_argv0(exec.argv(0));
  // A process's timeout bounds its whole life: without one, the longest allowed.
  v1::ExecRequest asked = exec;
  if (!asked.has_timeout()) SetDuration(LongestTimeoutFor(*client), *asked.mutable_timeout());
  const bool terminal = request->has_terminal();
  if (terminal && !asked.env().contains("TERM")) {
    (*asked.mutable_env())["TERM"] =
        request->terminal().term().empty() ? kDefaultTerm : request->terminal().term();
  }
  absl::StatusOr<Plan> plan = PlanFor(asked, *client);
  if (!plan.ok()) return Refuse(plan.status(), call);
  if (terminal) {
    uint32_t rows = request->terminal().rows(), cols = request->terminal().cols();
    if (rows > 10000 || cols > 10000) {
      return Refuse(absl::InvalidArgumentError("terminal rows and cols must be at most 10000"), call);
    }
    absl::Status s = UseHelper(*plan,
                               {"pty", absl::StrCat(rows == 0 ? kDefaultRows : rows),
                                absl::StrCat(cols == 0 ? kDefaultCols : cols), "--"},
                               /*command_follows=*/true);
    if (!s.ok()) return Refuse(s, call);
  }
  absl::StatusOr<absl::Duration> idle =
      BoundedDuration(request->idle_timeout(), request->has_idle_timeout(),
                      bounds_.process_idle, "idle_timeout", "--process_idle_timeout");
  if (!idle.ok()) return Refuse(idle.status(), call);
  absl::StatusOr<absl::Duration> wait = WaitOf(request->wait());
  if (!wait.ok()) return Refuse(wait.status(), call);
  ProcessSpec spec;
  spec.owner = *client;
  spec.session_id = exec.session_id();
  spec.argv.assign(exec.argv().begin(), exec.argv().end());
  spec.plan = *std::move(plan);
  spec.terminal = terminal;
  spec.initial_stdin = exec.stdin();
  spec.idle_timeout = *idle;
  absl::StatusOr<std::shared_ptr<Process>> process = (*processes)->Start(std::move(spec));
  if (!process.ok()) return Refuse(process.status(), call);
  absl::Time until =
      *wait == absl::ZeroDuration() ? absl::InfinitePast() : DeadlineWithin(*context, *wait);
  Process::Output output = (*process)->Read(0, 0, kMaxReadBytes, until, /*until_exit=*/true,
                                            [context] { return context->IsCancelled(); });
  call.log.set_status("OK");
  WriteLog(call.log);
  return FillOutput(**process, output, exec.output_encoding(), *response);
}

grpc::Status SandboxServiceImpl::ReadProcess(grpc::ServerContext* context,
                                             const v1::ReadProcessRequest* request,
                                             v1::ProcessOutput* response) {
  grpc::Status refused;
  std::shared_ptr<Process> process = CallersProcess(*context, request->process_id(), refused);
  if (process == nullptr) return refused;
  absl::StatusOr<absl::Duration> wait = WaitOf(request->wait());
  if (!wait.ok()) return ToGrpcStatus(wait.status());
  if (request->max_bytes() > kMaxReadBytes) {
    return ToGrpcStatus(absl::InvalidArgumentError("max_bytes must be at most 1 MiB"));
  }
  bool waits = *wait > absl::ZeroDuration();
  std::optional<ProcessTable::Waiter> waiter;
  if (waits) {
    absl::StatusOr<ProcessTable::Waiter> taken = tables_.processes->Wait(process->owner());
    if (!taken.ok()) return ToGrpcStatus(taken.status());
    waiter.emplace(*std::move(taken));
  }
  size_t max_bytes = request->max_bytes() == 0 ? kMaxReadBytes : request->max_bytes();
  Process::Output output = process->Read(
      request->stdout_offset(), request->stderr_offset(), max_bytes,
      waits ? DeadlineWithin(*context, *wait) : absl::InfinitePast(), request->until_exit(),
      [context] { return context->IsCancelled(); });
  return FillOutput(*process, output, request->output_encoding(), *response);
}

grpc::Status SandboxServiceImpl::WriteProcess(grpc::ServerContext* context,
                                              const v1::WriteProcessRequest* request,
                                              v1::WriteProcessResponse* response) {
  grpc::Status refused;
  std::shared_ptr<Process> process = CallersProcess(*context, request->process_id(), refused);
  if (process == nullptr) return refused;
  if (!request->data().empty() && !request->text().empty()) {
    return ToGrpcStatus(absl::InvalidArgumentError("set data or text, not both"));
  }
  const std::string& data = request->data().empty() ? request->text() : request->data();
  absl::StatusOr<size_t> written = process->Write(data, request->close_stdin(),
                                                     DeadlineWithin(*context, kMaxWriteWait));
  if (!written.ok()) return ToGrpcStatus(written.status());
  response->set_written(*written);
  return grpc::Status::OK;
}

grpc::Status SandboxServiceImpl::SignalProcess(grpc::ServerContext* context,
                                               const v1::SignalProcessRequest* request,
                                               v1::SignalProcessResponse*) {
  int number = SignalNumber(request->signal());
  if (number == 0) {
    return ToGrpcStatus(absl::InvalidArgumentError(absl::StrCat(
        "signal ", static_cast<int>(request->signal()), " is not one of SIGNAL_INTERRUPT, "
        "SIGNAL_TERMINATE, SIGNAL_KILL, SIGNAL_HANGUP or SIGNAL_QUIT")));
  }
  grpc::Status refused;
  std::shared_ptr<Process> process = CallersProcess(*context, request->process_id(), refused);
  if (process == nullptr) return refused;
  return ToGrpcStatus(process->Signal(number));
}

grpc::Status SandboxServiceImpl::ResizeTerminal(grpc::ServerContext* context,
                                                const v1::ResizeTerminalRequest* request,
                                                v1::ResizeTerminalResponse*) {
  if (request->rows() == 0 || request->cols() == 0 || request->rows() > 10000 ||
      request->cols() > 10000) {
    return ToGrpcStatus(
        absl::InvalidArgumentError("rows and cols must each lie between 1 and 10000"));
  }
  grpc::Status refused;
  std::shared_ptr<Process> process = CallersProcess(*context, request->process_id(), refused);
  if (process == nullptr) return refused;
  return ToGrpcStatus(process->Resize(static_cast<uint16_t>(request->rows()),
                                      static_cast<uint16_t>(request->cols()),
                                      DeadlineWithin(*context, kMaxWriteWait)));
}

grpc::Status SandboxServiceImpl::ListProcesses(grpc::ServerContext* context,
                                               const v1::ListProcessesRequest* request,
                                               v1::ListProcessesResponse* response) {
  absl::StatusOr<std::string> client = auth_.Authenticate(*context);
  if (!client.ok()) return ToGrpcStatus(client.status());
  absl::StatusOr<ProcessTable*> processes = Processes();
  if (!processes.ok()) return ToGrpcStatus(processes.status());
  for (const auto& process : (*processes)->List(*client, request->session_id())) {
    FillInfo(*process, *response->add_processes());
  }
  return grpc::Status::OK;
}

grpc::Status SandboxServiceImpl::KillProcess(grpc::ServerContext* context,
                                             const v1::KillProcessRequest* request,
                                             v1::KillProcessResponse* response) {
  absl::StatusOr<std::string> client = auth_.Authenticate(*context);
  if (!client.ok()) return ToGrpcStatus(client.status());
  absl::StatusOr<ProcessTable*> processes = Processes();
  if (!processes.ok()) return ToGrpcStatus(processes.status());
  absl::StatusOr<std::shared_ptr<Process>> process =
      (*processes)->Remove(*client, request->process_id());
  if (!process.ok()) return Answer(*context, process.status(), request->process_id());
  Process::Output output = (*process)->Read(0, 0, 0, absl::InfinitePast(), false);
  if (output.outcome.has_value() && output.outcome->ok()) {
    FillResponse((*process)->plan(), **output.outcome, v1::OUTPUT_BYTES,
                 *response->mutable_result());
  }
  return grpc::Status::OK;
}

grpc::Status SandboxServiceImpl::CreateSession(grpc::ServerContext* context,
                                               const v1::CreateSessionRequest* request,
                                               v1::Session* response) {
  CallRecord call(*this, "create_session", "CreateSession");
  absl::StatusOr<std::string> client = Identify(*context, call.log);
  if (!client.ok()) return Refuse(client.status(), call);
  absl::StatusOr<SessionTable*> sessions = Sessions();
  if (!sessions.ok()) return Refuse(sessions.status(), call);
  if (!request->defaults().session_id().empty()) {
    return Refuse(absl::InvalidArgumentError("defaults.session_id must be empty"), call);
  }
  // The defaults are checked as a request's would be, with a stand-in command.
  v1::ExecRequest check = request->defaults();
  check.clear_argv();
  check.add_argv("true");
  absl::StatusOr<Plan> plan = PlanAlone(check, *client);
  if (!plan.ok()) return Refuse(plan.status(), call);
  absl::StatusOr<absl::Duration> idle =
      BoundedDuration(request->idle_timeout(), request->has_idle_timeout(),
                      bounds_.session_idle, "idle_timeout", "--session_idle_timeout");
  if (!idle.ok()) return Refuse(idle.status(), call);
  // Only what a session's calls may default to: no command, no stdin.
  v1::ExecRequest defaults = request->defaults();
  defaults.clear_argv();
  defaults.clear_stdin();
  absl::StatusOr<std::shared_ptr<Session>> session =
      (*sessions)->Open(*client, std::move(defaults), *idle);
  if (!session.ok()) return Refuse(session.status(), call);
  FillSession(**session, 0, *response);
  call.log.set_status("OK");
  WriteLog(call.log);
  return grpc::Status::OK;
}

grpc::Status SandboxServiceImpl::CloseSession(grpc::ServerContext* context,
                                              const v1::CloseSessionRequest* request,
                                              v1::CloseSessionResponse*) {
  absl::StatusOr<std::string> client = auth_.Authenticate(*context);
  if (!client.ok()) return ToGrpcStatus(client.status());
  absl::StatusOr<SessionTable*> sessions = Sessions();
  if (!sessions.ok()) return ToGrpcStatus(sessions.status());
  return Answer(*context, (*sessions)->Close(*client, request->session_id()),
                request->session_id());
}

grpc::Status SandboxServiceImpl::ListSessions(grpc::ServerContext* context,
                                              const v1::ListSessionsRequest*,
                                              v1::ListSessionsResponse* response) {
  absl::StatusOr<std::string> client = auth_.Authenticate(*context);
  if (!client.ok()) return ToGrpcStatus(client.status());
  absl::StatusOr<SessionTable*> sessions = Sessions();
  if (!sessions.ok()) return ToGrpcStatus(sessions.status());
  for (const auto& session : (*sessions)->List(*client)) {
    FillSession(*session, tables_.processes->RunningIn(session->id()), *response->add_sessions());
  }
  return grpc::Status::OK;
}

}  // namespace sandboxd

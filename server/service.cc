#include "server/service.h"

#include <fcntl.h>
#include <malloc.h>
#include <unistd.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/enum_name.h"
#include "server/request_log.h"
#include "server/response.h"
#include "server/status.h"

namespace sandboxd {
namespace {

namespace v1 = ::sandbox::v1;

// How long the server must have had no call before it trims its heaps.
constexpr absl::Duration kTrimAfterIdle = absl::Seconds(1);

absl::Status CheckEncoding(v1::OutputEncoding encoding) {
  if (v1::OutputEncoding_IsValid(encoding)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "output_encoding ", static_cast<int>(encoding), " is unknown; use OUTPUT_BYTES or OUTPUT_TEXT"));
}

// A client deadline shorter than the command's timeout wins: nobody would be left to
// receive the result.
void ClampToDeadline(const grpc::ServerContextBase& context, Plan& plan) {
  absl::Time deadline = absl::FromChrono(context.deadline());
  plan.timeout = std::min(plan.timeout, std::max(deadline - absl::Now(), absl::ZeroDuration()));
}

}  // namespace

SandboxServiceImpl::SandboxServiceImpl(const Runner& runner, HostFeatures host,
                                       Authenticator auth, OperatorPolicy operator_policy,
                                       Metrics* metrics, CallBounds bounds,
                                       AgentTables tables)
    : runner_(runner),
      host_(std::move(host)),
      auth_(std::move(auth)),
      operator_policy_(std::move(operator_policy)),
      metrics_(metrics),
      bounds_(bounds),
      queue_(bounds.max_concurrent, bounds.max_queued, [metrics](int running, int queued) {
        if (metrics != nullptr) metrics->SetLoad(running, queued);
      }),
      tables_(tables) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) == 0) {
    cancel_read_.Reset(fds[0]);
    cancel_write_.Reset(fds[1]);
  }
}

absl::StatusOr<Plan> SandboxServiceImpl::PlanFor(const v1::ExecRequest& request,
                                                 const std::string& client) const {
  if (request.session_id().empty()) return PlanAlone(request, client);
  absl::StatusOr<SessionTable*> sessions = Sessions();
  if (!sessions.ok()) return sessions.status();
  absl::StatusOr<std::shared_ptr<Session>> session =
      (*sessions)->Find(client, request.session_id());
  if (!session.ok()) return session.status();
  // The session's fields first, the request's over them.
  v1::ExecRequest merged = (*session)->defaults();
  merged.clear_argv();
  merged.clear_session_id();
  std::string cwd = merged.cwd();
  merged.MergeFrom(request);
  if (request.has_policy()) *merged.mutable_policy() = request.policy();
  if (request.cwd().empty()) merged.set_cwd(cwd);
  absl::StatusOr<Plan> plan = PlanAlone(merged, client);
  if (!plan.ok()) return plan.status();
  if (plan->backend != Backend::BACKEND_BWRAP) {
    return absl::FailedPreconditionError(absl::StrCat(
        "a session's /tmp needs a bwrap sandbox, and this request runs under ",
        Backend_Name(plan->backend)));
  }
  plan->tmp = (*session)->tmp();
  if (absl::Status s = LeaseFor(*session, plan->lease, plan->ended); !s.ok()) return s;
  return plan;
}

absl::Duration SandboxServiceImpl::LongestTimeoutFor(const std::string& client) const {
  absl::Duration longest = runner_.config().max_timeout;
  absl::StatusOr<ClientGrant> grant = operator_policy_.GrantFor(client);
  if (grant.ok() && grant->max_timeout > absl::ZeroDuration()) {
    longest = std::min(longest, grant->max_timeout);
  }
  return longest;
}

absl::StatusOr<Plan> SandboxServiceImpl::PlanAlone(const v1::ExecRequest& request,
                                                   const std::string& client) const {
  // The size first, then the rest of the bounds (in ExecSpec::Create): before any
  // work on the filesystem.
  if (size_t size = request.ByteSizeLong(); size > bounds_.max_request_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the request is ", size, " bytes, over this server's limit of ",
        bounds_.max_request_bytes, " (--max_request_bytes); send large stdin in chunks "
        "through ExecStream instead of in the request"));
  }
  if (absl::Status s = CheckEncoding(request.output_encoding()); !s.ok()) return s;
  absl::StatusOr<ClientGrant> grant = operator_policy_.GrantFor(client);
  if (!grant.ok()) return grant.status();
  absl::StatusOr<ExecSpec> spec = ExecSpec::Create(request, runner_.config(), *grant);
  if (!spec.ok()) return spec.status();
  return runner_.Prepare(*spec);
}

grpc::Status SandboxServiceImpl::Explain(grpc::ServerContext* context,
                                         const v1::ExecRequest* request,
                                         v1::ExplainResponse* response) {
  absl::StatusOr<std::string> client = auth_.Authenticate(*context);
  if (!client.ok()) return ToGrpcStatus(client.status());
  absl::StatusOr<Plan> plan = PlanFor(*request, *client);
  if (!plan.ok()) return ToGrpcStatus(plan.status());
  absl::StatusOr<LaunchCommand> launch = runner_.Explain(*plan);
  if (!launch.ok()) return ToGrpcStatus(launch.status());
  FillExplanation(*plan, *launch,
                  runner_.proxy() != nullptr ? runner_.proxy()->Describe() : "", *response);
  return grpc::Status::OK;
}

grpc::Status SandboxServiceImpl::GetCapabilities(grpc::ServerContext* context,
                                                 const v1::GetCapabilitiesRequest*,
                                                 v1::GetCapabilitiesResponse* response) {
  if (absl::StatusOr<std::string> client = auth_.Authenticate(*context); !client.ok()) {
    return ToGrpcStatus(client.status());
  }
  response->set_backend(runner_.config().backend);
  response->set_user_namespaces(host_.user_namespaces);
  response->set_proc_mount(runner_.config().mount_proc);
  response->set_landlock_abi(host_.landlock_abi);
  response->set_seccomp(host_.seccomp);
  response->set_bwrap_version(host_.bwrap_version);
  response->set_danger_full_access_allowed(runner_.config().allow_danger_full_access);
  for (const std::string& note : host_.notes) response->add_notes(note);
  response->set_cgroups(runner_.cgroup_note());
  response->set_network_namespaces(runner_.netns_note());
  response->set_command_user(runner_.command_user_note());
  response->set_network_enabled_refused(runner_.config().host_network_risk);
  response->set_proxy(DescribeProxy(runner_.config(), runner_.proxy()));
  if (tables_.sessions != nullptr) response->set_session_tmp(tables_.sessions->tmp_note());
  if (tables_.processes != nullptr) response->set_replica(tables_.processes->replica());
  return grpc::Status::OK;
}

SandboxServiceImpl::CallRecord::CallRecord(SandboxServiceImpl& service, const char* event,
                                           const char* method)
    : service(service), log(NewLogLine(event)), method(method) {
  service.live_calls_.fetch_add(1);
}

SandboxServiceImpl::CallRecord::~CallRecord() {
  if (service.live_calls_.fetch_sub(1) == 1) service.CallEnded();
}

void SandboxServiceImpl::CallEnded() {
  // glibc keeps what threads freed in their arenas: after a burst of streams with
  // megabytes of output each, that was most of what the process held, for good.
  absl::MutexLock lock(&trim_mu_);
  trim_ = std::nullopt;  // Waits if it is trimming right now.
  trim_.emplace(alarms_.Set(absl::Now() + kTrimAfterIdle, [this] {
    if (live_calls_.load() == 0) malloc_trim(0);
  }));
}

absl::StatusOr<std::string> SandboxServiceImpl::Identify(grpc::ServerContextBase& context,
                                                         LogLine& log) {
  log.set_request_id(static_cast<double>(next_request_id_.fetch_add(1)));
  log.set_peer(context.peer());
  absl::StatusOr<std::string> client = auth_.Authenticate(context);
  if (client.ok()) log.set_client(*client);
  return client;
}

absl::StatusOr<Admitted> SandboxServiceImpl::Admit(
    const v1::ExecRequest& request, const std::string& client,
    const grpc::ServerContextBase& context, std::function<bool()> stop, LogLine& log) {
  if (!request.argv().empty()) log.set_argv0(request.argv(0));
  if (queue_.closed()) return RunQueue::Closed();
  absl::StatusOr<Plan> plan = PlanFor(request, client);
  if (!plan.ok()) return plan.status();
  log.set_mode(LogName(plan->mode));
  log.set_backend(LogName(plan->backend));
  // A session that ends meanwhile ends the wait too.
  const std::function<bool()>& ended = plan->ended;
  absl::StatusOr<RunQueue::Ticket> ticket = queue_.Acquire(
      absl::FromChrono(context.deadline()), [&] { return stop() || (ended && ended()); });
  if (!ticket.ok()) return ticket.status();
  ClampToDeadline(context, *plan);
  RunIo io;
  io.timeout = plan->timeout;
  io.output_limit = plan->output_limit;
  io.cancel_fd = cancel_read_.get();
  io.is_cancelled = std::move(stop);
  return Admitted{*std::move(plan), std::move(io), *std::move(ticket)};
}

grpc::Status SandboxServiceImpl::Refuse(const absl::Status& status, CallRecord& call) const {
  call.log.set_status(absl::StatusCodeToString(status.code()));
  call.log.set_message(std::string(status.message()));
  WriteLog(call.log);
  if (metrics_ != nullptr) metrics_->Rejected(call.method, absl::StatusCodeToString(status.code()));
  return ToGrpcStatus(status);
}

void SandboxServiceImpl::Record(const RunResult& result, CallRecord& call) const {
  LogLine& log = call.log;
  log.set_status("OK");
  log.set_termination(LogName(result.termination));
  log.set_exit_code(result.exit_code);
  log.set_signal(result.signal);
  log.set_wall_ms(static_cast<double>(absl::ToInt64Milliseconds(result.wall_time)));
  log.set_stdout_bytes(static_cast<double>(result.stdout_data.total_bytes()));
  log.set_stderr_bytes(static_cast<double>(result.stderr_data.total_bytes()));
  uint64_t denials = 0;
  for (const v1::NetworkDenial& denial : result.network_denials) {
    denials += denial.count();
    if (metrics_ != nullptr) metrics_->NetworkDenied(LogName(denial.reason()), denial.count());
  }
  if (denials > 0) log.set_network_denials(static_cast<double>(denials));
  WriteLog(log);
  if (metrics_ != nullptr) {
    metrics_->RequestDone(call.method, log.termination(),
                          absl::Now() - call.start);
  }
}

grpc::Status SandboxServiceImpl::Exec(grpc::ServerContext* context,
                                      const v1::ExecRequest* request,
                                      v1::ExecResponse* response) {
  CallRecord call(*this, "exec", "Exec");
  absl::StatusOr<std::string> client = Identify(*context, call.log);
  if (!client.ok()) return Refuse(client.status(), call);
  auto cancelled = [context] { return context->IsCancelled(); };
  absl::StatusOr<Admitted> admitted = Admit(*request, *client, *context, cancelled, call.log);
  if (!admitted.ok()) return Refuse(admitted.status(), call);
  admitted->io.stdin_data = request->stdin();  // A stream's stdin comes through a pipe.
  absl::StatusOr<RunResult> result = runner_.Run(admitted->plan, admitted->io);
  if (!result.ok()) return Refuse(result.status(), call);
  FillResponse(admitted->plan, *result, request->output_encoding(), *response);
  Record(*result, call);
  return grpc::Status::OK;
}

grpc::ServerBidiReactor<v1::ExecStreamRequest, v1::ExecStreamResponse>*
SandboxServiceImpl::ExecStream(grpc::CallbackServerContext* context) {
  auto call = std::make_shared<CallRecord>(*this, "exec_stream", "ExecStream");
  absl::StatusOr<std::string> client = Identify(*context, call->log);
  if (!client.ok()) return new ExecStreamCall(*context, Refuse(client.status(), *call));
  // Until its start message comes, the call holds a place among the waiting.
  absl::StatusOr<RunQueue::Place> place = queue_.Hold();
  if (!place.ok()) return new ExecStreamCall(*context, Refuse(place.status(), *call));
  return new ExecStreamCall(*context, runner_, StreamHooks(*std::move(client), *context, call),
                            *std::move(place), alarms_, bounds_.start_wait);
}

ExecStreamHooks SandboxServiceImpl::StreamHooks(std::string client,
                                                grpc::CallbackServerContext& context,
                                                std::shared_ptr<CallRecord> call) {
  ExecStreamHooks hooks;
  hooks.admit = [this, client = std::move(client), &context, call](
                    const v1::ExecRequest& start, std::function<bool()> stop) {
    return Admit(start, client, context, std::move(stop), call->log);
  };
  hooks.refused = [this, call](const absl::Status& status) { Refuse(status, *call); };
  hooks.ran = [this, call](const RunResult& result) { Record(result, *call); };
  return hooks;
}

}  // namespace sandboxd

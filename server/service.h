#ifndef SANDBOXD_SERVER_SERVICE_H_
#define SANDBOXD_SERVER_SERVICE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "sandbox/host_features.h"
#include "sandbox/runner.h"
#include "base/unique_fd.h"
#include "server/auth.h"
#include "server/alarms.h"
#include "server/exec_stream.h"
#include "server/metrics.h"
#include "server/operator_policy.h"
#include "server/request_log.h"
#include "server/run_queue.h"
#include "sandbox/session/process_table.h"
#include "sandbox/session/session_table.h"
#include "sandbox/v1/sandbox.grpc.pb.h"

namespace sandboxd {

// What one call may cost the server.
struct CallBounds {
  // At most this many commands run at once, and this many more wait for a turn;
  // beyond that requests fail with RESOURCE_EXHAUSTED.
  int max_concurrent = 16;
  int max_queued = 64;
  // The largest request (Exec's, or ExecStream's start) the server takes, in bytes;
  // gRPC refuses messages larger still (see sandboxd.cc).
  size_t max_request_bytes = size_t{4} << 20;
  // How long an ExecStream may take to send its start message.
  absl::Duration start_wait = absl::Seconds(5);
  // A started process's idle timeout when its request names none, and the most it
  // may name; likewise for sessions.
  absl::Duration process_idle = absl::Minutes(10);
  absl::Duration session_idle = absl::Minutes(30);
  // How long a file stream may wait on its client (to send, or to take a chunk).
  absl::Duration stream_stall = absl::Seconds(30);
};

// Where processes and sessions are kept; both null: the server keeps none.
struct AgentTables {
  ProcessTable* processes = nullptr;
  SessionTable* sessions = nullptr;
};

// The gRPC edge of sandbox.v1.SandboxService: validates, runs through the Runner,
// converts results and statuses, and logs one line per request.
class SandboxServiceImpl final
    : public sandbox::v1::SandboxService::WithCallbackMethod_ExecStream<
          sandbox::v1::SandboxService::Service> {
 public:
  // `host` is what start-up found the host allows. `metrics` may be null (not served).
  SandboxServiceImpl(const Runner& runner, HostFeatures host, Authenticator auth,
                     OperatorPolicy operator_policy, Metrics* metrics, CallBounds bounds,
                     AgentTables tables = {});

  grpc::Status Exec(grpc::ServerContext* context, const sandbox::v1::ExecRequest* request,
                    sandbox::v1::ExecResponse* response) override;
  grpc::Status Explain(grpc::ServerContext* context, const sandbox::v1::ExecRequest* request,
                       sandbox::v1::ExplainResponse* response) override;
  grpc::ServerBidiReactor<sandbox::v1::ExecStreamRequest, sandbox::v1::ExecStreamResponse>*
  ExecStream(grpc::CallbackServerContext* context) override;
  grpc::Status GetCapabilities(grpc::ServerContext* context,
                               const sandbox::v1::GetCapabilitiesRequest* request,
                               sandbox::v1::GetCapabilitiesResponse* response) override;

  // Processes by id and sessions (agent_calls.cc).
  grpc::Status StartProcess(grpc::ServerContext* context,
                            const sandbox::v1::StartProcessRequest* request,
                            sandbox::v1::ProcessOutput* response) override;
  grpc::Status ReadProcess(grpc::ServerContext* context,
                           const sandbox::v1::ReadProcessRequest* request,
                           sandbox::v1::ProcessOutput* response) override;
  grpc::Status WriteProcess(grpc::ServerContext* context,
                            const sandbox::v1::WriteProcessRequest* request,
                            sandbox::v1::WriteProcessResponse* response) override;
  grpc::Status SignalProcess(grpc::ServerContext* context,
                             const sandbox::v1::SignalProcessRequest* request,
                             sandbox::v1::SignalProcessResponse* response) override;
  grpc::Status ResizeTerminal(grpc::ServerContext* context,
                              const sandbox::v1::ResizeTerminalRequest* request,
                              sandbox::v1::ResizeTerminalResponse* response) override;
  grpc::Status ListProcesses(grpc::ServerContext* context,
                             const sandbox::v1::ListProcessesRequest* request,
                             sandbox::v1::ListProcessesResponse* response) override;
  grpc::Status KillProcess(grpc::ServerContext* context,
                           const sandbox::v1::KillProcessRequest* request,
                           sandbox::v1::KillProcessResponse* response) override;
  grpc::Status CreateSession(grpc::ServerContext* context,
                             const sandbox::v1::CreateSessionRequest* request,
                             sandbox::v1::Session* response) override;
  grpc::Status CloseSession(grpc::ServerContext* context,
                            const sandbox::v1::CloseSessionRequest* request,
                            sandbox::v1::CloseSessionResponse* response) override;
  grpc::Status ListSessions(grpc::ServerContext* context,
                            const sandbox::v1::ListSessionsRequest* request,
                            sandbox::v1::ListSessionsResponse* response) override;

  // Files (file_calls.cc).
  grpc::Status ReadFile(grpc::ServerContext* context, const sandbox::v1::ReadFileRequest* request,
                        grpc::ServerWriter<sandbox::v1::FileChunk>* writer) override;
  grpc::Status WriteFile(grpc::ServerContext* context,
                         grpc::ServerReader<sandbox::v1::WriteFileRequest>* reader,
                         sandbox::v1::FileInfo* response) override;
  grpc::Status ListFiles(grpc::ServerContext* context,
                         const sandbox::v1::ListFilesRequest* request,
                         sandbox::v1::ListFilesResponse* response) override;
  grpc::Status StatFile(grpc::ServerContext* context, const sandbox::v1::StatFileRequest* request,
                        sandbox::v1::FileInfo* response) override;
  grpc::Status MakeDirectory(grpc::ServerContext* context,
                             const sandbox::v1::MakeDirectoryRequest* request,
                             sandbox::v1::FileInfo* response) override;
  grpc::Status MoveFile(grpc::ServerContext* context, const sandbox::v1::MoveFileRequest* request,
                        sandbox::v1::FileInfo* response) override;
  grpc::Status RemoveFile(grpc::ServerContext* context,
                          const sandbox::v1::RemoveFileRequest* request,
                          sandbox::v1::RemoveFileResponse* response) override;

  // From now on, refuses new commands with UNAVAILABLE, and those waiting for a turn
  // too; for shutdown.
  void StartDraining() { queue_.Close(); }
  // Waits up to `deadline` for no command to run or wait; true once none does.
  bool WaitIdle(absl::Time deadline) const { return queue_.WaitIdle(deadline); }
  // Kills every running command (their responses say CANCELLED); for shutdown.
  void CancelAll() { cancel_write_.Reset(); }
  // Kills every process started by id and closes every session; for shutdown.
  void EndAgents();

 private:
  // Validates `request`, checks it against the rules for `client`, and decides how it
  // would run: in its session (session_id), with the session's /tmp and, where the
  // request sets none, its policy, cwd and env.
  absl::StatusOr<Plan> PlanFor(const sandbox::v1::ExecRequest& request,
                               const std::string& client) const;
  // PlanFor without the session.
  absl::StatusOr<Plan> PlanAlone(const sandbox::v1::ExecRequest& request,
                                 const std::string& client) const;
  // The longest timeout `client` may ask for: the server's, or its rule's if shorter
  // (what a process, or a file call, gets unless it names one).
  absl::Duration LongestTimeoutFor(const std::string& client) const;
  // The caller's process `id`; null, and the call's answer in `refused`, when there is
  // none (or the caller is not authenticated, or it lives on another replica).
  std::shared_ptr<Process> CallersProcess(grpc::ServerContext& context, const std::string& id,
                                          grpc::Status& refused);
  // The tables, or FAILED_PRECONDITION when this server keeps none.
  absl::StatusOr<ProcessTable*> Processes() const;
  absl::StatusOr<SessionTable*> Sessions() const;
  // A file call's plan: sandboxd-helper with `args`, in a sandbox made from `scope`.
  absl::StatusOr<Plan> FilePlan(const sandbox::v1::FileScope& scope,
                                std::vector<std::string> args, const std::string& client) const;
  // Runs a file call's plan with `io`; its failure (the helper's exit status) as a
  // status. FileInfo messages it printed, when `infos`.
  // `cut`: it printed more than a call takes (ListFiles is then truncated). The caller
  // holds a turn (FileTurn).
  absl::Status RunFileCall(const Plan& plan, RunIo& io,
                           std::vector<sandbox::v1::FileInfo>* infos,
                           bool* cut = nullptr) const;
  // A file call's turn in the run queue, as a command's.
  absl::StatusOr<RunQueue::Ticket> FileTurn(const Plan& plan,
                                            const std::function<bool()>& cancelled);
  // Cancels the call at `when` unless disarmed first: what unblocks a sync stream's
  // Read or Write that its client leaves hanging.
  Alarms::Armed CancelAt(grpc::ServerContext& context, absl::Time when);
  // A file call about one path (StatFile, MakeDirectory, MoveFile, RemoveFile):
  // refused with `checked` unless it is OK; else sandboxd-helper `args`, and the
  // FileInfo it printed in `info` (unless null).
  grpc::Status PathCall(grpc::ServerContext* context, const char* method,
                        const sandbox::v1::FileScope& scope, const absl::Status& checked,
                        std::vector<std::string> args, sandbox::v1::FileInfo* info);
  // One call's log line, with what the metrics need. The last one of a burst to go
  // has the memory the burst freed given back to the system soon after.
  struct CallRecord {
    CallRecord(SandboxServiceImpl& service, const char* event, const char* method);
    ~CallRecord();
    SandboxServiceImpl& service;
    LogLine log;
    std::string method;
    absl::Time start = absl::Now();
  };
  // Logs and counts a call refused with `status`, and converts it for gRPC.
  grpc::Status Refuse(const absl::Status& status, CallRecord& call) const;
  // Logs and counts a command that ran.
  void Record(const RunResult& result, CallRecord& call) const;

  // Authenticates the caller. Logs what it learns to `log`.
  absl::StatusOr<std::string> Identify(grpc::ServerContextBase& context, LogLine& log);
  // PlanFor, then a turn in the run queue; the command dies, or its wait for a turn
  // ends, when `stop` says so. Logs what it learns to `log`.
  absl::StatusOr<Admitted> Admit(const sandbox::v1::ExecRequest& request,
                                 const std::string& client,
                                 const grpc::ServerContextBase& context,
                                 std::function<bool()> stop, LogLine& log);
  // The hooks of one ExecStream call from `client`.
  ExecStreamHooks StreamHooks(std::string client, grpc::CallbackServerContext& context,
                              std::shared_ptr<CallRecord> call);
  // Gives freed memory back to the system once no call has been alive for a while.
  void CallEnded();

  const Runner& runner_;
  const HostFeatures host_;
  const Authenticator auth_;
  const OperatorPolicy operator_policy_;
  Metrics* const metrics_;
  const CallBounds bounds_;
  RunQueue queue_;
  const AgentTables tables_;
  Alarms alarms_;
  std::atomic<int> live_calls_{0};
  absl::Mutex trim_mu_;
  std::optional<Alarms::Armed> trim_ ABSL_GUARDED_BY(trim_mu_);
  // Every running worker polls the read end; closing the write end hangs it up for all.
  UniqueFd cancel_read_;
  UniqueFd cancel_write_;
  std::atomic<int64_t> next_request_id_{1};
};

}  // namespace sandboxd

#endif  // SANDBOXD_SERVER_SERVICE_H_

#ifndef SANDBOXD_SERVER_EXEC_STREAM_H_
#define SANDBOXD_SERVER_EXEC_STREAM_H_

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_callback.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "sandbox/runner.h"
#include "base/unique_fd.h"
#include "sandbox/v1/sandbox.grpc.pb.h"
#include "server/alarms.h"
#include "server/run_queue.h"
#include "server/stream_outbox.h"

namespace sandboxd {

// A request cleared to run: its plan, tied to the call (deadline, cancellation,
// server shutdown), and the run slot it holds.
struct Admitted {
  Plan plan;
  RunIo io;
  RunQueue::Ticket ticket;
};

// What an ExecStream call asks of the service.
struct ExecStreamHooks {
  // Validates the start request and waits for its turn; asks `stop` while it waits.
  // Called on the call's own thread.
  std::function<absl::StatusOr<Admitted>(const sandbox::v1::ExecRequest& start,
                                         std::function<bool()> stop)>
      admit;
  // The call ends with `status` instead of a result.
  std::function<void(const absl::Status& status)> refused;
  // The command ran and its result is being sent.
  std::function<void(const RunResult& result)> ran;
};

// One ExecStream call, on gRPC's callback API: gRPC's threads only hand over what was
// read and written, so neither a silent client nor a slow one holds a thread of the
// server's. The call's protocol:
//  - the start message comes within `start_wait` (else DEADLINE_EXCEEDED), while the
//    call holds `place` among the waiting;
//  - then stdin, close_stdin and signals, in any number; a signal goes to the command
//    as soon as it is read, and reading goes on while stdin waits for the command
//    (up to kStdinBufferBytes of it);
//  - a second start, a signal this server does not know, or an empty message kills the
//    command and ends the call with INVALID_ARGUMENT;
//  - the output, then the result, then OK, whether or not the client has half-closed.
//    An error after admission ends the call with it at once.
// While a command runs, two threads of the call's own run it and feed its stdin.
class ExecStreamCall final
    : public grpc::ServerBidiReactor<sandbox::v1::ExecStreamRequest,
                                     sandbox::v1::ExecStreamResponse> {
 public:
  // Stdin the call takes ahead of the command; beyond it, reading waits.
  static constexpr size_t kStdinBufferBytes = size_t{4} << 20;

  // A call refused before it began; ends with `status` at once.
  ExecStreamCall(grpc::CallbackServerContext& context, const grpc::Status& status);
  ExecStreamCall(grpc::CallbackServerContext& context, const Runner& runner,
                 ExecStreamHooks hooks, RunQueue::Place place, Alarms& alarms,
                 absl::Duration start_wait);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  // The message just read, once the call has started.
  void Take() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Starts the command's threads for the start message just read.
  void Begin() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Reads the next message unless stdin is backed up or the call is ending.
  void ReadMore() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Protocol misuse: kills the command; the call ends with `status`.
  void Abort(absl::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Signal(int number) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether the call is still to be finished, which the caller then does.
  bool TakeFinish() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Ends the call once; later calls do nothing.
  void FinishOnce(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Ends a call that never ran its command with `status`, which the service logs.
  void Refuse(const absl::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The outbox's way to write; a write the finished call will not take fails.
  void StartWriteOf(const sandbox::v1::ExecStreamResponse& message);
  // Whether the command should die: the client went away or misused the protocol.
  bool Stopped() const;

  // The run thread: admits and runs the command, sends its result, ends the call.
  void RunCommand();
  absl::Status AdmitAndRun();
  // The stdin thread: writes what the client sent into the command's stdin.
  void FeedStdin();
  bool StdinReady() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  void SendOutput(int fd, uint64_t offset, absl::string_view data);
  // With OUTPUT_TEXT, the cut-off UTF-8 bytes held back from the last chunk of each fd.
  void FlushHeldBack();
  void Send(sandbox::v1::ExecStreamResponse message);

  grpc::CallbackServerContext& context_;
  const Runner* const runner_ = nullptr;
  const ExecStreamHooks hooks_;
  std::optional<RunQueue::Place> place_;
  std::optional<Alarms::Armed> start_alarm_;

  absl::Mutex mu_;
  sandbox::v1::ExecStreamRequest read_;
  sandbox::v1::ExecRequest start_;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool reading_ ABSL_GUARDED_BY(mu_) = false;
  bool run_over_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status misuse_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> aborted_{false};
  // What the stdin thread has yet to write; `stdin_closed_` once no more will come.
  std::deque<std::string> stdin_ ABSL_GUARDED_BY(mu_);
  size_t stdin_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  bool stdin_closed_ ABSL_GUARDED_BY(mu_) = false;
  UniqueFd stdin_read_, stdin_write_;
  UniqueFd signal_read_, signal_write_;

  // Run thread only.
  sandbox::v1::OutputEncoding encoding_ = sandbox::v1::OUTPUT_BYTES;
  std::string held_back_[3];
  uint64_t held_back_offset_[3] = {};
  absl::Time give_up_at_ = absl::InfiniteFuture();
  bool dropped_output_ = false;
  // The result went out (and was logged).
  bool reported_ = false;

  StreamOutbox outbox_;
  std::thread run_thread_;
};

// The signal number of `signal`, 0 for none.
int SignalNumber(sandbox::v1::Signal signal);

}  // namespace sandboxd

#endif  // SANDBOXD_SERVER_EXEC_STREAM_H_

#ifndef SANDBOXD_SERVER_EXEC_STREAM_H_
#define SANDBOXD_SERVER_EXEC_STREAM_H_

#include <grpcpp/server_context.h>
#include <grpcpp/support/sync_stream.h>

#include <cstdint>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "sandbox/runner.h"
#include "sandbox/unique_fd.h"
#include "sandbox/v1/sandbox.grpc.pb.h"
#include "server/stream_outbox.h"

namespace sandboxd {

using ExecStreamIo =
    grpc::ServerReaderWriter<sandbox::v1::ExecStreamResponse, sandbox::v1::ExecStreamRequest>;

// One ExecStream call after its start message was validated: runs the plan with the
// client's stdin and signals, streams the output, and sends the final result.
//
// Three threads: the calling one runs the worker; the outbox's thread does every Write
// (a client that stops reading blocks Write, and that must not keep the worker from
// killing the command at its timeout); a reader thread does every Read, writing stdin
// into the command's pipe (so a command that does not read its stdin holds the client
// back) and signals into the worker's signal pipe.
class ExecStreamSession {
 public:
  ExecStreamSession(grpc::ServerContext& context, ExecStreamIo& io,
                    sandbox::v1::OutputEncoding encoding);

  // Runs `plan`, first feeding `initial_stdin`. Returns what RunWorker returns; the
  // result message has been sent when it is OK.
  absl::StatusOr<RunResult> Run(const Runner& runner, Plan plan, const std::string& initial_stdin);

 private:
  // The reader thread.
  void ReadClient(const std::string& initial_stdin);
  void WriteStdin(absl::string_view data);
  void SendOutput(int fd, uint64_t offset, absl::string_view data);
  // Hands a message to the outbox, which writes each at once. (Writing chunks with
  // gRPC's buffering hint until the pipes ran dry stalled for good under a writer that
  // never let them run dry: gRPC 1.51 held the hinted messages, and the client waited.)
  void Send(sandbox::v1::ExecStreamResponse message);
  // With OUTPUT_TEXT, the cut-off UTF-8 bytes held back from the last chunk of `fd`.
  void FlushHeldBack();
  // Lets the reader thread finish: waits for the client to half-close, then ends the
  // call if it does not.
  void StopReading(std::thread& reader);

  grpc::ServerContext& context_;
  ExecStreamIo& io_;
  const sandbox::v1::OutputEncoding encoding_;
  UniqueFd stdin_read_, stdin_write_;
  UniqueFd signal_read_, signal_write_;
  absl::Notification reader_done_;
  // Indexed by fd: 1 stdout, 2 stderr.
  std::string held_back_[3];
  uint64_t held_back_offset_[3] = {};
  // When output stops waiting for the client.
  absl::Time give_up_at_ = absl::InfiniteFuture();
  bool dropped_output_ = false;
  // Last: its destructor waits for its thread, which uses io_.
  StreamOutbox outbox_;
};

// The signal number of `signal`, 0 for none.
int SignalNumber(sandbox::v1::Signal signal);

}  // namespace sandboxd

#endif  // SANDBOXD_SERVER_EXEC_STREAM_H_

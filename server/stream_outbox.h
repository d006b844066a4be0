#ifndef SANDBOXD_SERVER_STREAM_OUTBOX_H_
#define SANDBOXD_SERVER_STREAM_OUTBOX_H_

#include <cstddef>
#include <deque>
#include <functional>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "sandbox/v1/sandbox.grpc.pb.h"

namespace sandboxd {

// The messages a stream has to write, one write at a time, for gRPC's callback API: a
// write is started with `start_write` and its end is reported with WriteDone. A client
// that stops reading leaves a write unfinished; the producer is held back only until
// a deadline, never the thread that reports writes. Thread-safe.
class StreamOutbox {
 public:
  // `start_write` starts writing a message, which stays alive until WriteDone. At most
  // `max_bytes` of messages wait at once.
  StreamOutbox(std::function<void(const sandbox::v1::ExecStreamResponse&)> start_write,
               size_t max_bytes);
  StreamOutbox(const StreamOutbox&) = delete;
  StreamOutbox& operator=(const StreamOutbox&) = delete;

  // Queues `message`, waiting for room until `give_up_at`. False when it was dropped:
  // no room by then, or the call is gone.
  bool Put(sandbox::v1::ExecStreamResponse message, absl::Time give_up_at);
  // The write started last is done; `ok` false: the call is gone.
  void WriteDone(bool ok);
  // Waits until every message is written, or until `give_up_at`; true when all were.
  bool Drain(absl::Time give_up_at);
  // The call is gone: every Put from now on, and every one waiting, fails.
  void Abandon();

 private:
  bool HasRoom() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool Drained() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::function<void(const sandbox::v1::ExecStreamResponse&)> start_write_;
  const size_t max_bytes_;
  absl::Mutex mu_;
  struct Queued {
    sandbox::v1::ExecStreamResponse message;
    size_t bytes = 0;
  };
  // The front one is being written when `writing_`.
  std::deque<Queued> queue_ ABSL_GUARDED_BY(mu_);
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool failed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace sandboxd

#endif  // SANDBOXD_SERVER_STREAM_OUTBOX_H_

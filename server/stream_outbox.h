#ifndef SANDBOXD_SERVER_STREAM_OUTBOX_H_
#define SANDBOXD_SERVER_STREAM_OUTBOX_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "sandbox/v1/sandbox.grpc.pb.h"

namespace sandboxd {

// Writes a stream's messages on a thread of its own, so that a client that stops
// reading (gRPC's Write then blocks on flow control) holds back that thread, not the
// one that produces the messages: Put waits for room only until a deadline. Thread-
// safe.
class StreamOutbox {
 public:
  // `write` sends one message and says whether the call still stands. At most
  // `max_bytes` of messages wait at once.
  StreamOutbox(std::function<bool(const sandbox::v1::ExecStreamResponse&)> write,
               size_t max_bytes);
  // Waits for the thread, which is only stuck when `write` is (the caller cancels the
  // call first then).
  ~StreamOutbox();
  StreamOutbox(const StreamOutbox&) = delete;
  StreamOutbox& operator=(const StreamOutbox&) = delete;

  // Queues `message`, waiting for room until `give_up_at`. False when it was dropped:
  // no room by then, or the call is gone.
  bool Put(sandbox::v1::ExecStreamResponse message, absl::Time give_up_at);
  // No more messages. Waits until every one is written, or until `give_up_at`; true
  // when all were.
  bool Finish(absl::Time give_up_at);

 private:
  void WriteQueued();
  bool HasRoom() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool HasWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool AllWritten() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::function<bool(const sandbox::v1::ExecStreamResponse&)> write_;
  const size_t max_bytes_;
  absl::Mutex mu_;
  struct Queued {
    sandbox::v1::ExecStreamResponse message;
    size_t bytes = 0;
  };
  std::deque<Queued> queue_ ABSL_GUARDED_BY(mu_);
  // Of the queued messages and the one being written.
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  bool finishing_ ABSL_GUARDED_BY(mu_) = false;
  bool failed_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace sandboxd

#endif  // SANDBOXD_SERVER_STREAM_OUTBOX_H_

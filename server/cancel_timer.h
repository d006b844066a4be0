#ifndef SANDBOXD_SERVER_CANCEL_TIMER_H_
#define SANDBOXD_SERVER_CANCEL_TIMER_H_

#include <cstdint>
#include <map>
#include <thread>

#include <grpcpp/server_context.h>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace sandboxd {

// Cancels calls that are still waiting for something when their time is up: an
// ExecStream whose client sends no start message would otherwise hold a server thread
// for as long as it keeps the stream open. One thread serves every call. Thread-safe.
class CancelTimer {
 public:
  // Until destroyed, `context` is cancelled at its time (grpc::ServerContext::TryCancel,
  // which makes a blocked Read return false).
  class Armed {
   public:
    Armed(CancelTimer& timer, uint64_t id) : timer_(timer), id_(id) {}
    Armed(const Armed&) = delete;
    Armed& operator=(const Armed&) = delete;
    // Disarms: once it returns, the timer no longer touches the call.
    ~Armed();
    // Whether the time came and the call was cancelled.
    bool fired() const;

   private:
    CancelTimer& timer_;
    const uint64_t id_;
  };

  CancelTimer();
  ~CancelTimer();

  Armed CancelAt(grpc::ServerContext& context, absl::Time when);

 private:
  struct Entry {
    absl::Time when;
    grpc::ServerContext* context;
    bool fired = false;
  };
  void Run();

  mutable absl::Mutex mu_;
  std::map<uint64_t, Entry> entries_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace sandboxd

#endif  // SANDBOXD_SERVER_CANCEL_TIMER_H_

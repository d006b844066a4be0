#include "server/stream_outbox.h"

#include <utility>

namespace sandboxd {

namespace v1 = ::sandbox::v1;

StreamOutbox::StreamOutbox(std::function<bool(const v1::ExecStreamResponse&)> write,
                           size_t max_bytes)
    : write_(std::move(write)), max_bytes_(max_bytes), thread_([this] { WriteQueued(); }) {}

StreamOutbox::~StreamOutbox() {
  {
    absl::MutexLock lock(&mu_);
    finishing_ = true;
  }
  thread_.join();
}

bool StreamOutbox::Put(v1::ExecStreamResponse message, absl::Time give_up_at) {
  size_t bytes = message.ByteSizeLong();
  absl::MutexLock lock(&mu_);
  if (!mu_.AwaitWithDeadline(absl::Condition(this, &StreamOutbox::HasRoom), give_up_at) ||
      failed_) {
    return false;
  }
  bytes_ += bytes;
  queue_.push_back({std::move(message), bytes});
  return true;
}

bool StreamOutbox::Finish(absl::Time give_up_at) {
  absl::MutexLock lock(&mu_);
  finishing_ = true;
  return mu_.AwaitWithDeadline(absl::Condition(this, &StreamOutbox::AllWritten), give_up_at) &&
         !failed_;
}

// An empty queue always has room, so that a message larger than max_bytes goes too.
bool StreamOutbox::HasRoom() const { return failed_ || queue_.empty() || bytes_ < max_bytes_; }

bool StreamOutbox::HasWork() const { return finishing_ || !queue_.empty(); }

bool StreamOutbox::AllWritten() const { return done_; }

void StreamOutbox::WriteQueued() {
  for (;;) {
    Queued next;
    bool failed;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &StreamOutbox::HasWork));
      if (queue_.empty()) {  // Finishing, and nothing left.
        done_ = true;
        return;
      }
      next = std::move(queue_.front());
      queue_.pop_front();
      failed = failed_;
    }
    // Outside the lock: this is where a client that does not read holds us.
    bool written = !failed && write_(next.message);
    absl::MutexLock lock(&mu_);
    bytes_ -= next.bytes;
    if (!written) failed_ = true;
  }
}

}  // namespace sandboxd

#include "server/stream_outbox.h"

#include <utility>

namespace sandboxd {

namespace v1 = ::sandbox::v1;

StreamOutbox::StreamOutbox(std::function<void(const v1::ExecStreamResponse&)> start_write,
                           size_t max_bytes)
    : start_write_(std::move(start_write)), max_bytes_(max_bytes) {}

bool StreamOutbox::Put(v1::ExecStreamResponse message, absl::Time give_up_at) {
  size_t bytes = message.ByteSizeLong();
  const v1::ExecStreamResponse* next = nullptr;
  {
    absl::MutexLock lock(&mu_);
    if (!mu_.AwaitWithDeadline(absl::Condition(this, &StreamOutbox::HasRoom), give_up_at) ||
        failed_) {
      return false;
    }
    bytes_ += bytes;
    queue_.push_back({std::move(message), bytes});
    if (!writing_) next = &queue_.front().message;
    writing_ = true;
  }
  // Outside the lock, in case gRPC reports the write's end on this thread.
  if (next != nullptr) start_write_(*next);
  return true;
}

void StreamOutbox::WriteDone(bool ok) {
  const v1::ExecStreamResponse* next = nullptr;
  {
    absl::MutexLock lock(&mu_);
    bytes_ -= queue_.front().bytes;
    queue_.pop_front();
    if (!ok) {
      failed_ = true;
      queue_.clear();
      bytes_ = 0;
    }
    writing_ = !queue_.empty();
    if (writing_) next = &queue_.front().message;
  }
  // A deque's elements stay where they are as others are added, and only the end of
  // this write removes this one.
  if (next != nullptr) start_write_(*next);
}

bool StreamOutbox::Drain(absl::Time give_up_at) {
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithDeadline(absl::Condition(this, &StreamOutbox::Drained), give_up_at) &&
         !failed_;
}

void StreamOutbox::Abandon() {
  absl::MutexLock lock(&mu_);
  failed_ = true;
}

// An empty queue always has room, so that a message larger than max_bytes goes too.
bool StreamOutbox::HasRoom() const { return failed_ || queue_.empty() || bytes_ < max_bytes_; }

bool StreamOutbox::Drained() const { return failed_ || queue_.empty(); }

}  // namespace sandboxd

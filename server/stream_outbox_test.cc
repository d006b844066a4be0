#include "server/stream_outbox.h"

#include <atomic>
#include <string>

#include <gtest/gtest.h>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"

namespace sandboxd {
namespace {

namespace v1 = ::sandbox::v1;

v1::ExecStreamResponse Chunk(size_t bytes) {
  v1::ExecStreamResponse message;
  message.mutable_output()->set_data(std::string(bytes, 'x'));
  return message;
}

TEST(StreamOutboxTest, WritesEverythingInOrder) {
  std::string written;
  {
    StreamOutbox outbox(
        [&](const v1::ExecStreamResponse& m) {
          written += m.output().data();
          return true;
        },
        1 << 20);
    for (char c : std::string("abc")) {
      v1::ExecStreamResponse message;
      message.mutable_output()->set_data(std::string(1, c));
      ASSERT_TRUE(outbox.Put(message, absl::InfiniteFuture()));
    }
    EXPECT_TRUE(outbox.Finish(absl::Now() + absl::Seconds(10)));
  }
  EXPECT_EQ(written, "abc");
}

// The producer is held back by a stuck writer only until its deadline.
TEST(StreamOutboxTest, AStuckWriterHoldsPutOnlyUntilItsDeadline) {
  absl::Notification release;
  StreamOutbox outbox(
      [&](const v1::ExecStreamResponse&) {
        release.WaitForNotification();
        return false;  // As gRPC says once the call is cancelled.
      },
      1000);
  ASSERT_TRUE(outbox.Put(Chunk(800), absl::InfiniteFuture()));  // Being written: stuck.
  ASSERT_TRUE(outbox.Put(Chunk(800), absl::InfiniteFuture()));  // Queued: empty queue.
  absl::Time start = absl::Now();
  EXPECT_FALSE(outbox.Put(Chunk(800), start + absl::Milliseconds(200)));  // No room.
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(190));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_FALSE(outbox.Finish(absl::Now() + absl::Milliseconds(100)));
  release.Notify();
}

// Once a write fails, the call is gone: later messages are dropped at once.
TEST(StreamOutboxTest, AFailedWriteDropsTheRest) {
  std::atomic<int> writes{0};
  StreamOutbox outbox(
      [&](const v1::ExecStreamResponse&) {
        ++writes;
        return false;
      },
      1 << 20);
  outbox.Put(Chunk(10), absl::InfiniteFuture());
  EXPECT_FALSE(outbox.Finish(absl::Now() + absl::Seconds(10)));
  EXPECT_FALSE(outbox.Put(Chunk(10), absl::InfiniteFuture()));
  EXPECT_EQ(writes.load(), 1);
}

}  // namespace
}  // namespace sandboxd

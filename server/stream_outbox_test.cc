#include "server/stream_outbox.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"

namespace sandboxd {
namespace {

namespace v1 = ::sandbox::v1;

v1::ExecStreamResponse Chunk(const std::string& data) {
  v1::ExecStreamResponse message;
  message.mutable_output()->set_data(data);
  return message;
}

// gRPC's side, played by the test: each started write is finished when the test says.
class FakeCall {
 public:
  void Start(const v1::ExecStreamResponse& message) {
    absl::MutexLock lock(&mu_);
    started_.push_back(message.output().data());
  }
  std::vector<std::string> started() {
    absl::MutexLock lock(&mu_);
    return started_;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> started_;
};

TEST(StreamOutboxTest, WritesOneAtATimeInOrder) {
  FakeCall call;
  StreamOutbox outbox([&](const v1::ExecStreamResponse& m) { call.Start(m); }, 1 << 20);
  for (const char* data : {"a", "b", "c"}) ASSERT_TRUE(outbox.Put(Chunk(data), absl::InfiniteFuture()));
  EXPECT_EQ(call.started(), std::vector<std::string>({"a"}));
  outbox.WriteDone(true);
  EXPECT_EQ(call.started(), std::vector<std::string>({"a", "b"}));
  outbox.WriteDone(true);
  outbox.WriteDone(true);
  EXPECT_EQ(call.started(), std::vector<std::string>({"a", "b", "c"}));
  EXPECT_TRUE(outbox.Drain(absl::Now()));
}

// A client that does not read holds the producer only until its deadline.
TEST(StreamOutboxTest, AStuckWriteHoldsPutOnlyUntilItsDeadline) {
  FakeCall call;
  StreamOutbox outbox([&](const v1::ExecStreamResponse& m) { call.Start(m); }, 1000);
  // Larger than the outbox (an empty one takes it), and stuck.
  ASSERT_TRUE(outbox.Put(Chunk(std::string(1200, 'x')), absl::InfiniteFuture()));
  absl::Time start = absl::Now();
  EXPECT_FALSE(outbox.Put(Chunk(std::string(800, 'y')), start + absl::Milliseconds(200)));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(190));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_FALSE(outbox.Drain(absl::Now() + absl::Milliseconds(50)));
  // Room comes as the write ends, and a waiting producer gets it.
  std::thread producer([&] { EXPECT_TRUE(outbox.Put(Chunk("z"), absl::InfiniteFuture())); });
  absl::SleepFor(absl::Milliseconds(50));
  outbox.WriteDone(true);
  producer.join();
  EXPECT_EQ(call.started().back(), "z");
}

// Once a write fails, the call is gone: what waits is dropped, and later messages too.
TEST(StreamOutboxTest, AFailedWriteDropsTheRest) {
  FakeCall call;
  StreamOutbox outbox([&](const v1::ExecStreamResponse& m) { call.Start(m); }, 1 << 20);
  outbox.Put(Chunk("a"), absl::InfiniteFuture());
  outbox.Put(Chunk("b"), absl::InfiniteFuture());
  outbox.WriteDone(false);
  EXPECT_FALSE(outbox.Drain(absl::Now() + absl::Seconds(1)));
  EXPECT_FALSE(outbox.Put(Chunk("c"), absl::InfiniteFuture()));
  EXPECT_EQ(call.started(), std::vector<std::string>({"a"}));
}

TEST(StreamOutboxTest, AbandonReleasesAWaitingProducer) {
  FakeCall call;
  StreamOutbox outbox([&](const v1::ExecStreamResponse& m) { call.Start(m); }, 10);
  outbox.Put(Chunk(std::string(20, 'x')), absl::InfiniteFuture());
  std::thread producer([&] { EXPECT_FALSE(outbox.Put(Chunk("y"), absl::InfiniteFuture())); });
  absl::SleepFor(absl::Milliseconds(50));
  outbox.Abandon();
  producer.join();
}

}  // namespace
}  // namespace sandboxd

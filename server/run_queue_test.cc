#include "server/run_queue.h"

#include <atomic>
#include <optional>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "absl/time/clock.h"

namespace sandboxd {
namespace {

absl::Time Far() { return absl::Now() + absl::Hours(1); }

TEST(RunQueueTest, RunsUpToTheLimitThenQueuesThenRefuses) {
  RunQueue queue(1, 1);
  absl::StatusOr<RunQueue::Ticket> first = queue.Acquire(Far(), nullptr);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(queue.running(), 1);

  std::atomic<bool> second_ran{false};
  std::thread second([&] {
    absl::StatusOr<RunQueue::Ticket> ticket = queue.Acquire(Far(), nullptr);
    EXPECT_TRUE(ticket.ok());
    second_ran = true;
  });
  while (queue.queued() == 0) absl::SleepFor(absl::Milliseconds(5));

  absl::StatusOr<RunQueue::Ticket> third = queue.Acquire(Far(), nullptr);
  EXPECT_EQ(third.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_FALSE(second_ran);

  { RunQueue::Ticket done = *std::move(first); }  // The first command ends.
  second.join();
  EXPECT_TRUE(second_ran);
  EXPECT_EQ(queue.running(), 0);
}

TEST(RunQueueTest, WaitIdleReturnsWhenTheLastRunEnds) {
  RunQueue queue(1, 1);
  EXPECT_TRUE(queue.WaitIdle(absl::Now()));
  std::optional<RunQueue::Ticket> running(*queue.Acquire(Far(), nullptr));
  EXPECT_FALSE(queue.WaitIdle(absl::Now() + absl::Milliseconds(50)));
  std::thread ender([&] {
    absl::SleepFor(absl::Milliseconds(100));
    running.reset();
  });
  EXPECT_TRUE(queue.WaitIdle(Far()));
  ender.join();
}

TEST(RunQueueTest, DeadlineWhileWaiting) {
  RunQueue queue(1, 4);
  absl::StatusOr<RunQueue::Ticket> busy = queue.Acquire(Far(), nullptr);
  absl::StatusOr<RunQueue::Ticket> late =
      queue.Acquire(absl::Now() + absl::Milliseconds(100), nullptr);
  EXPECT_EQ(late.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(queue.queued(), 0);
}

TEST(RunQueueTest, CancelWhileWaiting) {
  RunQueue queue(1, 4);
  absl::StatusOr<RunQueue::Ticket> busy = queue.Acquire(Far(), nullptr);
  absl::Time cancel_at = absl::Now() + absl::Milliseconds(100);
  absl::StatusOr<RunQueue::Ticket> gone =
      queue.Acquire(Far(), [&] { return absl::Now() > cancel_at; });
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kCancelled);
}

TEST(RunQueueTest, ClosingRefusesTheWaitingAtOnce) {
  RunQueue queue(1, 4);
  absl::StatusOr<RunQueue::Ticket> busy = queue.Acquire(Far(), nullptr);
  ASSERT_TRUE(busy.ok());
  absl::Time closed_at;
  std::thread closer([&] {
    absl::SleepFor(absl::Milliseconds(100));
    closed_at = absl::Now();
    queue.Close();
  });
  absl::StatusOr<RunQueue::Ticket> waiting = queue.Acquire(Far(), nullptr);
  absl::Time refused_at = absl::Now();
  closer.join();
  EXPECT_EQ(waiting.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_LT(refused_at - closed_at, absl::Milliseconds(50));
  EXPECT_EQ(queue.Acquire(Far(), nullptr).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(queue.queued(), 0);
}

// Waiters are served in arrival order, and one that gives up does not block the rest.
TEST(RunQueueTest, ArrivalOrderSurvivesAbandonment) {
  RunQueue queue(1, 8);
  std::optional<absl::StatusOr<RunQueue::Ticket>> busy(queue.Acquire(Far(), nullptr));
  std::vector<int> order;
  absl::Mutex mu;
  std::thread quitter([&] {
    queue.Acquire(absl::Now() + absl::Milliseconds(50), nullptr).IgnoreError();
  });
  while (queue.queued() < 1) absl::SleepFor(absl::Milliseconds(2));
  std::vector<std::thread> waiters;
  for (int i = 0; i < 3; ++i) {
    waiters.emplace_back([&, i] {
      absl::StatusOr<RunQueue::Ticket> ticket = queue.Acquire(Far(), nullptr);
      absl::MutexLock lock(&mu);
      order.push_back(i);
    });
    absl::SleepFor(absl::Milliseconds(20));  // Let it take its place in line.
  }
  quitter.join();
  busy.reset();
  for (std::thread& waiter : waiters) waiter.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
}

// A held place counts against the queue, so that calls not ready to run cannot pile
// up, yet waits for no turn: a free slot still goes at once to a request that asks.
TEST(RunQueueTest, HeldPlacesCountAgainstTheQueueButWaitForNoTurn) {
  RunQueue queue(1, 2);
  absl::StatusOr<RunQueue::Place> first = queue.Hold();
  absl::StatusOr<RunQueue::Place> second = queue.Hold();
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(queue.queued(), 2);
  EXPECT_EQ(queue.Hold().status().code(), absl::StatusCode::kResourceExhausted);
  {
    absl::StatusOr<RunQueue::Ticket> runs = queue.Acquire(Far(), nullptr);
    EXPECT_TRUE(runs.ok()) << runs.status();
    // Running, with the queue full of places: the next request has nowhere to wait.
    EXPECT_EQ(queue.Acquire(Far(), nullptr).status().code(),
              absl::StatusCode::kResourceExhausted);
  }
  first = absl::CancelledError("left");
  EXPECT_EQ(queue.queued(), 1);
  EXPECT_TRUE(queue.Hold().ok());
  EXPECT_FALSE(queue.WaitIdle(absl::Now()));
  second = absl::CancelledError("left");
  EXPECT_TRUE(queue.WaitIdle(absl::Now()));
}

}  // namespace
}  // namespace sandboxd

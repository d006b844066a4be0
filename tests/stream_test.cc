// ExecStream end to end: live output, stdin, signals, and the command's tree dying with
// the call (cancel, deadline) — plus cancellation of the unary Exec.

#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <grpcpp/client_context.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "sandbox/v1/sandbox.grpc.pb.h"
#include "tests/sandboxd_process.h"
#include "tests/test_util.h"

namespace sandboxd::testing {
namespace {

using ::testing::HasSubstr;
namespace v1 = ::sandbox::v1;
using Stream = grpc::ClientReaderWriter<v1::ExecStreamRequest, v1::ExecStreamResponse>;

v1::ExecStreamRequest Start(std::initializer_list<std::string> argv) {
  v1::ExecStreamRequest message;
  for (const std::string& arg : argv) message.mutable_start()->add_argv(arg);
  return message;
}

// Everything a stream sent: output per stream, when each chunk came, and the result.
struct Received {
  std::string out, err;
  std::vector<absl::Time> chunk_times;
  v1::ExecResponse result;
  bool has_result = false;
};

// Reads until the server ends the stream, half-closing after the result unless the
// caller already did; calls `on_output` with stdout so far.
Received ReadAll(Stream& stream, const std::function<void(const std::string&)>& on_output = {},
                 bool half_close = true) {
  Received received;
  v1::ExecStreamResponse message;
  while (stream.Read(&message)) {
    if (message.has_result()) {
      received.result = message.result();
      received.has_result = true;
      if (half_close) stream.WritesDone();
      continue;
    }
    const v1::OutputChunk& chunk = message.output();
    std::string& sink = chunk.stream() == v1::STDOUT ? received.out : received.err;
    EXPECT_EQ(chunk.offset(), sink.size());
    sink += chunk.data() + chunk.text();
    received.chunk_times.push_back(absl::Now());
    if (on_output && chunk.stream() == v1::STDOUT) on_output(received.out);
  }
  return received;
}

class StreamTest : public SharedServerTest {
 protected:
  static void SetUpTestSuite() { StartServer(); }
  void SetUp() override {
    ASSERT_NE(server_, nullptr);
    stub_ = v1::SandboxService::NewStub(server_->channel());
  }

  std::unique_ptr<v1::SandboxService::Stub> stub_;
};

TEST_F(StreamTest, OutputArrivesBeforeTheCommandEnds) {
  grpc::ClientContext context;
  auto stream = stub_->ExecStream(&context);
  ASSERT_TRUE(stream->Write(Start({"sh", "-c", "echo first; sleep 1; echo second >&2"})));
  Received received = ReadAll(*stream);
  ASSERT_TRUE(stream->Finish().ok());
  ASSERT_TRUE(received.has_result);
  EXPECT_EQ(received.out, "first\n");
  EXPECT_EQ(received.err, "second\n");
  ASSERT_EQ(received.chunk_times.size(), 2u);
  EXPECT_GE(received.chunk_times[1] - received.chunk_times[0], absl::Milliseconds(700));
  EXPECT_EQ(received.result.termination(), v1::EXITED);
  EXPECT_EQ(received.result.stdout(), "");  // It came in chunks.
  EXPECT_EQ(received.result.stdout_total_bytes(), 6u);
}

TEST_F(StreamTest, StdinReachesTheCommandUntilClosed) {
  grpc::ClientContext context;
  auto stream = stub_->ExecStream(&context);
  v1::ExecStreamRequest start = Start({"tr", "a-z", "A-Z"});
  start.mutable_start()->set_stdin("first ");
  ASSERT_TRUE(stream->Write(start));
  v1::ExecStreamRequest more;
  more.set_stdin("second");
  ASSERT_TRUE(stream->Write(more));
  v1::ExecStreamRequest close;
  close.set_close_stdin(true);
  ASSERT_TRUE(stream->Write(close));
  Received received = ReadAll(*stream);
  ASSERT_TRUE(stream->Finish().ok());
  EXPECT_EQ(received.out, "FIRST SECOND");
  EXPECT_EQ(received.result.exit_code(), 0);
}

TEST_F(StreamTest, HalfClosingClosesStdin) {
  grpc::ClientContext context;
  auto stream = stub_->ExecStream(&context);
  v1::ExecStreamRequest start = Start({"wc", "-c"});
  start.mutable_start()->set_stdin("12345");
  ASSERT_TRUE(stream->Write(start));
  ASSERT_TRUE(stream->WritesDone());
  Received received = ReadAll(*stream, {}, /*half_close=*/false);
  ASSERT_TRUE(stream->Finish().ok());
  EXPECT_EQ(received.out, "5\n");
}

TEST_F(StreamTest, InterruptReachesTheCommand) {
  grpc::ClientContext context;
  auto stream = stub_->ExecStream(&context);
  ASSERT_TRUE(stream->Write(Start(
      {"sh", "-c", "trap 'echo caught; exit 7' INT; echo ready; while :; do sleep 0.1; done"})));
  Received received = ReadAll(*stream, [&](const std::string& out) {
    if (out != "ready\n") return;
    v1::ExecStreamRequest interrupt;
    interrupt.set_signal(v1::SIGNAL_INTERRUPT);
    stream->Write(interrupt);
  });
  ASSERT_TRUE(stream->Finish().ok());
  EXPECT_EQ(received.out, "ready\ncaught\n");
  EXPECT_EQ(received.result.exit_code(), 7);
}

TEST_F(StreamTest, TerminateReachesTheWholeGroup) {
  const std::string marker = "sleep 53117";
  grpc::ClientContext context;
  auto stream = stub_->ExecStream(&context);
  ASSERT_TRUE(stream->Write(Start({"sh", "-c", marker + " & " + marker + " & echo ready; wait"})));
  Received received = ReadAll(*stream, [&](const std::string& out) {
    if (out != "ready\n") return;
    v1::ExecStreamRequest terminate;
    terminate.set_signal(v1::SIGNAL_TERMINATE);
    stream->Write(terminate);
  });
  ASSERT_TRUE(stream->Finish().ok());
  EXPECT_EQ(received.result.termination(), v1::SIGNALED);  // sh itself, killed by it.
  EXPECT_EQ(received.result.signal(), SIGTERM);
  EXPECT_EQ(received.result.exit_code(), 128 + SIGTERM);
  EXPECT_TRUE(GoneWithin(marker, absl::Seconds(5)));
}

TEST_F(StreamTest, CancelKillsTheTree) {
  const std::string marker = "sleep 53118";
  grpc::ClientContext context;
  auto stream = stub_->ExecStream(&context);
  ASSERT_TRUE(stream->Write(
      Start({"sh", "-c", marker + " & setsid " + marker + " & echo ready; wait"})));
  ReadAll(*stream, [&](const std::string& out) {
    if (out == "ready\n") context.TryCancel();
  });
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(GoneWithin(marker, absl::Seconds(5)));
}

TEST_F(StreamTest, DeadlineKillsTheTree) {
  const std::string marker = "sleep 53119";
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
  auto stream = stub_->ExecStream(&context);
  ASSERT_TRUE(stream->Write(Start({"sh", "-c", marker + " & " + marker})));
  ReadAll(*stream);
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_TRUE(GoneWithin(marker, absl::Seconds(5)));
}

// A client that stops reading holds the server's writes back (flow control); the
// command's timeout must still end it on time, and the call with it.
TEST_F(StreamTest, AClientThatStopsReadingDoesNotKeepTheCommandAlive) {
  const std::string marker = "yes 53127-unread";
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  auto stream = stub_->ExecStream(&context);
  v1::ExecStreamRequest start = Start({"sh", "-c", marker});
  start.mutable_start()->set_output_limit_bytes(64 << 20);
  start.mutable_start()->mutable_timeout()->set_seconds(1);
  absl::Time started = absl::Now();
  ASSERT_TRUE(stream->Write(start));
  absl::SleepFor(absl::Milliseconds(600));
  EXPECT_GT(CountProcesses(marker), 0);  // It runs, its output backed up behind us.
  EXPECT_TRUE(GoneWithin(marker, absl::Seconds(2)));
  EXPECT_LT(absl::Now() - started, absl::Milliseconds(1800));  // Its timeout, not later.
  // The call ends by itself, the server giving up on a client that took nothing for
  // seconds: what was sent before can still be read, and then the call is over.
  absl::SleepFor(absl::Seconds(6));
  v1::ExecStreamResponse message;
  bool result = false;
  while (stream->Read(&message)) result = result || message.has_result();
  EXPECT_FALSE(result);
  grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_LT(absl::Now() - started, absl::Seconds(10));
}

// The usual `for response in call` loop: the client never half-closes, and the call
// still ends with OK as soon as the result is out.
TEST_F(StreamTest, EndsWithOkWithoutAHalfClose) {
  grpc::ClientContext context;
  auto stream = stub_->ExecStream(&context);
  ASSERT_TRUE(stream->Write(Start({"echo", "done"})));
  absl::Time result_at = absl::InfiniteFuture();
  v1::ExecStreamResponse message;
  while (stream->Read(&message)) {
    if (message.has_result()) result_at = absl::Now();
  }
  grpc::Status status = stream->Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_LT(absl::Now() - result_at, absl::Milliseconds(500));
}

// Misuse ends the call with INVALID_ARGUMENT and kills the command, rather than
// leaving it to its timeout.
class StreamMisuseTest : public StreamTest {
 protected:
  // Starts a command that would sleep for a minute, then sends `misuse`.
  void ExpectRefused(const v1::ExecStreamRequest& misuse, const std::string& message,
                     const std::string& marker) {
    grpc::ClientContext context;
    auto stream = stub_->ExecStream(&context);
    v1::ExecStreamRequest start = Start({"sh", "-c", marker + "; echo ready; sleep 60"});
    ASSERT_TRUE(stream->Write(start));
    absl::Time sent = absl::InfiniteFuture();
    v1::ExecStreamResponse response;
    while (stream->Read(&response)) {
      if (response.output().data() == "ready\n") {
        ASSERT_GT(CountProcesses("sleep 60"), 0);
        sent = absl::Now();
        stream->Write(misuse);
      }
    }
    grpc::Status status = stream->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr(message));
    EXPECT_LT(absl::Now() - sent, absl::Seconds(2));
    EXPECT_TRUE(GoneWithin(marker, absl::Seconds(2)));
  }
};

TEST_F(StreamMisuseTest, ASecondStartIsRefused) {
  ExpectRefused(Start({"true"}), "a second start", "true 53130");
}

TEST_F(StreamMisuseTest, AnUnknownSignalIsRefused) {
  v1::ExecStreamRequest unspecified;
  unspecified.set_signal(v1::SIGNAL_UNSPECIFIED);
  ExpectRefused(unspecified, "signal 0 is not one", "true 53131");
  v1::ExecStreamRequest unknown;
  unknown.set_signal(static_cast<v1::Signal>(99));
  ExpectRefused(unknown, "signal 99 is not one", "true 53132");
}

TEST_F(StreamMisuseTest, AnEmptyMessageIsRefused) {
  ExpectRefused(v1::ExecStreamRequest(), "none of start, stdin", "true 53133");
}

// A command that reads none of its stdin: the 2 MiB the client sends are far more than
// its pipe holds, and the signal behind them still arrives at once.
TEST_F(StreamTest, SignalsDoNotWaitBehindStdin) {
  grpc::ClientContext context;
  auto stream = stub_->ExecStream(&context);
  ASSERT_TRUE(stream->Write(Start(
      {"sh", "-c", "trap 'echo caught; exit 7' TERM; echo ready; while :; do sleep 0.1; done"})));
  absl::Time sent = absl::InfiniteFuture();
  Received received = ReadAll(*stream, [&](const std::string& out) {
    if (out != "ready\n") return;
    v1::ExecStreamRequest chunk;
    chunk.set_stdin(std::string(64 << 10, 'x'));
    for (int i = 0; i < 32; ++i) ASSERT_TRUE(stream->Write(chunk));
    v1::ExecStreamRequest terminate;
    terminate.set_signal(v1::SIGNAL_TERMINATE);
    ASSERT_TRUE(stream->Write(terminate));
    sent = absl::Now();
  });
  ASSERT_TRUE(stream->Finish().ok());
  EXPECT_LT(absl::Now() - sent, absl::Seconds(3));
  EXPECT_EQ(received.out, "ready\ncaught\n");
  EXPECT_EQ(received.result.exit_code(), 7);
}

// A signal sent with the start message waits for the command to exist, rather than
// being lost while the sandbox is set up.
TEST_F(StreamTest, ASignalBeforeTheCommandStartsIsNotLost) {
  grpc::ClientContext context;
  auto stream = stub_->ExecStream(&context);
  ASSERT_TRUE(stream->Write(Start({"sleep", "60"})));
  v1::ExecStreamRequest kill;
  kill.set_signal(v1::SIGNAL_KILL);
  absl::Time sent = absl::Now();
  ASSERT_TRUE(stream->Write(kill));
  Received received = ReadAll(*stream);
  ASSERT_TRUE(stream->Finish().ok());
  EXPECT_LT(absl::Now() - sent, absl::Seconds(5));
  EXPECT_EQ(received.result.termination(), v1::SIGNALED);
  EXPECT_EQ(received.result.signal(), SIGKILL);
  EXPECT_EQ(received.result.exit_code(), 128 + SIGKILL);
}

// A request that fails only once it runs (here: a protected path that is a symlink)
// gets its own status at once, without waiting for the client to half-close.
TEST_F(StreamTest, AnErrorAfterAdmissionEndsTheCallAtOnce) {
  absl::StatusOr<std::string> workspace = server_->MakeWorkspace();
  ASSERT_TRUE(workspace.ok()) << workspace.status();
  std::filesystem::create_directory_symlink("/tmp", *workspace + "/.git");
  grpc::ClientContext context;
  auto stream = stub_->ExecStream(&context);
  v1::ExecStreamRequest start = Start({"true"});
  start.mutable_start()->set_cwd(*workspace);
  start.mutable_start()->mutable_policy()->set_mode(v1::WORKSPACE_WRITE);
  absl::Time sent = absl::Now();
  ASSERT_TRUE(stream->Write(start));
  v1::ExecStreamResponse response;
  EXPECT_FALSE(stream->Read(&response));
  grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("is a symlink"));
  EXPECT_LT(absl::Now() - sent, absl::Seconds(2));
}

// The server's resident memory, in KiB.
int64_t ResidentKib(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

// A burst of streams whose clients read late holds megabytes per stream in the server
// (the control: the peak); once they are over, the memory goes back to the system.
TEST_F(StreamTest, MemoryReturnsAfterABurst) {
  constexpr int kStreams = 12;
  int64_t before = ResidentKib(server_->pid());
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<Stream>> streams;
  for (int i = 0; i < kStreams; ++i) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    streams.push_back(stub_->ExecStream(contexts.back().get()));
    v1::ExecStreamRequest start = Start({"head", "-c", "24000000", "/dev/zero"});
    start.mutable_start()->set_output_limit_bytes(32 << 20);
    ASSERT_TRUE(streams.back()->Write(start));
  }
  absl::SleepFor(absl::Milliseconds(1500));  // Nobody reads: the outboxes fill.
  int64_t peak = ResidentKib(server_->pid());
  std::vector<std::thread> readers;
  for (auto& stream : streams) {
    readers.emplace_back([&stream] {
      Received received = ReadAll(*stream);
      EXPECT_EQ(received.out.size(), 24000000u);
      EXPECT_TRUE(stream->Finish().ok());
    });
  }
  for (std::thread& reader : readers) reader.join();
  absl::SleepFor(absl::Seconds(3));
  int64_t after = ResidentKib(server_->pid());
  std::cerr << "server RSS before: " << before << " KiB, with " << kStreams
            << " streams unread: " << peak << " KiB, 3 s after: " << after << " KiB\n";
  EXPECT_GT(peak - before, 24 << 10);
  EXPECT_LT(after - before, 16 << 10);
}

// A command that never stops writing still meets its timeout.
TEST_F(StreamTest, TimeoutHoldsAgainstEndlessOutput) {
  grpc::ClientContext context;
  auto stream = stub_->ExecStream(&context);
  v1::ExecStreamRequest start = Start({"yes"});
  start.mutable_start()->set_output_limit_bytes(64 << 20);
  start.mutable_start()->mutable_timeout()->set_nanos(500'000'000);
  ASSERT_TRUE(stream->Write(start));
  Received received = ReadAll(*stream);
  EXPECT_TRUE(stream->Finish().ok());
  ASSERT_TRUE(received.has_result);
  EXPECT_EQ(received.result.termination(), v1::TIMED_OUT);
  EXPECT_GT(received.out.size(), 0u);
}

TEST_F(StreamTest, TextChunksNeverSplitACharacter) {
  grpc::ClientContext context;
  auto stream = stub_->ExecStream(&context);
  v1::ExecStreamRequest start = Start({"sh", "-c", "printf '\\303'; sleep 0.3; printf '\\251\\n'"});
  start.mutable_start()->set_output_encoding(v1::OUTPUT_TEXT);
  ASSERT_TRUE(stream->Write(start));
  Received received = ReadAll(*stream);
  ASSERT_TRUE(stream->Finish().ok());
  EXPECT_EQ(received.out, "\xC3\xA9\n");
}

TEST_F(StreamTest, FirstMessageMustBeStart) {
  grpc::ClientContext context;
  auto stream = stub_->ExecStream(&context);
  v1::ExecStreamRequest stdin_first;
  stdin_first.set_stdin("x");
  stream->Write(stdin_first);
  stream->WritesDone();
  ReadAll(*stream);
  grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("must be `start`"));
}

TEST_F(StreamTest, BadStartGetsAClearStatus) {
  grpc::ClientContext context;
  auto stream = stub_->ExecStream(&context);
  v1::ExecStreamRequest start = Start({"true"});
  start.mutable_start()->set_cwd("relative");
  stream->Write(start);
  ReadAll(*stream);
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

// The unary call dies with its client too.
TEST_F(StreamTest, CancellingAnExecKillsTheTree) {
  const std::string marker = "sleep 53120";
  grpc::ClientContext context;
  v1::ExecRequest request;
  for (const std::string& arg : {std::string("sh"), std::string("-c"), marker + " & " + marker}) {
    request.add_argv(arg);
  }
  std::thread canceller([&] {
    for (int i = 0; i < 100 && CountProcesses(marker) < 2; ++i) {
      absl::SleepFor(absl::Milliseconds(50));
    }
    context.TryCancel();
  });
  v1::ExecResponse response;
  grpc::Status status = stub_->Exec(&context, request, &response);
  canceller.join();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(GoneWithin(marker, absl::Seconds(5)));
}

}  // namespace
}  // namespace sandboxd::testing

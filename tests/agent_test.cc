// Agent sessions end to end: processes started by id that outlive their call, their
// terminals, sessions that keep /tmp between calls, and file calls, against a real
// server with two tenants.

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/read_file.h"
#include "sandbox/v1/sandbox.grpc.pb.h"
#include "tests/sandboxd_process.h"
#include "tests/test_util.h"

namespace sandboxd::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
namespace v1 = ::sandbox::v1;

constexpr char kAlice[] = "alice-token";
constexpr char kBob[] = "bob-token";
// Kept of each output stream (--process_output_bytes), and a session's idle time.
constexpr uint64_t kKeptBytes = 65536;
constexpr int kSessionIdleSeconds = 3;

std::string Scratch(const std::string& name) {
  return absl::StrCat(std::getenv("TEST_TMPDIR"), "/", name);
}

std::unique_ptr<grpc::ClientContext> Context(const std::string& token,
                                             absl::Duration timeout = absl::Seconds(30)) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("authorization", absl::StrCat("Bearer ", token));
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  return context;
}

void SetSeconds(google::protobuf::Duration* duration, double seconds) {
  duration->set_seconds(static_cast<int64_t>(seconds));
  duration->set_nanos(static_cast<int32_t>((seconds - static_cast<int64_t>(seconds)) * 1e9));
}

class AgentTest : public SharedServerTest {
 protected:
  static void SetUpTestSuite() {
    std::ofstream(Scratch("tokens")) << "alice " << kAlice << "\nbob " << kBob << "\n";
    SandboxdProcess::Options options;
    options.flags = {"--auth_tokens_file=" + Scratch("tokens"), "--replica=alpha",
                     absl::StrCat("--process_output_bytes=", kKeptBytes),
                     absl::StrCat("--session_idle_timeout=", kSessionIdleSeconds, "s"),
                     "--max_processes_per_client=6", "--session_tmp_bytes=1M"};
    StartServer(options);
  }
  void SetUp() override {
    ASSERT_NE(server_, nullptr);
    stub_ = v1::SandboxService::NewStub(server_->channel());
    absl::StatusOr<std::string> workspace = server_->MakeWorkspace();
    ASSERT_TRUE(workspace.ok()) << workspace.status();
    workspace_ = *workspace;
  }
  // Each test's processes go with it, so that none counts against the next's cap.
  void TearDown() override {
    for (const char* token : {kAlice, kBob}) {
      v1::ListProcessesResponse listed;
      ASSERT_TRUE(stub_->ListProcesses(Context(token).get(), {}, &listed).ok());
      for (const v1::ProcessInfo& process : listed.processes()) {
        EXPECT_TRUE(Kill(process.process_id(), token).ok());
      }
    }
  }

  // Starts `argv` for `token`; the call must succeed.
  v1::ProcessOutput Start(std::vector<std::string> argv, const std::string& token = kAlice,
                          std::function<void(v1::StartProcessRequest&)> edit = {}) {
    v1::StartProcessRequest request;
    for (const std::string& arg : argv) request.mutable_exec()->add_argv(arg);
    if (edit) edit(request);
    v1::ProcessOutput output;
    grpc::Status status = stub_->StartProcess(Context(token).get(), request, &output);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return output;
  }

  grpc::Status Read(const std::string& id, uint64_t out_offset, double wait, bool until_exit,
                    v1::ProcessOutput* output, const std::string& token = kAlice,
                    v1::SandboxService::Stub* stub = nullptr) {
    v1::ReadProcessRequest request;
    request.set_process_id(id);
    request.set_stdout_offset(out_offset);
    SetSeconds(request.mutable_wait(), wait);
    request.set_until_exit(until_exit);
    return (stub != nullptr ? stub : stub_.get())
        ->ReadProcess(Context(token, absl::Seconds(wait + 30)).get(), request, output);
  }

  // Reads stdout from `offset` until it holds `text` (or 10 s pass); returns all read.
  std::string ReadUntil(const std::string& id, const std::string& text, uint64_t& offset) {
    std::string seen;
    absl::Time give_up = absl::Now() + absl::Seconds(10);
    while (!absl::StrContains(seen, text) && absl::Now() < give_up) {
      v1::ProcessOutput output;
      grpc::Status status = Read(id, offset, 1, false, &output);
      if (!status.ok()) {
        ADD_FAILURE() << status.error_message();
        break;
      }
      seen += output.stdout().data();
      offset = output.stdout().next_offset();
      if (!output.running()) break;
    }
    return seen;
  }

  grpc::Status Write(const std::string& id, const std::string& text, bool close = false,
                     const std::string& token = kAlice) {
    v1::WriteProcessRequest request;
    request.set_process_id(id);
    request.set_text(text);
    request.set_close_stdin(close);
    v1::WriteProcessResponse response;
    return stub_->WriteProcess(Context(token).get(), request, &response);
  }

  grpc::Status Kill(const std::string& id, const std::string& token = kAlice) {
    v1::KillProcessRequest request;
    request.set_process_id(id);
    v1::KillProcessResponse response;
    return stub_->KillProcess(Context(token).get(), request, &response);
  }

  v1::SandboxPolicy WritablePolicy() const {
    v1::SandboxPolicy policy;
    policy.set_mode(v1::WORKSPACE_WRITE);
    policy.add_writable_roots(workspace_);
    return policy;
  }

  std::string CreateSession(const std::string& token = kAlice) {
    v1::CreateSessionRequest request;
    *request.mutable_defaults()->mutable_policy() = WritablePolicy();
    request.mutable_defaults()->set_cwd(workspace_);
    v1::Session session;
    grpc::Status status = stub_->CreateSession(Context(token).get(), request, &session);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return session.session_id();
  }

  v1::ExecResponse ExecIn(const std::string& session, const std::string& script,
                          const std::string& token = kAlice) {
    v1::ExecRequest request;
    request.add_argv("sh");
    request.add_argv("-c");
    request.add_argv(script);
    request.set_session_id(session);
    v1::ExecResponse response;
    grpc::Status status = stub_->Exec(Context(token).get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  std::unique_ptr<v1::SandboxService::Stub> stub_;
  std::string workspace_;
};

TEST_F(AgentTest, ProcessSurvivesItsStartersDisconnectAndIsReadFromZeroByAnother) {
  std::string id;
  {
    // A client of its own, gone (channel and all) before the process ends.
    auto channel = grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
    auto starter = v1::SandboxService::NewStub(channel);
    v1::StartProcessRequest request;
    for (const char* arg : {"sh", "-c", "echo one; sleep 1; echo two"}) {
      request.mutable_exec()->add_argv(arg);
    }
    v1::ProcessOutput output;
    ASSERT_TRUE(starter->StartProcess(Context(kAlice).get(), request, &output).ok());
    id = output.process_id();
    EXPECT_TRUE(output.running());
  }
  EXPECT_THAT(id, StartsWith("p-"));
  EXPECT_THAT(id, ::testing::EndsWith("@alpha"));
  auto channel = grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
  auto reader = v1::SandboxService::NewStub(channel);
  v1::ProcessOutput output;
  ASSERT_TRUE(Read(id, 0, 20, true, &output, kAlice, reader.get()).ok());
  EXPECT_FALSE(output.running());
  EXPECT_EQ(output.stdout().data(), "one\ntwo\n");
  EXPECT_EQ(output.stdout().offset(), 0u);
  EXPECT_EQ(output.stdout().next_offset(), 8u);
  EXPECT_EQ(output.result().termination(), v1::EXITED);
  // Read again, from the middle.
  ASSERT_TRUE(Read(id, 4, 0, false, &output).ok());
  EXPECT_EQ(output.stdout().data(), "two\n");
}

TEST_F(AgentTest, RunForAtMostAWhileThenComeBackById) {
  v1::ProcessOutput started = Start({"sh", "-c", "echo hi; sleep 30"}, kAlice, [](auto& r) {
    SetSeconds(r.mutable_wait(), 0.5);
  });
  EXPECT_TRUE(started.running());
  EXPECT_EQ(started.stdout().data(), "hi\n");
  ASSERT_FALSE(started.process_id().empty());
  v1::KillProcessRequest kill;
  kill.set_process_id(started.process_id());
  v1::KillProcessResponse killed;
  ASSERT_TRUE(stub_->KillProcess(Context(kAlice).get(), kill, &killed).ok());
  EXPECT_EQ(killed.result().termination(), v1::CANCELLED);
  // Killed is forgotten.
  v1::ProcessOutput output;
  EXPECT_EQ(Read(started.process_id(), 0, 0, false, &output).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(AgentTest, OutputPastTheReplayBufferReportsTheLoss) {
  // Twice what is kept, then a marker.
  v1::ProcessOutput started = Start(
      {"sh", "-c", absl::StrCat("head -c ", 2 * kKeptBytes, " /dev/zero; echo END")});
  v1::ProcessOutput output;
  ASSERT_TRUE(Read(started.process_id(), 0, 20, true, &output).ok());
  const v1::ProcessStream& out = output.stdout();
  EXPECT_EQ(out.total_bytes(), 2 * kKeptBytes + 4);
  EXPECT_EQ(out.lost_bytes(), kKeptBytes + 4);
  EXPECT_EQ(out.offset(), kKeptBytes + 4);
  EXPECT_EQ(out.data().size(), kKeptBytes);
  EXPECT_TRUE(absl::EndsWith(out.data(), "END\n"));
  // Control: from the first byte kept, nothing is lost.
  ASSERT_TRUE(Read(started.process_id(), out.offset(), 0, false, &output).ok());
  EXPECT_EQ(output.stdout().lost_bytes(), 0u);
}

TEST_F(AgentTest, StdinIsWrittenAndClosedLater) {
  v1::ProcessOutput started = Start({"sh", "-c", "read first; echo got $first; cat; echo done"});
  ASSERT_TRUE(Write(started.process_id(), "hello\n").ok());
  ASSERT_TRUE(Write(started.process_id(), "more\n", /*close=*/true).ok());
  v1::ProcessOutput output;
  ASSERT_TRUE(Read(started.process_id(), 0, 20, true, &output).ok());
  EXPECT_EQ(output.stdout().data(), "got hello\nmore\ndone\n");
  EXPECT_EQ(Write(started.process_id(), "late").error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(AgentTest, ItsTimeoutBoundsItsWholeLifeUnderTheSameSandbox) {
  v1::ProcessOutput started = Start(
      {"sh", "-c", "readlink /proc/self/ns/net; cat /proc/self/status | grep Seccomp:; sleep 30"},
      kAlice, [](auto& r) { SetSeconds(r.mutable_exec()->mutable_timeout(), 1); });
  v1::ProcessOutput output;
  ASSERT_TRUE(Read(started.process_id(), 0, 20, true, &output).ok());
  EXPECT_EQ(output.result().termination(), v1::TIMED_OUT);
  EXPECT_EQ(output.result().seccomp_mode(), v1::SECCOMP_RESTRICTED);
  EXPECT_THAT(output.stdout().data(), HasSubstr("Seccomp:\t2"));
}

TEST_F(AgentTest, SignalsReachTheProcess) {
  v1::ProcessOutput started =
      Start({"sh", "-c", "trap 'echo caught; exit 5' TERM; echo ready; while :; do sleep 0.1; done"});
  uint64_t offset = 0;
  ASSERT_THAT(ReadUntil(started.process_id(), "ready", offset), HasSubstr("ready"));
  v1::SignalProcessRequest signal;
  signal.set_process_id(started.process_id());
  signal.set_signal(v1::SIGNAL_TERMINATE);
  v1::SignalProcessResponse signalled;
  ASSERT_TRUE(stub_->SignalProcess(Context(kAlice).get(), signal, &signalled).ok());
  v1::ProcessOutput output;
  ASSERT_TRUE(Read(started.process_id(), offset, 20, true, &output).ok());
  EXPECT_EQ(output.stdout().data(), "caught\n");
  EXPECT_EQ(output.result().exit_code(), 5);
}

// A signal that comes before the command exists waits for it, and holds up nothing:
// the process's timeout still ends it (a worker once hung reading for the next signal).
TEST_F(AgentTest, ASignalBeforeTheCommandStartsHoldsUpNothing) {
  for (int round = 0; round < 5; ++round) {
    v1::ProcessOutput started =
        Start({"sh", "-c", "trap '' HUP; sleep 30"}, kAlice,
              [](auto& r) { SetSeconds(r.mutable_exec()->mutable_timeout(), 1); });
    v1::SignalProcessRequest signal;
    signal.set_process_id(started.process_id());
    signal.set_signal(v1::SIGNAL_HANGUP);
    v1::SignalProcessResponse signalled;
    ASSERT_TRUE(stub_->SignalProcess(Context(kAlice).get(), signal, &signalled).ok());
    v1::ProcessOutput output;
    ASSERT_TRUE(Read(started.process_id(), 0, 10, true, &output).ok());
    EXPECT_FALSE(output.running()) << "round " << round;
    // The hangup, when it came before the trap; else the timeout.
    EXPECT_THAT(output.result().termination(),
                ::testing::AnyOf(v1::TIMED_OUT, v1::SIGNALED)) << "round " << round;
    EXPECT_TRUE(Kill(started.process_id()).ok());
  }
}

TEST_F(AgentTest, ATerminalRunsAnInteractiveShellWithJobControl) {
  v1::ProcessOutput started =
      Start({"bash", "--norc", "--noprofile", "-i"}, kAlice, [](v1::StartProcessRequest& r) {
        r.mutable_terminal()->set_rows(24);
        r.mutable_terminal()->set_cols(80);
        (*r.mutable_exec()->mutable_env())["PS1"] = "PROMPT$ ";
      });
  const std::string& id = started.process_id();
  uint64_t offset = 0;
  ASSERT_THAT(ReadUntil(id, "PROMPT$ ", offset), HasSubstr("PROMPT$ "));
  // Its own terminal, made inside the sandbox.
  ASSERT_TRUE(Write(id, "test -t 0 && tty && stty size\n").ok());
  std::string seen = ReadUntil(id, "24 80", offset);
  EXPECT_THAT(seen, HasSubstr("/dev/pts/0"));
  EXPECT_THAT(seen, HasSubstr("24 80"));
  // A resize sends SIGWINCH, and stty sees the new size.
  ASSERT_TRUE(Write(id, "trap 'echo WIN''CHED' WINCH; echo TRAP''-SET\n").ok());
  ASSERT_THAT(ReadUntil(id, "TRAP-SET", offset), HasSubstr("TRAP-SET"));
  v1::ResizeTerminalRequest resize;
  resize.set_process_id(id);
  resize.set_rows(50);
  resize.set_cols(132);
  v1::ResizeTerminalResponse resized;
  ASSERT_TRUE(stub_->ResizeTerminal(Context(kAlice).get(), resize, &resized).ok());
  ASSERT_TRUE(Write(id, "stty size\n").ok());
  seen = ReadUntil(id, "50 132", offset);
  EXPECT_THAT(seen, HasSubstr("WINCHED"));
  EXPECT_THAT(seen, HasSubstr("50 132"));
  // Ctrl-C ends the foreground job, and only it: the shell goes on.
  ASSERT_TRUE(Write(id, "sleep 100; echo after-sleep-$?\n").ok());
  absl::SleepFor(absl::Milliseconds(300));
  ASSERT_TRUE(Write(id, "\x03").ok());
  ASSERT_TRUE(Write(id, "echo alive-$((40+2))\n").ok());
  seen = ReadUntil(id, "alive-42", offset);
  EXPECT_THAT(seen, HasSubstr("alive-42"));
  EXPECT_THAT(seen, ::testing::Not(HasSubstr("after-sleep-0")));
  // End of input (Ctrl-D) ends the shell, which exits as it says.
  ASSERT_TRUE(Write(id, "exit 7\n").ok());
  v1::ProcessOutput output;
  ASSERT_TRUE(Read(id, offset, 20, true, &output).ok());
  EXPECT_FALSE(output.running());
  EXPECT_EQ(output.result().exit_code(), 7);
}

TEST_F(AgentTest, InputInjectedIntoTheTerminalStaysInIt) {
  // TIOCSTI pushes '#' into the terminal's input queue: the sandbox's own terminal,
  // where the next read in the sandbox finds it.
  v1::ProcessOutput started = Start(
      {"sh", "-c", absl::StrCat("stty raw -echo; ", server_->probe(),
                                " tiocsti; dd bs=1 count=1 2>/dev/null | od -An -c")},
      kAlice, [](v1::StartProcessRequest& r) { r.mutable_terminal(); });
  v1::ProcessOutput output;
  ASSERT_TRUE(Read(started.process_id(), 0, 20, true, &output).ok());
  EXPECT_THAT(output.stdout().data(), HasSubstr("#"));
  EXPECT_EQ(output.result().exit_code(), 0);
}

TEST_F(AgentTest, ResizeWithoutATerminalIsAFailedPrecondition) {
  v1::ProcessOutput started = Start({"sleep", "30"});
  v1::ResizeTerminalRequest resize;
  resize.set_process_id(started.process_id());
  resize.set_rows(10);
  resize.set_cols(10);
  v1::ResizeTerminalResponse resized;
  grpc::Status status = stub_->ResizeTerminal(Context(kAlice).get(), resize, &resized);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("no terminal"));
  EXPECT_TRUE(Kill(started.process_id()).ok());
}

TEST_F(AgentTest, ASessionKeepsTmpBetweenCallsAndOthersDoNot) {
  std::string session = CreateSession();
  ASSERT_THAT(session, StartsWith("s-"));
  v1::ExecResponse wrote =
      ExecIn(session, "mkdir -p $HOME/.local/lib && echo kept > $HOME/.local/lib/pkg && "
                      "echo built > /tmp/build.out");
  ASSERT_EQ(wrote.exit_code(), 0) << wrote.stderr();
  v1::ExecResponse read = ExecIn(session, "cat /tmp/build.out $HOME/.local/lib/pkg");
  EXPECT_EQ(read.stdout(), "built\nkept\n");
  // Control: without the session, /tmp is a fresh one.
  v1::ExecResponse alone = ExecIn("", "cat /tmp/build.out");
  EXPECT_NE(alone.exit_code(), 0);
  // A process in the session sees it too, and ends with the session.
  v1::ProcessOutput started = Start({"sh", "-c", "cat /tmp/build.out; sleep 100"}, kAlice,
                                    [&](auto& r) { r.mutable_exec()->set_session_id(session); });
  uint64_t offset = 0;
  EXPECT_THAT(ReadUntil(started.process_id(), "built", offset), HasSubstr("built"));
  v1::CloseSessionRequest close;
  close.set_session_id(session);
  v1::CloseSessionResponse closed;
  ASSERT_TRUE(stub_->CloseSession(Context(kAlice).get(), close, &closed).ok());
  v1::ProcessOutput output;
  EXPECT_EQ(Read(started.process_id(), 0, 0, false, &output).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(stub_->Exec(Context(kAlice).get(),
                        [&] {
                          v1::ExecRequest r = Command({"true"});
                          r.set_session_id(session);
                          return r;
                        }(),
                        &wrote)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(AgentTest, ASessionsTmpIsBounded) {
  std::string session = CreateSession();
  v1::ExecResponse filled = ExecIn(session, "head -c 2M /dev/zero > /tmp/big");
  EXPECT_NE(filled.exit_code(), 0);
  EXPECT_THAT(filled.stderr(), HasSubstr("No space left on device"));
  // Control: a command's own fresh /tmp takes it.
  EXPECT_EQ(ExecIn("", "head -c 2M /dev/zero > /tmp/big").exit_code(), 0);
  v1::GetCapabilitiesResponse capabilities;
  ASSERT_TRUE(stub_->GetCapabilities(Context(kAlice).get(), {}, &capabilities).ok());
  EXPECT_THAT(capabilities.session_tmp(), HasSubstr("a tmpfs of 1048576 bytes"));
  EXPECT_EQ(capabilities.replica(), "alpha");
}

TEST_F(AgentTest, AnIdleSessionIsReapedWithItsProcessesAndTmp) {
  std::string idle = CreateSession();
  std::string used = CreateSession();
  ASSERT_EQ(ExecIn(idle, "echo x > /tmp/marker").exit_code(), 0);
  std::string marker = absl::StrCat("idle-session-", getpid());
  v1::ProcessOutput started = Start({"bash", "-c", absl::StrCat("exec -a ", marker, " sleep 1000")},
                                    kAlice, [&](auto& r) { r.mutable_exec()->set_session_id(idle); });
  absl::SleepFor(absl::Milliseconds(500));
  ASSERT_GE(CountProcesses(marker), 1);
  auto tmp_of = [&](const std::string& session) {
    return absl::StrCat(server_->dir(), "/state/sessions/", session.substr(2, 32));
  };
  ASSERT_TRUE(std::filesystem::exists(tmp_of(idle) + "/marker"));
  // The used one gets a call each second: the control.
  for (int i = 0; i < 2 * kSessionIdleSeconds + 2; ++i) {
    absl::SleepFor(absl::Seconds(1));
    ASSERT_EQ(ExecIn(used, "true").exit_code(), 0);
  }
  EXPECT_TRUE(GoneWithin(marker, absl::Seconds(5)));
  v1::ProcessOutput output;
  EXPECT_EQ(Read(started.process_id(), 0, 0, false, &output).error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::ListSessionsResponse listed;
  ASSERT_TRUE(stub_->ListSessions(Context(kAlice).get(), {}, &listed).ok());
  std::vector<std::string> ids;
  for (const v1::Session& session : listed.sessions()) ids.push_back(session.session_id());
  EXPECT_THAT(ids, ::testing::Contains(used));
  EXPECT_THAT(ids, ::testing::Not(::testing::Contains(idle)));
  EXPECT_FALSE(std::filesystem::exists(tmp_of(idle)));
  EXPECT_TRUE(std::filesystem::exists(tmp_of(used)));
}

TEST_F(AgentTest, TenantsDoNotSeeEachOthersProcessesSessionsOrFiles) {
  std::string session = CreateSession(kAlice);
  ASSERT_EQ(ExecIn(session, "echo secret > /tmp/alice.txt").exit_code(), 0);
  v1::ProcessOutput started = Start({"sleep", "100"}, kAlice,
                                    [&](auto& r) { r.mutable_exec()->set_session_id(session); });
  const std::string& id = started.process_id();
  v1::ProcessOutput output;
  // Bob: every call about them is NOT_FOUND, as for an id that never was.
  EXPECT_EQ(Read(id, 0, 0, false, &output, kBob).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Write(id, "x", false, kBob).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Kill(id, kBob).error_code(), grpc::StatusCode::NOT_FOUND);
  v1::ListProcessesResponse bobs;
  ASSERT_TRUE(stub_->ListProcesses(Context(kBob).get(), {}, &bobs).ok());
  EXPECT_EQ(bobs.processes_size(), 0);
  v1::ExecRequest in_alices = Command({"cat", "/tmp/alice.txt"});
  in_alices.set_session_id(session);
  v1::ExecResponse response;
  EXPECT_EQ(stub_->Exec(Context(kBob).get(), in_alices, &response).error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::ReadFileRequest file;
  file.set_path("/tmp/alice.txt");
  file.mutable_scope()->set_session_id(session);
  v1::FileChunk chunk;
  auto bob_context = Context(kBob);
  auto bob_reader = stub_->ReadFile(bob_context.get(), file);
  while (bob_reader->Read(&chunk)) ADD_FAILURE() << "bob read alice's file";
  EXPECT_EQ(bob_reader->Finish().error_code(), grpc::StatusCode::NOT_FOUND);
  // Nor can Bob's commands reach Alice's /tmp on the host: the sessions live in the
  // server's state directory, hidden from every command. The control: on the host,
  // the commands' user could read it by name.
  std::string on_host = absl::StrCat(server_->dir(), "/state/sessions/",
                                     session.substr(2, 32), "/alice.txt");
  v1::ExecRequest look = Command({"cat", on_host});
  ASSERT_TRUE(stub_->Exec(Context(kBob).get(), look, &response).ok());
  EXPECT_NE(response.exit_code(), 0);
  EXPECT_EQ(response.stdout(), "");
  RunResult host = RunOnHostAs(server_->command_uid(), server_->command_gid(), {"/bin/cat", on_host});
  EXPECT_EQ(host.stdout_data.Contents(), "secret\n");
  // Control: Alice reaches all of it.
  ASSERT_TRUE(Read(id, 0, 0, false, &output, kAlice).ok());
  ASSERT_TRUE(stub_->Exec(Context(kAlice).get(), in_alices, &response).ok());
  EXPECT_EQ(response.stdout(), "secret\n");
  v1::ListProcessesResponse alices;
  ASSERT_TRUE(stub_->ListProcesses(Context(kAlice).get(), {}, &alices).ok());
  EXPECT_GE(alices.processes_size(), 1);
  EXPECT_TRUE(Kill(id).ok());
}

TEST_F(AgentTest, AnotherReplicasIdSaysWhereItLives) {
  v1::ReadProcessRequest request;
  request.set_process_id("p-0123456789abcdef0123456789abcdef@beta");
  v1::ProcessOutput output;
  auto context = Context(kAlice);
  grpc::Status status = stub_->ReadProcess(context.get(), request, &output);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("lives on replica beta"));
  auto replica = context->GetServerTrailingMetadata().find("sandboxd-replica");
  ASSERT_NE(replica, context->GetServerTrailingMetadata().end());
  EXPECT_EQ(std::string(replica->second.data(), replica->second.size()), "beta");
  // A replica that could not travel in metadata is a malformed id, not a crash.
  for (const char* bad : {"p-0123456789abcdef0123456789abcdef@b\xc3\xa9ta",
                          "p-0123456789abcdef0123456789abcdef@be\nta",
                          "p-0123456789abcdef0123456789abcdef@"}) {
    request.set_process_id(bad);
    EXPECT_EQ(stub_->ReadProcess(Context(kAlice).get(), request, &output).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
  // Control: an id of this replica's that is unknown is NOT_FOUND.
  request.set_process_id("p-0123456789abcdef0123456789abcdef@alpha");
  EXPECT_EQ(stub_->ReadProcess(Context(kAlice).get(), request, &output).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(AgentTest, EachClientHasItsOwnCapOnProcesses) {
  std::vector<std::string> ids;
  v1::ListProcessesResponse listed;
  ASSERT_TRUE(stub_->ListProcesses(Context(kBob).get(), {}, &listed).ok());
  for (const auto& process : listed.processes()) ASSERT_TRUE(Kill(process.process_id(), kBob).ok());
  for (int i = 0; i < 6; ++i) ids.push_back(Start({"sleep", "100"}, kBob).process_id());
  v1::StartProcessRequest request;
  request.mutable_exec()->add_argv("true");
  v1::ProcessOutput output;
  grpc::Status refused = stub_->StartProcess(Context(kBob).get(), request, &output);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(refused.error_message(), HasSubstr("--max_processes_per_client"));
  // Alice is not held back by Bob's, and Bob gets room back by killing one.
  EXPECT_TRUE(stub_->StartProcess(Context(kAlice).get(), request, &output).ok());
  ASSERT_TRUE(Kill(ids.back(), kBob).ok());
  EXPECT_TRUE(stub_->StartProcess(Context(kBob).get(), request, &output).ok());
  for (size_t i = 0; i + 1 < ids.size(); ++i) EXPECT_TRUE(Kill(ids[i], kBob).ok());
}

// Files.

grpc::Status WriteFileFrom(v1::SandboxService::Stub& stub, const v1::WriteFileHeader& header,
                           const std::function<bool(std::string&)>& next, v1::FileInfo* info,
                           const std::string& token = kAlice) {
  auto context = Context(token, absl::Seconds(120));
  auto writer = stub.WriteFile(context.get(), info);
  v1::WriteFileRequest message;
  *message.mutable_header() = header;
  if (!writer->Write(message)) return writer->Finish();
  std::string chunk;
  while (next(chunk)) {
    message.set_data(chunk);
    if (!writer->Write(message)) break;
  }
  writer->WritesDone();
  return writer->Finish();
}

grpc::Status WriteText(v1::SandboxService::Stub& stub, const std::string& path,
                       const std::string& text, const v1::SandboxPolicy& policy,
                       v1::FileInfo* info = nullptr) {
  v1::WriteFileHeader header;
  header.set_path(path);
  *header.mutable_scope()->mutable_policy() = policy;
  bool sent = false;
  v1::FileInfo ignored;
  return WriteFileFrom(stub, header, [&](std::string& chunk) {
    chunk = text;
    return !std::exchange(sent, true);
  }, info != nullptr ? info : &ignored);
}

absl::StatusOr<std::string> ReadText(v1::SandboxService::Stub& stub, const std::string& path,
                                     const v1::SandboxPolicy& policy = {}) {
  v1::ReadFileRequest request;
  request.set_path(path);
  *request.mutable_scope()->mutable_policy() = policy;
  auto context = Context(kAlice);
  auto reader = stub.ReadFile(context.get(), request);
  std::string data;
  v1::FileChunk chunk;
  while (reader->Read(&chunk)) data += chunk.data();
  grpc::Status status = reader->Finish();
  if (!status.ok()) return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  return data;
}

// A stream of pseudo-random bytes, the same for the same seed.
class Pattern {
 public:
  explicit Pattern(uint64_t seed) : state_(seed) {}
  void Fill(std::string& chunk, size_t size) {
    chunk.resize(size);
    for (size_t i = 0; i + 8 <= size; i += 8) {
      state_ ^= state_ << 13;
      state_ ^= state_ >> 7;
      state_ ^= state_ << 17;
      std::memcpy(&chunk[i], &state_, 8);
    }
  }

 private:
  uint64_t state_;
};

uint64_t PeakRssKiB(pid_t pid) {
  std::string status = ReadFileOrEmpty(absl::StrCat("/proc/", pid, "/status"));
  size_t at = status.find("VmHWM:");
  return at == std::string::npos ? 0 : std::strtoull(status.c_str() + at + 6, nullptr, 10);
}

TEST_F(AgentTest, AGibibyteRoundTripsByteForByteWithBoundedServerMemory) {
  constexpr size_t kChunk = size_t{1} << 20;
  constexpr int kChunks = 1024;
  std::string path = workspace_ + "/big.bin";
  v1::WriteFileHeader header;
  header.set_path(path);
  *header.mutable_scope()->mutable_policy() = WritablePolicy();
  Pattern out(42);
  int sent = 0;
  v1::FileInfo info;
  grpc::Status wrote = WriteFileFrom(*stub_, header, [&](std::string& chunk) {
    if (sent++ == kChunks) return false;
    out.Fill(chunk, kChunk);
    return true;
  }, &info);
  ASSERT_TRUE(wrote.ok()) << wrote.error_message();
  EXPECT_EQ(info.size(), uint64_t{kChunk} * kChunks);
  EXPECT_EQ(info.type(), v1::REGULAR);
  EXPECT_EQ(std::filesystem::file_size(path), uint64_t{kChunk} * kChunks);

  v1::ReadFileRequest request;
  request.set_path(path);
  auto context = Context(kAlice, absl::Seconds(120));
  auto reader = stub_->ReadFile(context.get(), request);
  Pattern expected(42);
  std::string want, have;
  v1::FileChunk chunk;
  uint64_t received = 0;
  bool same = true;
  while (reader->Read(&chunk)) {
    EXPECT_EQ(chunk.offset(), received);
    have += chunk.data();
    received += chunk.data().size();
    while (have.size() >= kChunk) {
      expected.Fill(want, kChunk);
      same = same && have.compare(0, kChunk, want) == 0;
      have.erase(0, kChunk);
    }
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(received, uint64_t{kChunk} * kChunks);
  EXPECT_TRUE(same);
  // The server held chunks, never the file.
  uint64_t peak = PeakRssKiB(server_->pid());
  std::cerr << "server's peak resident set after 1 GiB each way: " << peak << " KiB\n";
  EXPECT_LT(peak, 256u * 1024) << "KiB";
  std::filesystem::remove(path);
}

TEST_F(AgentTest, ACancelledUploadLeavesTheOldFile) {
  std::string path = workspace_ + "/kept.txt";
  ASSERT_TRUE(WriteText(*stub_, path, "old", WritablePolicy()).ok());
  v1::WriteFileHeader header;
  header.set_path(path);
  *header.mutable_scope()->mutable_policy() = WritablePolicy();
  auto context = Context(kAlice);
  v1::FileInfo info;
  auto writer = stub_->WriteFile(context.get(), &info);
  v1::WriteFileRequest message;
  *message.mutable_header() = header;
  ASSERT_TRUE(writer->Write(message));
  message.set_data(std::string(1 << 20, 'n'));
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(writer->Write(message));
  absl::SleepFor(absl::Milliseconds(200));  // The chunks reach the helper.
  context->TryCancel();
  EXPECT_EQ(writer->Finish().error_code(), grpc::StatusCode::CANCELLED);
  // The helper may still be finishing: wait for it to be gone, then look.
  absl::SleepFor(absl::Milliseconds(500));
  absl::StatusOr<std::string> now = ReadText(*stub_, path);
  ASSERT_TRUE(now.ok()) << now.status();
  EXPECT_EQ(*now, "old");
  int entries = 0;
  for (const auto& entry : std::filesystem::directory_iterator(workspace_)) {
    (void)entry;
    ++entries;
  }
  EXPECT_EQ(entries, 1) << "a temporary file was left";
  // Control: the same upload, ended by the client, replaces it.
  ASSERT_TRUE(WriteText(*stub_, path, "new", WritablePolicy()).ok());
  EXPECT_EQ(*ReadText(*stub_, path), "new");
  // And an exclusive one refuses to.
  header.set_exclusive(true);
  bool sent = false;
  grpc::Status exclusive = WriteFileFrom(*stub_, header, [&](std::string& chunk) {
    chunk = "x";
    return !std::exchange(sent, true);
  }, &info);
  EXPECT_EQ(exclusive.error_code(), grpc::StatusCode::ALREADY_EXISTS) << exclusive.error_message();
}

TEST_F(AgentTest, WritesGoOnlyWhereACommandsCould) {
  for (const char* dir : {"/.git", "/real"}) {
    std::filesystem::create_directories(workspace_ + dir);
    ASSERT_EQ(chown((workspace_ + dir).c_str(), server_->command_uid(), server_->command_gid()), 0);
  }
  // Outside the workspace, yet writable on the host to the commands' user.
  absl::StatusOr<std::string> outside = server_->MakeWorkspace();
  ASSERT_TRUE(outside.ok());
  std::filesystem::create_symlink(*outside, workspace_ + "/link");
  v1::SandboxPolicy policy = WritablePolicy();
  grpc::Status protected_write = WriteText(*stub_, workspace_ + "/.git/config", "x", policy);
  EXPECT_EQ(protected_write.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << protected_write.error_message();
  grpc::Status through_link = WriteText(*stub_, workspace_ + "/link/planted", "x", policy);
  EXPECT_EQ(through_link.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << through_link.error_message();
  EXPECT_THAT(through_link.error_message(), HasSubstr("symlink"));
  EXPECT_FALSE(std::filesystem::exists(*outside + "/planted"));
  grpc::Status read_only = WriteText(*stub_, workspace_ + "/real/f", "x", v1::SandboxPolicy());
  EXPECT_EQ(read_only.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  grpc::Status dotdot = WriteText(*stub_, workspace_ + "/real/../f", "x", policy);
  EXPECT_EQ(dotdot.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // Controls: the real path writes, and the outside directory is writable to the
  // commands' user on the host.
  v1::FileInfo info;
  EXPECT_TRUE(WriteText(*stub_, workspace_ + "/real/f", "x", policy, &info).ok());
  EXPECT_EQ(info.size(), 1u);
  RunResult host = RunOnHostAs(server_->command_uid(), server_->command_gid(),
                               {"/bin/sh", "-c", "touch " + *outside + "/planted"});
  EXPECT_EQ(host.exit_code, 0);
}

TEST_F(AgentTest, FileCallsListStatMoveAndRemove) {
  v1::SandboxPolicy policy = WritablePolicy();
  ASSERT_TRUE(WriteText(*stub_, workspace_ + "/a.txt", "hello", policy).ok());
  v1::MakeDirectoryRequest mkdir;
  mkdir.set_path(workspace_ + "/d/e");
  mkdir.set_parents(true);
  *mkdir.mutable_scope()->mutable_policy() = policy;
  v1::FileInfo info;
  ASSERT_TRUE(stub_->MakeDirectory(Context(kAlice).get(), mkdir, &info).ok());
  EXPECT_EQ(info.type(), v1::DIRECTORY);
  v1::MoveFileRequest move;
  move.set_source(workspace_ + "/a.txt");
  move.set_destination(workspace_ + "/d/e/b.txt");
  *move.mutable_scope()->mutable_policy() = policy;
  ASSERT_TRUE(stub_->MoveFile(Context(kAlice).get(), move, &info).ok());
  EXPECT_EQ(info.size(), 5u);
  absl::StatusOr<std::string> moved = ReadText(*stub_, workspace_ + "/d/e/b.txt");
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(*moved, "hello");
  v1::ListFilesRequest list;
  list.set_path(workspace_);
  list.set_depth(3);
  v1::ListFilesResponse listed;
  ASSERT_TRUE(stub_->ListFiles(Context(kAlice).get(), list, &listed).ok());
  std::vector<std::string> paths;
  for (const v1::FileInfo& entry : listed.entries()) paths.push_back(entry.path());
  EXPECT_THAT(paths, ::testing::ElementsAre(workspace_ + "/d", workspace_ + "/d/e",
                                          workspace_ + "/d/e/b.txt"));
  v1::RemoveFileRequest remove;
  remove.set_path(workspace_ + "/d");
  *remove.mutable_scope()->mutable_policy() = policy;
  v1::RemoveFileResponse removed;
  EXPECT_EQ(stub_->RemoveFile(Context(kAlice).get(), remove, &removed).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);  // Not empty.
  remove.set_recursive(true);
  ASSERT_TRUE(stub_->RemoveFile(Context(kAlice).get(), remove, &removed).ok());
  EXPECT_FALSE(std::filesystem::exists(workspace_ + "/d"));
  v1::StatFileRequest stat;
  stat.set_path(workspace_ + "/d");
  EXPECT_EQ(stub_->StatFile(Context(kAlice).get(), stat, &info).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(AgentTest, AStreamShortOfItsSizeLeavesTheOldFile) {
  std::string path = workspace_ + "/sized.txt";
  ASSERT_TRUE(WriteText(*stub_, path, "old", WritablePolicy()).ok());
  v1::WriteFileHeader header;
  header.set_path(path);
  *header.mutable_scope()->mutable_policy() = WritablePolicy();
  header.set_size(10);
  bool sent = false;
  v1::FileInfo info;
  auto one = [&](const std::string& text) {
    sent = false;
    return [&sent, text](std::string& chunk) {
      chunk = text;
      return !std::exchange(sent, true);
    };
  };
  grpc::Status short_stream = WriteFileFrom(*stub_, header, one("new"), &info);
  EXPECT_EQ(short_stream.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << short_stream.error_message();
  EXPECT_EQ(*ReadText(*stub_, path), "old");
  // Control: the size it says.
  EXPECT_TRUE(WriteFileFrom(*stub_, header, one("0123456789"), &info).ok());
  EXPECT_EQ(*ReadText(*stub_, path), "0123456789");
}

TEST_F(AgentTest, AProcessStartedAsItsSessionClosesDoesNotOutliveIt) {
  for (int round = 0; round < 20; ++round) {
    std::string session = CreateSession();
    std::thread closer([&] {
      v1::CloseSessionRequest close;
      close.set_session_id(session);
      v1::CloseSessionResponse closed;
      EXPECT_TRUE(stub_->CloseSession(Context(kAlice).get(), close, &closed).ok());
    });
    v1::StartProcessRequest request;
    for (const char* arg : {"sh", "-c", "sleep 100"}) request.mutable_exec()->add_argv(arg);
    request.mutable_exec()->set_session_id(session);
    v1::ProcessOutput output;
    grpc::Status started = stub_->StartProcess(Context(kAlice).get(), request, &output);
    closer.join();
    if (!started.ok()) {
      EXPECT_EQ(started.error_code(), grpc::StatusCode::NOT_FOUND) << started.error_message();
      continue;
    }
    // Started before the close took it: then the close killed it.
    v1::ProcessOutput read;
    grpc::Status status = Read(output.process_id(), 0, 5, true, &read);
    if (status.ok()) {
      EXPECT_FALSE(read.running()) << "round " << round;
    } else {
      EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
    }
  }
}

// A file stream whose client goes quiet gives its turn back after
// --stream_stall_timeout; the control is a server that waits an hour, where the next
// command finds no turn.
class StalledStreamTest : public ::testing::TestWithParam<bool> {};

TEST_P(StalledStreamTest, AQuietClientGivesItsTurnBack) {
  const bool bounded = GetParam();
  signal(SIGPIPE, SIG_IGN);
  SandboxdProcess::Options options;
  options.flags = {"--max_concurrent=1", "--max_queued=4",
                   bounded ? "--stream_stall_timeout=2s" : "--stream_stall_timeout=1h"};
  absl::StatusOr<std::unique_ptr<SandboxdProcess>> server = SandboxdProcess::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = v1::SandboxService::NewStub((*server)->channel());
  absl::StatusOr<std::string> workspace = (*server)->MakeWorkspace();
  ASSERT_TRUE(workspace.ok());
  std::string big = *workspace + "/big";
  {
    std::ofstream out(big);
    std::string chunk(1 << 20, 'x');
    for (int i = 0; i < 64; ++i) out << chunk;
  }
  // A reader that takes one chunk and no more, and never cancels.
  v1::ReadFileRequest request;
  request.set_path(big);
  grpc::ClientContext reading;
  auto reader = stub->ReadFile(&reading, request);
  v1::FileChunk chunk;
  ASSERT_TRUE(reader->Read(&chunk));
  // The next command waits for the only turn.
  v1::ExecResponse response;
  grpc::Status next = CallExec(*stub, Command({"true"}), absl::Seconds(6), "", &response);
  if (bounded) {
    EXPECT_TRUE(next.ok()) << next.error_message();
  } else {
    EXPECT_EQ(next.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  }
  reading.TryCancel();
}

INSTANTIATE_TEST_SUITE_P(Bounds, StalledStreamTest, ::testing::Bool());

}  // namespace
}  // namespace sandboxd::testing

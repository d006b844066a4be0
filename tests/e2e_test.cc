// End to end: a real sandboxd, a real gRPC channel, real bwrap and seccomp.

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <grpcpp/client_context.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/read_file.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "sandbox/v1/sandbox.grpc.pb.h"
#include "tests/sandboxd_process.h"
#include "tests/test_util.h"

namespace sandboxd::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
namespace v1 = ::sandbox::v1;

constexpr char kServerSecret[] = "SANDBOXD_TEST_SECRET=do-not-leak";

class E2eTest : public SharedServerTest {
 protected:
  static void SetUpTestSuite() {
    SandboxdProcess::Options options;
    options.env = {kServerSecret};
    // Without cgroups: limits_test covers them; here memory is RLIMIT_AS.
    options.flags = {"--max_cpu_time=10s", "--cgroup=none"};
    StartServer(options);
  }

  void SetUp() override {
    ASSERT_NE(server_, nullptr);
    stub_ = v1::SandboxService::NewStub(server_->channel());
    absl::StatusOr<std::string> workspace = server_->MakeWorkspace();
    ASSERT_TRUE(workspace.ok()) << workspace.status();
    workspace_ = *workspace;
  }
  void TearDown() override { std::system(absl::StrCat("rm -rf ", workspace_).c_str()); }

  grpc::Status Call(const v1::ExecRequest& request, v1::ExecResponse& response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    return stub_->Exec(&context, request, &response);
  }

  // Runs `request`, which must succeed as a call.
  v1::ExecResponse Exec(const v1::ExecRequest& request) { return ExecChecked(*stub_, request); }

  v1::ExecRequest InWorkspace(std::initializer_list<std::string> argv) {
    v1::ExecRequest request = Command(argv);
    request.set_cwd(workspace_);
    request.mutable_policy()->set_mode(v1::WORKSPACE_WRITE);
    return request;
  }

  std::unique_ptr<v1::SandboxService::Stub> stub_;
  std::string workspace_;
};

TEST_F(E2eTest, ReadingTheRootWorks) {
  v1::ExecResponse response = Exec(Command({"cat", "/etc/os-release"}));
  EXPECT_EQ(response.termination(), v1::EXITED);
  EXPECT_EQ(response.exit_code(), 0);
  EXPECT_EQ(response.stdout(), ReadFileOrEmpty("/etc/os-release"));
  EXPECT_EQ(response.backend(), v1::BACKEND_BWRAP);
  EXPECT_EQ(response.seccomp_mode(), v1::SECCOMP_RESTRICTED);
}

TEST_F(E2eTest, WritingOutsideTheWritableRootsFails) {
  std::string outside = workspace_ + "/outside";
  ASSERT_EQ(mkdir(outside.c_str(), 0755), 0);
  ASSERT_EQ(mkdir((workspace_ + "/ws").c_str(), 0755), 0);
  v1::ExecRequest request = Command({server_->probe(), "write", outside + "/file"});
  request.set_cwd(workspace_ + "/ws");
  request.mutable_policy()->set_mode(v1::WORKSPACE_WRITE);
  v1::ExecResponse response = Exec(request);
  EXPECT_EQ(response.exit_code(), 1);
  EXPECT_THAT(response.stdout(), HasSubstr("Read-only file system"));
  EXPECT_NE(access((outside + "/file").c_str(), F_OK), 0);
}

TEST_F(E2eTest, ReadOnlyModeWritesNothing) {
  v1::ExecRequest request = Command({server_->probe(), "write", workspace_ + "/file"});
  request.set_cwd(workspace_);
  v1::ExecResponse response = Exec(request);
  EXPECT_EQ(response.exit_code(), 1);
  EXPECT_NE(access((workspace_ + "/file").c_str(), F_OK), 0);
}

TEST_F(E2eTest, WritingInsideAWritableRootWorks) {
  v1::ExecResponse response = Exec(InWorkspace({"sh", "-c", "echo hello > made-inside"}));
  EXPECT_EQ(response.exit_code(), 0) << response.stderr();
  EXPECT_EQ(ReadFileOrEmpty(workspace_ + "/made-inside"), "hello\n");
}

TEST_F(E2eTest, ExtraWritableRootWorksWithCwdExcluded) {
  std::string cache = workspace_ + "/cache";
  ASSERT_EQ(mkdir(cache.c_str(), 0755), 0);
  ASSERT_EQ(chown(cache.c_str(), server_->command_uid(), server_->command_gid()), 0);
  v1::ExecRequest request = InWorkspace({"sh", "-c", "touch cache/ok; touch not-ok"});
  request.mutable_policy()->add_writable_roots(cache);
  request.mutable_policy()->set_exclude_cwd(true);
  v1::ExecResponse response = Exec(request);
  EXPECT_NE(response.exit_code(), 0);
  EXPECT_EQ(access((cache + "/ok").c_str(), F_OK), 0);
  EXPECT_NE(access((workspace_ + "/not-ok").c_str(), F_OK), 0);
}

TEST_F(E2eTest, GitDirectoryStaysReadOnly) {
  ASSERT_EQ(mkdir((workspace_ + "/.git").c_str(), 0755), 0);
  v1::ExecResponse response =
      Exec(InWorkspace({server_->probe(), "write", ".git/config"}));
  EXPECT_EQ(response.exit_code(), 1);
  EXPECT_THAT(response.stdout(), HasSubstr("Read-only file system"));
  EXPECT_NE(access((workspace_ + "/.git/config").c_str(), F_OK), 0);
}

TEST_F(E2eTest, ProtectedSymlinkIsRefused) {
  ASSERT_EQ(symlink("/etc", (workspace_ + "/.git").c_str()), 0);
  v1::ExecResponse response;
  grpc::Status status = Call(InWorkspace({"true"}), response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("is a symlink inside writable root"));
}

TEST_F(E2eTest, GitCommitWorksWithGitWritesButHooksStayProtected) {
  // Without .git, even git init cannot make one...
  EXPECT_NE(Exec(InWorkspace({"git", "init", "-q"})).exit_code(), 0);
  // ...but on the host it can, and then commits work inside the sandbox.
  ASSERT_EQ(std::system(absl::StrCat("git init -q ", workspace_, " && chown -R ",
                                     server_->command_uid(), ":", server_->command_gid(), " ",
                                     workspace_).c_str()), 0);
  v1::ExecRequest commit = InWorkspace(
      {"sh", "-c", "echo x > f && git add f && git -c user.name=a -c user.email=a@b commit -qm m"});
  commit.mutable_policy()->set_allow_git_writes(true);
  v1::ExecResponse response = Exec(commit);
  EXPECT_EQ(response.exit_code(), 0) << response.stderr();
  v1::ExecRequest hook = InWorkspace({"sh", "-c", "echo evil > .git/hooks/pre-commit"});
  hook.mutable_policy()->set_allow_git_writes(true);
  EXPECT_NE(Exec(hook).exit_code(), 0);
  EXPECT_NE(access((workspace_ + "/.git/hooks/pre-commit").c_str(), F_OK), 0);
}

TEST_F(E2eTest, DevNullIsWritable) {
  v1::ExecResponse response =
      Exec(Command({"sh", "-c", "echo discarded > /dev/null && echo ok"}));
  EXPECT_EQ(response.exit_code(), 0) << response.stderr();
  EXPECT_EQ(response.stdout(), "ok\n");
}

TEST_F(E2eTest, EachRequestHasAPrivateTmp) {
  v1::ExecResponse first = Exec(Command({"sh", "-c", "echo mine > /tmp/e2e-private; ls /tmp"}));
  EXPECT_EQ(first.exit_code(), 0) << first.stderr();
  EXPECT_EQ(first.stdout(), "e2e-private\n");
  v1::ExecResponse second = Exec(Command({"ls", "/tmp/e2e-private"}));
  EXPECT_NE(second.exit_code(), 0);
  EXPECT_NE(access("/tmp/e2e-private", F_OK), 0);
}

TEST_F(E2eTest, TimeoutKillsTheWholeTree) {
  const std::string marker = "86421";
  v1::ExecRequest request =
      Command({"sh", "-c", "sleep " + marker + " & setsid sleep " + marker + " & sleep " + marker});
  request.mutable_timeout()->set_nanos(500'000'000);
  absl::Time start = absl::Now();
  v1::ExecResponse response = Exec(request);
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  EXPECT_EQ(response.termination(), v1::TIMED_OUT);
  EXPECT_TRUE(response.timed_out());
  EXPECT_EQ(response.signal(), SIGKILL);
  EXPECT_TRUE(GoneWithin("sleep " + marker, absl::Seconds(5)));
}

TEST_F(E2eTest, TcpConnectFailsWithNetworkDisabled) {
  LoopbackListener listener;
  v1::ExecResponse response =
      Exec(Command({server_->probe(), "tcp-connect", "127.0.0.1", std::to_string(listener.port())}));
  EXPECT_EQ(response.exit_code(), 1);
  EXPECT_THAT(response.stdout(), HasSubstr("failed"));
}

// The control for the test above: the same probe reaches the listener when allowed.
TEST_F(E2eTest, TcpConnectWorksWithNetworkEnabled) {
  LoopbackListener listener;
  v1::ExecRequest request =
      Command({server_->probe(), "tcp-connect", "127.0.0.1", std::to_string(listener.port())});
  request.mutable_policy()->set_network(v1::NETWORK_ENABLED);
  v1::ExecResponse response = Exec(request);
  EXPECT_EQ(response.exit_code(), 0) << response.stdout();
  EXPECT_EQ(response.stdout(), "succeeded\n");
  EXPECT_EQ(response.seccomp_mode(), v1::SECCOMP_BASELINE);
}

TEST_F(E2eTest, ServerEnvironmentDoesNotLeak) {
  v1::ExecRequest request = Command({"env"});
  (*request.mutable_env())["GIVEN"] = "yes";
  v1::ExecResponse response = Exec(request);
  EXPECT_THAT(response.stdout(), HasSubstr("GIVEN=yes"));
  EXPECT_THAT(response.stdout(), HasSubstr("PATH=/usr/local/sbin"));
  EXPECT_THAT(response.stdout(), Not(HasSubstr("do-not-leak")));
}

TEST_F(E2eTest, StdinReachesTheCommand) {
  v1::ExecRequest request = Command({"tr", "a-z", "A-Z"});
  request.set_stdin("shout\n");
  EXPECT_EQ(Exec(request).stdout(), "SHOUT\n");
}

TEST_F(E2eTest, OutputOverTheLimitIsTruncatedHeadAndTail) {
  v1::ExecRequest request = Command({"sh", "-c", "echo BEGIN; head -c 100000 /dev/zero; echo END"});
  request.set_output_limit_bytes(1000);
  v1::ExecResponse response = Exec(request);
  EXPECT_TRUE(response.stdout_truncated());
  EXPECT_EQ(response.stdout().size(), 1000u);
  EXPECT_EQ(response.stdout_total_bytes(), 100010u);
  EXPECT_EQ(response.stdout().substr(0, 6), "BEGIN\n");
  EXPECT_EQ(response.stdout().substr(996), "END\n");
}

TEST_F(E2eTest, TextEncodingForJsonClients) {
  v1::ExecRequest request = Command({"printf", "ok\\377\\n"});
  request.set_output_encoding(v1::OUTPUT_TEXT);
  v1::ExecResponse response = Exec(request);
  EXPECT_EQ(response.stdout_text(), "ok\xEF\xBF\xBD\n");
  EXPECT_EQ(response.stdout(), "");
}

TEST_F(E2eTest, CpuLimitStopsASpinner) {
  v1::ExecRequest request = Command({"sh", "-c", "while :; do :; done"});
  request.mutable_policy()->mutable_limits()->mutable_cpu_time()->set_seconds(1);
  v1::ExecResponse response = Exec(request);
  EXPECT_EQ(response.termination(), v1::CPU_LIMIT);
  EXPECT_LT(response.wall_time().seconds(), 5);
}

TEST_F(E2eTest, CpuLimitDefaultsToTheCeilingAndIsReported) {
  v1::ExecResponse response = Exec(Command({"true"}));
  bool found = false;
  for (const v1::EnforcedLimit& limit : response.enforced_limits()) {
    if (limit.name() != "cpu_time") continue;
    found = true;
    EXPECT_EQ(limit.value(), 10u);
    EXPECT_EQ(limit.mechanism(), "RLIMIT_CPU");
  }
  EXPECT_TRUE(found);
}

TEST_F(E2eTest, FileSizeLimitStopsABigWrite) {
  v1::ExecRequest request = InWorkspace({"sh", "-c", "head -c 100000 /dev/zero > big"});
  request.mutable_policy()->mutable_limits()->set_file_size_bytes(4096);
  v1::ExecResponse response = Exec(request);
  EXPECT_EQ(response.termination(), v1::FILE_SIZE_LIMIT);
  struct stat st;
  ASSERT_EQ(stat((workspace_ + "/big").c_str(), &st), 0);
  EXPECT_LE(st.st_size, 4096);
}

TEST_F(E2eTest, OpenFilesAndMemoryLimitsReachTheCommand) {
  v1::ExecRequest request = Command({"sh", "-c", "ulimit -n; ulimit -v"});
  request.mutable_policy()->mutable_limits()->set_open_files(32);
  request.mutable_policy()->mutable_limits()->set_memory_bytes(512 << 20);
  v1::ExecResponse response = Exec(request);
  EXPECT_EQ(response.stdout(), "32\n524288\n") << response.stderr();
}

TEST_F(E2eTest, NonZeroExitIsASuccessfulCall) {
  v1::ExecResponse response = Exec(Command({"sh", "-c", "echo oops >&2; exit 42"}));
  EXPECT_EQ(response.termination(), v1::EXITED);
  EXPECT_EQ(response.exit_code(), 42);
  EXPECT_EQ(response.stderr(), "oops\n");
}

struct BadRequest {
  std::string name;
  std::function<void(v1::ExecRequest&)> edit;
  grpc::StatusCode code;
  std::string message;
};

class BadRequestTest : public E2eTest, public ::testing::WithParamInterface<BadRequest> {};

TEST_P(BadRequestTest, GetsAClearStatus) {
  v1::ExecRequest request = Command({"true"});
  GetParam().edit(request);
  v1::ExecResponse response;
  grpc::Status status = Call(request, response);
  EXPECT_EQ(status.error_code(), GetParam().code) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadRequestTest,
    ::testing::Values(
        BadRequest{"EmptyArgv", [](v1::ExecRequest& r) { r.clear_argv(); },
                   grpc::StatusCode::INVALID_ARGUMENT, "argv is empty"},
        BadRequest{"MissingWritableRoot",
                   [](v1::ExecRequest& r) {
                     r.mutable_policy()->set_mode(v1::WORKSPACE_WRITE);
                     r.mutable_policy()->add_writable_roots("/no/such/root");
                   },
                   grpc::StatusCode::INVALID_ARGUMENT, "/no/such/root cannot be used"},
        BadRequest{"RelativeCwd", [](v1::ExecRequest& r) { r.set_cwd("src"); },
                   grpc::StatusCode::INVALID_ARGUMENT, "must be an absolute path"},
        BadRequest{"UnknownMode",
                   [](v1::ExecRequest& r) {
                     r.mutable_policy()->set_mode(static_cast<v1::SandboxMode>(77));
                   },
                   grpc::StatusCode::INVALID_ARGUMENT, "policy.mode 77 is unknown"},
        BadRequest{"UnknownEncoding",
                   [](v1::ExecRequest& r) {
                     r.set_output_encoding(static_cast<v1::OutputEncoding>(5));
                   },
                   grpc::StatusCode::INVALID_ARGUMENT, "output_encoding 5 is unknown"},
        BadRequest{"CpuTimeOverCeiling",
                   [](v1::ExecRequest& r) {
                     r.mutable_policy()->mutable_limits()->mutable_cpu_time()->set_seconds(60);
                   },
                   grpc::StatusCode::PERMISSION_DENIED, "--max_cpu_time of 10s"},
        BadRequest{"DangerFullAccessRefused",
                   [](v1::ExecRequest& r) {
                     r.mutable_policy()->set_mode(v1::DANGER_FULL_ACCESS);
                   },
                   grpc::StatusCode::PERMISSION_DENIED, "--allow_danger_full_access"}),
    [](const ::testing::TestParamInfo<BadRequest>& info) { return info.param.name; });

TEST_F(E2eTest, CapabilitiesDescribeTheHost) {
  grpc::ClientContext context;
  v1::GetCapabilitiesResponse response;
  ASSERT_TRUE(stub_->GetCapabilities(&context, v1::GetCapabilitiesRequest(), &response).ok());
  EXPECT_EQ(response.backend(), v1::BACKEND_BWRAP);
  EXPECT_TRUE(response.user_namespaces());
  EXPECT_TRUE(response.proc_mount());
  EXPECT_GE(response.landlock_abi(), 1);
  EXPECT_TRUE(response.seccomp());
  EXPECT_THAT(response.bwrap_version(), HasSubstr("bubblewrap"));
  EXPECT_FALSE(response.danger_full_access_allowed());
}

TEST_F(E2eTest, ExplainShowsTheExactBwrapArgv) {
  v1::ExecRequest request = InWorkspace({"make", "test"});
  grpc::ClientContext context;
  v1::ExplainResponse response;
  ASSERT_TRUE(stub_->Explain(&context, request, &response).ok());
  EXPECT_EQ(response.backend(), v1::BACKEND_BWRAP);
  EXPECT_EQ(response.seccomp_mode(), v1::SECCOMP_RESTRICTED);
  ASSERT_GE(response.argv_size(), 3);
  // sandboxd-launch becomes the commands' user, sets the server's --max_cpu_time and
  // exposes the descriptors it is passed (the workspace, the placeholder its absent
  // .git would get, and the launcher itself, which checks the sandbox from inside),
  // then execs bwrap, which binds them.
  EXPECT_THAT(response.argv(0), ::testing::EndsWith("/sandboxd-launch"));
  std::vector<std::string> argv(response.argv().begin(), response.argv().end());
  std::string binds = server_->dir() + "/state/binds";
  std::vector<std::string> launcher = {
      "--user", absl::StrCat(server_->command_uid(), ":", server_->command_gid()), "--cpu",
      "10:11", "--fds", "3", "--expose", binds, "--", "/usr/bin/bwrap"};
  EXPECT_EQ(std::vector<std::string>(argv.begin() + 1, argv.begin() + 11), launcher);
  EXPECT_EQ(response.argv(response.argv_size() - 2), "make");
  auto bind = std::find(argv.begin(), argv.end(), "--bind");
  ASSERT_NE(bind, argv.end());
  EXPECT_EQ(std::vector<std::string>(bind, bind + 3),
            (std::vector<std::string>{"--bind", binds + "/0", workspace_}));
  EXPECT_THAT(argv, ::testing::IsSupersetOf(std::vector<std::string>{
                        "--cap-drop", "--verify", "--rw", workspace_}));
  // The command starts in a pre-started launcher's network namespace: bwrap makes none.
  EXPECT_THAT(argv, Not(::testing::Contains("--unshare-net")));
  EXPECT_THAT(response.network_namespace(), HasSubstr("launcher"));
  EXPECT_EQ(response.cwd(), workspace_);
  EXPECT_EQ(response.timeout().seconds(), 60);
  // Nothing ran: no file appeared, and the placeholder for the absent .git was not made.
  EXPECT_NE(access((workspace_ + "/.git").c_str(), F_OK), 0);
}

TEST_F(E2eTest, HealthServiceServes) {
  auto stub = grpc::health::v1::Health::NewStub(server_->channel());
  grpc::ClientContext context;
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  ASSERT_TRUE(stub->Check(&context, request, &response).ok());
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

// Results an agent can act on without reading stderr.

TEST_F(E2eTest, AProgramThatDoesNotExistIsExecFailed127) {
  v1::ExecResponse response = Exec(Command({"no-such-program-53140"}));
  EXPECT_EQ(response.termination(), v1::EXEC_FAILED);
  EXPECT_EQ(response.exit_code(), 127);
  EXPECT_THAT(response.message(), HasSubstr("the program no-such-program-53140 was not found"));
  // The control: a command that prints the same words and fails ran, and says so.
  v1::ExecResponse imitation = Exec(Command(
      {"sh", "-c", "echo out; echo 'bwrap: execvp x: No such file or directory' >&2; exit 1"}));
  EXPECT_EQ(imitation.termination(), v1::EXITED);
  EXPECT_EQ(imitation.exit_code(), 1);
}

TEST_F(E2eTest, AProgramThatIsNotExecutableIsExecFailed126) {
  std::ofstream(workspace_ + "/run.sh") << "#!/bin/sh\necho ran\n";
  ASSERT_EQ(chmod((workspace_ + "/run.sh").c_str(), 0644), 0);
  v1::ExecResponse response = Exec(InWorkspace({"./run.sh"}));
  EXPECT_EQ(response.termination(), v1::EXEC_FAILED);
  EXPECT_EQ(response.exit_code(), 126);
  EXPECT_THAT(response.message(), HasSubstr("./run.sh could not be executed: Permission denied"));
  // The control: executable, it runs.
  ASSERT_EQ(chmod((workspace_ + "/run.sh").c_str(), 0755), 0);
  v1::ExecResponse ran = Exec(InWorkspace({"./run.sh"}));
  EXPECT_EQ(ran.termination(), v1::EXITED);
  EXPECT_EQ(ran.stdout(), "ran\n");
}

// bwrap reports a command killed by SIGTERM as exiting with 143; the result says
// SIGNALED with the signal, as it does for a signal from the client.
TEST_F(E2eTest, DeathByASignalIsSignaled) {
  v1::ExecResponse response = Exec(Command({"sh", "-c", "kill -TERM $$"}));
  EXPECT_EQ(response.termination(), v1::SIGNALED);
  EXPECT_EQ(response.signal(), SIGTERM);
  EXPECT_EQ(response.exit_code(), 128 + SIGTERM);
  EXPECT_EQ(response.message(), "killed by SIGTERM");
}

// The sandbox cannot start in a directory the command's user may not enter: that is
// bwrap's or the launcher's failure, not the command's exit.
TEST_F(E2eTest, ASandboxThatCannotBeSetUpIsSetupFailed) {
  if (server_->command_uid() == geteuid()) GTEST_SKIP() << "needs commands to run as another user";
  std::string closed = workspace_ + "/closed";
  ASSERT_EQ(mkdir(closed.c_str(), 0700), 0);
  ASSERT_EQ(chown(closed.c_str(), 0, 0), 0);
  v1::ExecRequest request = Command({"true"});
  request.set_cwd(closed);
  v1::ExecResponse response = Exec(request);
  EXPECT_EQ(response.termination(), v1::SETUP_FAILED) << response.stderr();
  EXPECT_THAT(response.message(), HasSubstr("the sandbox could not be set up"));
  EXPECT_NE(response.exit_code(), 0);
  // The control: the same directory, open to the command's user.
  ASSERT_EQ(chmod(closed.c_str(), 0755), 0);
  EXPECT_EQ(Exec(request).termination(), v1::EXITED);
}

}  // namespace
}  // namespace sandboxd::testing

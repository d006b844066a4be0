#include "client/exec_command.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sandboxd {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
namespace v1 = ::sandbox::v1;

ParsedArgs Parse(const std::vector<std::string>& words) {
  absl::StatusOr<ParsedArgs> args = ParseArgs(words, ExecOptions());
  EXPECT_TRUE(args.ok()) << args.status();
  return *args;
}

TEST(BuildExecRequestTest, MapsEveryOption) {
  absl::StatusOr<v1::ExecRequest> request = BuildExecRequest(
      Parse({"--mode=workspace-write", "--writable=/a", "--writable=/b", "--exclude-cwd",
             "--protect=.env", "--allow-git-writes", "--readable=/data", "--deny-read=/k",
             "--network", "--env=A=1=2", "--timeout=1m30s",
             "--output-limit=100", "--cpu-time=2s", "--memory=2G", "--file-size=10",
             "--open-files=7", "--", "make", "-j2"}),
      "/home/me");
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_THAT(request->argv(), ElementsAre("make", "-j2"));
  EXPECT_EQ(request->cwd(), "/home/me");
  EXPECT_EQ(request->policy().mode(), v1::WORKSPACE_WRITE);
  EXPECT_THAT(request->policy().writable_roots(), ElementsAre("/a", "/b"));
  EXPECT_TRUE(request->policy().exclude_cwd());
  EXPECT_THAT(request->policy().protected_names(), ElementsAre(".env"));
  EXPECT_TRUE(request->policy().allow_git_writes());
  EXPECT_THAT(request->policy().readable_roots(), ElementsAre("/data"));
  EXPECT_THAT(request->policy().deny_read(), ElementsAre("/k"));
  EXPECT_EQ(request->policy().network(), v1::NETWORK_ENABLED);
  EXPECT_EQ(request->env().at("A"), "1=2");
  EXPECT_EQ(request->timeout().seconds(), 90);
  EXPECT_EQ(request->output_limit_bytes(), 100u);
  EXPECT_EQ(request->policy().limits().cpu_time().seconds(), 2);
  EXPECT_EQ(request->policy().limits().memory_bytes(), uint64_t{2} << 30);
  EXPECT_EQ(request->policy().limits().file_size_bytes(), 10u);
  EXPECT_EQ(request->policy().limits().open_files(), 7u);
}

TEST(BuildExecRequestTest, DefaultsLeaveTheServerInCharge) {
  absl::StatusOr<v1::ExecRequest> request =
      BuildExecRequest(Parse({"--cwd=/src", "ls"}), "/home/me");
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->cwd(), "/src");
  EXPECT_EQ(request->policy().mode(), v1::SANDBOX_MODE_UNSPECIFIED);
  EXPECT_EQ(request->policy().network(), v1::NETWORK_DISABLED);
  EXPECT_FALSE(request->has_timeout());
}

TEST(BuildExecRequestTest, BadValuesSayWhatToFix) {
  EXPECT_THAT(BuildExecRequest(Parse({}), "/").status().message(), HasSubstr("no command given"));
  EXPECT_THAT(BuildExecRequest(Parse({"--mode=rw", "ls"}), "/").status().message(),
              HasSubstr("--mode=rw is not"));
  EXPECT_THAT(BuildExecRequest(Parse({"--timeout=soon", "ls"}), "/").status().message(),
              HasSubstr("not a positive duration"));
  EXPECT_THAT(BuildExecRequest(Parse({"--env=NOVALUE", "ls"}), "/").status().message(),
              HasSubstr("not NAME=VALUE"));
}

TEST(BuildExecRequestTest, ASessionKeepsWhatNoOptionNames) {
  absl::StatusOr<v1::ExecRequest> request =
      BuildExecRequest(Parse({"--session=s-1", "--env=A=1", "ls"}), "/home/me");
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->session_id(), "s-1");
  EXPECT_FALSE(request->has_policy());  // The session's.
  EXPECT_EQ(request->cwd(), "");        // The session's.
  EXPECT_EQ(request->env().at("A"), "1");
  request = BuildExecRequest(Parse({"--session=s-1", "--network", "--cwd=/src", "ls"}), "/home/me");
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->policy().network(), v1::NETWORK_ENABLED);
  EXPECT_EQ(request->cwd(), "/src");
}

TEST(NamesPolicyTest, EveryPolicyOptionAndNothingElse) {
  for (const char* option :
       {"--mode=read-only", "--writable=/a", "--exclude-cwd", "--protect=x", "--allow-git-writes",
        "--readable=/r", "--deny-read=/d", "--network", "--allow-domain=a.b", "--deny-domain=c.d",
        "--network-read-only", "--cpu-time=1s", "--memory=1G", "--file-size=1", "--open-files=9"}) {
    EXPECT_TRUE(NamesPolicy(Parse({option, "ls"}))) << option;
  }
  for (const char* option : {"--env=A=1", "--cwd=/", "--timeout=1s", "--output-limit=9",
                             "--session=s", "--no-stdin"}) {
    EXPECT_FALSE(NamesPolicy(Parse({option, "ls"}))) << option;
  }
}

TEST(DurationOptionTest, UnitsOrSeconds) {
  absl::StatusOr<ParsedArgs> args =
      ParseArgs({"--wait=1500ms", "--timeout=7"}, {{"wait", "D", ""}, {"timeout", "D", ""}});
  ASSERT_TRUE(args.ok());
  EXPECT_EQ(*DurationOption(*args, "wait", absl::ZeroDuration()), absl::Milliseconds(1500));
  EXPECT_EQ(*DurationOption(*args, "timeout", absl::ZeroDuration()), absl::Seconds(7));
  EXPECT_EQ(*DurationOption(*args, "other", absl::Seconds(3)), absl::Seconds(3));
  args = ParseArgs({"--wait=soon"}, {{"wait", "D", ""}});
  EXPECT_FALSE(DurationOption(*args, "wait", absl::ZeroDuration()).ok());
}

TEST(FormatExplanationTest, QuotesWhatAShellWouldSplit) {
  v1::ExplainResponse response;
  response.set_backend(v1::BACKEND_BWRAP);
  response.set_seccomp_mode(v1::SECCOMP_RESTRICTED);
  response.set_cwd("/src");
  response.mutable_timeout()->set_seconds(60);
  response.add_env("PATH=/bin");
  for (const char* arg : {"bwrap", "--chdir", "/src", "--", "sh", "-c", "echo 'hi' there"}) {
    response.add_argv(arg);
  }
  response.set_network_namespace("the host's");
  response.set_cgroup("none");
  v1::PassedDescriptor& seccomp = *response.add_descriptors();
  seccomp.set_fd(3);
  seccomp.set_what("seccomp filter");
  std::string text = FormatExplanation(response);
  EXPECT_THAT(text, HasSubstr("network namespace: the host's\ncgroup: none\n"));
  EXPECT_THAT(text, HasSubstr("descriptors:\n  3: seccomp filter\n"));
  EXPECT_THAT(text, HasSubstr("backend: BACKEND_BWRAP\n"));
  EXPECT_THAT(text, HasSubstr("seccomp: SECCOMP_RESTRICTED\n"));
  EXPECT_THAT(text, HasSubstr("  PATH=/bin\n"));
  EXPECT_THAT(text, HasSubstr("  bwrap --chdir /src -- sh -c 'echo '\\''hi'\\'' there'\n"));
}

TEST(FormatCapabilitiesTest, OneFactALineThenNotes) {
  v1::GetCapabilitiesResponse response;
  response.set_backend(v1::BACKEND_LANDLOCK);
  response.set_landlock_abi(7);
  response.add_notes("no user namespaces");
  std::string text = FormatCapabilities(response);
  EXPECT_THAT(text, HasSubstr("backend: BACKEND_LANDLOCK\n"));
  EXPECT_THAT(text, HasSubstr("user namespaces: no\n"));
  EXPECT_THAT(text, HasSubstr("landlock ABI: 7\n"));
  EXPECT_THAT(text, HasSubstr("note: no user namespaces\n"));
}

TEST(ExitCodeForTest, FollowsTheShellConventions) {
  v1::ExecResponse response;
  response.set_termination(v1::EXITED);
  response.set_exit_code(3);
  EXPECT_EQ(ExitCodeFor(response), 3);
  // The server reports death by a signal as 128 + it, limits included.
  response.set_termination(v1::SIGNALED);
  response.set_signal(9);
  response.set_exit_code(137);
  EXPECT_EQ(ExitCodeFor(response), 137);
  response.set_termination(v1::MEMORY_LIMIT);
  EXPECT_EQ(ExitCodeFor(response), 137);
  response.set_termination(v1::EXEC_FAILED);
  response.set_signal(0);
  response.set_exit_code(127);
  EXPECT_EQ(ExitCodeFor(response), 127);
  response.set_termination(v1::TIMED_OUT);
  EXPECT_EQ(ExitCodeFor(response), kExitTimedOut);
  response.set_termination(v1::CANCELLED);
  EXPECT_EQ(ExitCodeFor(response), kExitClientError);
  response.set_termination(v1::SETUP_FAILED);
  EXPECT_EQ(ExitCodeFor(response), kExitClientError);
}

}  // namespace
}  // namespace sandboxd

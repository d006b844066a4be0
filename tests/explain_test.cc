// Explain shows what runs: the bwrap argv it prints is the argv of the sandbox's pid 1
// (bwrap's own process in the command's pid namespace), on servers that put a
// pre-started launcher, a freshly spawned one, or none in front of bwrap.

#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <grpcpp/client_context.h>
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "sandbox/v1/sandbox.grpc.pb.h"
#include "tests/sandboxd_process.h"
#include "tests/test_util.h"

namespace sandboxd::testing {
namespace {

namespace v1 = ::sandbox::v1;
using ::testing::Contains;
using ::testing::HasSubstr;

constexpr char kBwrap[] = "/usr/bin/bwrap";

struct ServerKind {
  const char* name;
  std::vector<std::string> flags;
  // Whether sandboxd-launch goes in front of bwrap for a read-only request.
  bool launcher_for_read_only;
  // Whether bwrap makes the network namespace (else a pre-started launcher has one).
  bool bwrap_makes_netns;
};

const ServerKind kServers[] = {
    // Cgroups and launchers waiting in them, with network namespaces of their own.
    {"pooled", {}, true, false},
    // Cgroups made per run, which a spawned sandboxd-launch joins; bwrap makes the
    // network namespace.
    {"fresh", {"--prestart=0"}, true, true},
    // Nothing for a launcher to do in a read-only request: bwrap starts directly.
    {"direct", {"--cgroup=none", "--prestart=0", "--danger_commands_as_root"}, false, true},
};

class ExplainTest : public ::testing::TestWithParam<ServerKind> {
 protected:
  void SetUp() override {
    SandboxdProcess::Options options;
    options.flags = GetParam().flags;
    absl::StatusOr<std::unique_ptr<SandboxdProcess>> server = SandboxdProcess::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = v1::SandboxService::NewStub(server_->channel());
    absl::StatusOr<std::string> workspace = server_->MakeWorkspace();
    ASSERT_TRUE(workspace.ok()) << workspace.status();
    workspace_ = *workspace;
    // A .git that exists: a placeholder not made yet has no inode for Explain to show.
    ASSERT_EQ(mkdir((workspace_ + "/.git").c_str(), 0755), 0);
    ASSERT_EQ(chown((workspace_ + "/.git").c_str(), server_->command_uid(),
                    server_->command_gid()),
              0);
  }
  void TearDown() override { std::system(absl::StrCat("rm -rf ", workspace_).c_str()); }

  // A request whose command prints the argv of the sandbox's pid 1.
  v1::ExecRequest ShowPid1(bool workspace_write) {
    v1::ExecRequest request = Command({"cat", "/proc/1/cmdline"});
    if (workspace_write) {
      request.set_cwd(workspace_);
      request.mutable_policy()->set_mode(v1::WORKSPACE_WRITE);
    }
    return request;
  }

  v1::ExplainResponse Explain(const v1::ExecRequest& request) {
    grpc::ClientContext context;
    v1::ExplainResponse response;
    grpc::Status status = stub_->Explain(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  std::vector<std::string> Pid1Argv(const v1::ExecRequest& request) {
    v1::ExecResponse response = ExecChecked(*stub_, request);
    EXPECT_EQ(response.exit_code(), 0) << response.stderr();
    std::string cmdline = response.stdout();
    if (!cmdline.empty() && cmdline.back() == '\0') cmdline.pop_back();
    return absl::StrSplit(cmdline, '\0');
  }

  // What Explain shows from bwrap on.
  static std::vector<std::string> BwrapPart(const v1::ExplainResponse& explained) {
    auto bwrap = std::find(explained.argv().begin(), explained.argv().end(), kBwrap);
    EXPECT_NE(bwrap, explained.argv().end());
    return std::vector<std::string>(bwrap, explained.argv().end());
  }

  void ExpectExplainedIsWhatRuns(bool workspace_write) {
    v1::ExecRequest request = ShowPid1(workspace_write);
    v1::ExplainResponse explained = Explain(request);
    std::vector<std::string> ran = Pid1Argv(request);
    EXPECT_EQ(BwrapPart(explained), ran);
    const ServerKind& kind = GetParam();
    bool unshares_net = std::find(ran.begin(), ran.end(), "--unshare-net") != ran.end();
    EXPECT_EQ(unshares_net, kind.bwrap_makes_netns);
    EXPECT_THAT(explained.network_namespace(),
                kind.bwrap_makes_netns ? HasSubstr("bwrap") : HasSubstr("launcher"));
    bool launcher = workspace_write || kind.launcher_for_read_only;
    EXPECT_EQ(explained.argv(0) == kBwrap, !launcher) << explained.argv(0);
    // The filter, then each descriptor bound (under workspace-write: the workspace,
    // its .git, and the verifier).
    ASSERT_GE(explained.descriptors_size(), 1);
    EXPECT_EQ(explained.descriptors(0).what(), "seccomp filter");
    if (workspace_write) {
      std::vector<std::string> what;
      for (const v1::PassedDescriptor& d : explained.descriptors()) what.push_back(d.what());
      EXPECT_THAT(what, Contains(workspace_));
      EXPECT_THAT(what, Contains(workspace_ + "/.git"));
    }
  }

  std::unique_ptr<SandboxdProcess> server_;
  std::unique_ptr<v1::SandboxService::Stub> stub_;
  std::string workspace_;
};

TEST_P(ExplainTest, ReadOnlyShowsWhatRuns) { ExpectExplainedIsWhatRuns(false); }

TEST_P(ExplainTest, WorkspaceWriteShowsWhatRuns) { ExpectExplainedIsWhatRuns(true); }

INSTANTIATE_TEST_SUITE_P(Servers, ExplainTest, ::testing::ValuesIn(kServers),
                         [](const ::testing::TestParamInfo<ServerKind>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace sandboxd::testing

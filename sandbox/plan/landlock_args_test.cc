#include "sandbox/plan/landlock_args.h"

#include <sys/stat.h>

#include <cstdlib>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/fd_layout.h"

namespace sandboxd {
namespace {

using ::testing::HasSubstr;
namespace v1 = ::sandbox::v1;
using Args = std::vector<std::string>;

class LandlockArgsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/landlock_args_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    config_.protected_names = {};  // What Landlock can enforce.
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  Policy MustCreate(const v1::SandboxPolicy& proto, const std::string& cwd) {
    absl::StatusOr<Policy> policy = Policy::Create(proto, cwd, config_);
    EXPECT_TRUE(policy.ok()) << policy.status();
    return *std::move(policy);
  }

  std::string dir_;
  Config config_;
};

LandlockBase Base(Args readable, Args system = {}, Args hidden = {}) {
  return LandlockBase{std::move(readable), std::move(system), std::move(hidden)};
}

std::string Fd(int n) { return std::to_string(kFirstPassedFd + n); }

TEST_F(LandlockArgsTest, ReadOnlyWithoutNetwork) {
  Policy policy = MustCreate(v1::SandboxPolicy(), "/");
  SandboxCommand args =
      LandlockArgs("helper", policy, "/", Base({"/usr", "/etc"}), {"ls", "-l"});
  EXPECT_EQ(args.argv, (Args{"helper", "--read", "/usr", "--read", "/etc", "--write",
                              "/dev/null", "--write", "/dev/zero", "--write", "/dev/full",
                              "--no-network", "--chdir", "/", "--seccomp-fd", "3", "--", "ls",
                              "-l"}));
  EXPECT_TRUE(args.fds.empty());
}

// The roots a request names are granted through the descriptors the policy holds.
TEST_F(LandlockArgsTest, WorkspaceWriteWithNetworkAndReadableRoots) {
  v1::SandboxPolicy proto;
  proto.set_mode(v1::WORKSPACE_WRITE);
  proto.set_network(v1::NETWORK_ENABLED);
  proto.add_readable_roots("/opt");
  Policy policy = MustCreate(proto, dir_);
  SandboxCommand args =
      LandlockArgs("helper", policy, dir_, Base({"/"}, {"/usr", "/etc"}), {"make"});
  EXPECT_EQ(args.argv,
            (Args{"helper", "--read", "/usr", "--read", "/etc", "--read-fd", Fd(0),
                  "--write", "/dev/null", "--write", "/dev/zero", "--write", "/dev/full",
                  "--write-fd", Fd(1), "--chdir", dir_, "--seccomp-fd", "3", "--", "make"}));
  ASSERT_EQ(args.fds.size(), 2u);
  EXPECT_EQ(args.fds[0], policy.readable_roots()[0].fd);
  EXPECT_EQ(args.fds[1], policy.writable_roots()[0].fd);
}

TEST_F(LandlockArgsTest, CwdBelowTmpStaysReadable) {
  Policy policy = MustCreate(v1::SandboxPolicy(), dir_);
  SandboxCommand args = LandlockArgs("helper", policy, dir_, Base({"/usr"}), {"ls"});
  EXPECT_EQ(Args(args.argv.begin(), args.argv.begin() + 5),
            (Args{"helper", "--read", "/usr", "--read-fd", Fd(0)}));
  EXPECT_EQ(FdPath(args.fds[0]->get()), dir_);
}

TEST_F(LandlockArgsTest, ProtectedPathsAreRefusedUnlessTheOperatorAcceptsIt) {
  config_.protected_names = {".git"};
  v1::SandboxPolicy proto;
  proto.set_mode(v1::WORKSPACE_WRITE);
  Policy policy = MustCreate(proto, dir_);
  absl::Status refused = CheckLandlockEnforceable(policy, false, Base({"/"}));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.message(), HasSubstr("--danger_landlock_unprotected_paths"));
  EXPECT_TRUE(CheckLandlockEnforceable(policy, true, Base({"/"})).ok());
}

// Only what the base left out at start-up stays hidden: a request's own deny_read is
// refused, the server's files are not a reason to refuse.
TEST_F(LandlockArgsTest, DenyReadIsRefusedButTheServersFilesStayHidden) {
  config_.private_tmp = false;  // The test's paths lie below /tmp.
  v1::SandboxPolicy proto;
  proto.add_deny_read(dir_);
  Policy policy = MustCreate(proto, "/");
  absl::Status refused = CheckLandlockEnforceable(policy, true, Base({"/"}));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.message(), HasSubstr("deny_read needs the bwrap backend"));

  config_.server_paths = {dir_};
  config_.hidden_server_paths = {dir_};
  Policy server = MustCreate(v1::SandboxPolicy(), "/");
  EXPECT_TRUE(CheckLandlockEnforceable(server, true, Base({"/usr"}, {}, {dir_})).ok());
}

}  // namespace
}  // namespace sandboxd

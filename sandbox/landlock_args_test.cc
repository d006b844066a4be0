#include "sandbox/landlock_args.h"

#include <sys/stat.h>

#include <cstdlib>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

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

TEST_F(LandlockArgsTest, ReadOnlyWithoutNetwork) {
  Policy policy = MustCreate(v1::SandboxPolicy(), "/");
  absl::StatusOr<Args> args = LandlockArgs("helper", policy, "/", false, {"/usr", "/etc"},
                                           {"ls", "-l"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_EQ(*args, (Args{"helper", "--read", "/usr", "--read", "/etc", "--write", "/dev/null",
                         "--write", "/dev/zero", "--write", "/dev/full", "--no-network",
                         "--chdir", "/", "--seccomp-fd", "3", "--", "ls", "-l"}));
}

TEST_F(LandlockArgsTest, WorkspaceWriteWithNetworkAndReadableRoots) {
  v1::SandboxPolicy proto;
  proto.set_mode(v1::WORKSPACE_WRITE);
  proto.set_network(v1::NETWORK_ENABLED);
  proto.add_readable_roots("/opt");
  Policy policy = MustCreate(proto, dir_);
  absl::StatusOr<Args> args = LandlockArgs("helper", policy, dir_, false, {"/"}, {"make"});
  ASSERT_TRUE(args.ok()) << args.status();
  Args expected = {"helper"};
  for (const char* root : kSystemRoots) expected.insert(expected.end(), {"--read", root});
  expected.insert(expected.end(), {"--read", "/opt", "--read", dir_, "--write", "/dev/null",
                                   "--write", "/dev/zero", "--write", "/dev/full", "--write",
                                   dir_, "--chdir", dir_, "--seccomp-fd", "3", "--", "make"});
  EXPECT_EQ(*args, expected);
}

TEST_F(LandlockArgsTest, CwdBelowTmpStaysReadable) {
  Policy policy = MustCreate(v1::SandboxPolicy(), dir_);
  absl::StatusOr<Args> args = LandlockArgs("helper", policy, dir_, false, {"/usr"}, {"ls"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_EQ(std::vector<std::string>(args->begin(), args->begin() + 5),
            (Args{"helper", "--read", "/usr", "--read", dir_}));
}

TEST_F(LandlockArgsTest, ProtectedPathsAreRefusedUnlessTheOperatorAcceptsIt) {
  config_.protected_names = {".git"};
  v1::SandboxPolicy proto;
  proto.set_mode(v1::WORKSPACE_WRITE);
  Policy policy = MustCreate(proto, dir_);
  absl::StatusOr<Args> args = LandlockArgs("helper", policy, dir_, false, {"/"}, {"true"});
  ASSERT_FALSE(args.ok());
  EXPECT_EQ(args.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(args.status().message(), HasSubstr("--danger_landlock_unprotected_paths"));
  EXPECT_TRUE(LandlockArgs("helper", policy, dir_, true, {"/"}, {"true"}).ok());
}

TEST_F(LandlockArgsTest, DenyReadIsRefused) {
  v1::SandboxPolicy proto;
  proto.add_deny_read(dir_);
  Policy policy = MustCreate(proto, "/");
  absl::StatusOr<Args> args = LandlockArgs("helper", policy, "/", true, {"/"}, {"true"});
  ASSERT_FALSE(args.ok());
  EXPECT_EQ(args.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(args.status().message(), HasSubstr("deny_read needs the bwrap backend"));
}

}  // namespace
}  // namespace sandboxd

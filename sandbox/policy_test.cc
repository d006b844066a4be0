#include "sandbox/policy.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sandboxd {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
namespace v1 = ::sandbox::v1;

class PolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/policy_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  std::string Mkdir(const std::string& name) {
    std::string path = dir_ + "/" + name;
    EXPECT_EQ(mkdir(path.c_str(), 0755), 0) << path;
    return path;
  }

  std::string dir_;
  Config config_;
};

TEST_F(PolicyTest, DefaultsToReadOnlyWithNetworkDisabled) {
  absl::StatusOr<Policy> policy = Policy::Create(v1::SandboxPolicy(), "/", config_);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->mode(), SandboxMode::kReadOnly);
  EXPECT_EQ(policy->network(), NetworkMode::kDisabled);
  EXPECT_EQ(policy->seccomp_mode(), SeccompMode::kRestricted);
  EXPECT_TRUE(policy->writable_roots().empty());
}

TEST_F(PolicyTest, WorkspaceWriteAddsCwdAndProtectsGit) {
  std::string work = Mkdir("work");
  Mkdir("work/.git");
  std::string extra = Mkdir("extra");
  v1::SandboxPolicy proto;
  proto.set_mode(v1::WORKSPACE_WRITE);
  proto.add_writable_roots(extra);
  absl::StatusOr<Policy> policy = Policy::Create(proto, work, config_);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_THAT(policy->writable_roots(), ElementsAre(extra, work));
  EXPECT_THAT(policy->read_only_subpaths(), ElementsAre(work + "/.git"));
}

TEST_F(PolicyTest, ExcludeCwdAndRequestProtectedNames) {
  std::string work = Mkdir("work");
  std::string extra = Mkdir("extra");
  Mkdir("extra/.hooks");
  v1::SandboxPolicy proto;
  proto.set_mode(v1::WORKSPACE_WRITE);
  proto.add_writable_roots(extra);
  proto.set_exclude_cwd(true);
  proto.add_protected_names(".hooks");
  absl::StatusOr<Policy> policy = Policy::Create(proto, work, config_);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_THAT(policy->writable_roots(), ElementsAre(extra));
  EXPECT_THAT(policy->read_only_subpaths(), ElementsAre(extra + "/.hooks"));
  EXPECT_THAT(policy->placeholders(), ElementsAre(extra + "/.git"));
}

TEST_F(PolicyTest, WritableRootsAreCanonical) {
  std::string real = Mkdir("real");
  std::string link = dir_ + "/link";
  ASSERT_EQ(symlink(real.c_str(), link.c_str()), 0);
  v1::SandboxPolicy proto;
  proto.set_mode(v1::WORKSPACE_WRITE);
  proto.set_exclude_cwd(true);
  proto.add_writable_roots(link + "/.");
  absl::StatusOr<Policy> policy = Policy::Create(proto, "/", config_);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_THAT(policy->writable_roots(), ElementsAre(real));
}

struct BadPolicyCase {
  std::string name;
  std::function<void(v1::SandboxPolicy&, const std::string& dir)> edit;
  absl::StatusCode code;
  std::string message;
};

class BadPolicyTest : public PolicyTest,
                      public ::testing::WithParamInterface<BadPolicyCase> {};

TEST_P(BadPolicyTest, IsRefusedWithAClearMessage) {
  Mkdir("work");
  v1::SandboxPolicy proto;
  GetParam().edit(proto, dir_);
  absl::StatusOr<Policy> policy = Policy::Create(proto, dir_ + "/work", config_);
  ASSERT_FALSE(policy.ok());
  EXPECT_EQ(policy.status().code(), GetParam().code) << policy.status();
  EXPECT_THAT(policy.status().message(), HasSubstr(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadPolicyTest,
    ::testing::Values(
        BadPolicyCase{"RelativeRoot",
                      [](v1::SandboxPolicy& p, const std::string&) {
                        p.set_mode(v1::WORKSPACE_WRITE);
                        p.add_writable_roots("work");
                      },
                      absl::StatusCode::kInvalidArgument,
                      "policy.writable_roots[0] \"work\" must be an absolute path"},
        BadPolicyCase{"MissingRoot",
                      [](v1::SandboxPolicy& p, const std::string& dir) {
                        p.set_mode(v1::WORKSPACE_WRITE);
                        p.add_writable_roots(dir + "/missing");
                      },
                      absl::StatusCode::kInvalidArgument, "No such file or directory"},
        BadPolicyCase{"RootsOutsideWorkspaceWrite",
                      [](v1::SandboxPolicy& p, const std::string& dir) {
                        p.set_mode(v1::READ_ONLY);
                        p.add_writable_roots(dir);
                      },
                      absl::StatusCode::kInvalidArgument, "only apply to mode"},
        BadPolicyCase{"SlashIsWritable",
                      [](v1::SandboxPolicy& p, const std::string&) {
                        p.set_mode(v1::WORKSPACE_WRITE);
                        p.add_writable_roots("/");
                      },
                      absl::StatusCode::kInvalidArgument, "writable root of /"},
        BadPolicyCase{"UnknownMode",
                      [](v1::SandboxPolicy& p, const std::string&) {
                        p.set_mode(static_cast<v1::SandboxMode>(42));
                      },
                      absl::StatusCode::kInvalidArgument, "policy.mode 42 is unknown"},
        BadPolicyCase{"UnknownNetwork",
                      [](v1::SandboxPolicy& p, const std::string&) {
                        p.set_network(static_cast<v1::NetworkMode>(9));
                      },
                      absl::StatusCode::kInvalidArgument, "policy.network 9 is unknown"},
        BadPolicyCase{"ProxyRouted",
                      [](v1::SandboxPolicy& p, const std::string&) {
                        p.set_network(v1::NETWORK_PROXY_ROUTED);
                      },
                      absl::StatusCode::kFailedPrecondition, "NETWORK_PROXY_ROUTED"},
        BadPolicyCase{"DangerNotAllowed",
                      [](v1::SandboxPolicy& p, const std::string&) {
                        p.set_mode(v1::DANGER_FULL_ACCESS);
                      },
                      absl::StatusCode::kPermissionDenied, "--allow_danger_full_access"},
        BadPolicyCase{"EscapingProtectedName",
                      [](v1::SandboxPolicy& p, const std::string&) {
                        p.set_mode(v1::WORKSPACE_WRITE);
                        p.add_protected_names("../etc");
                      },
                      absl::StatusCode::kInvalidArgument, "may not contain"},
        BadPolicyCase{"ProtectedSymlink",
                      [](v1::SandboxPolicy& p, const std::string& dir) {
                        p.set_mode(v1::WORKSPACE_WRITE);
                        ASSERT_EQ(symlink("/etc", (dir + "/work/.git").c_str()), 0);
                      },
                      absl::StatusCode::kInvalidArgument, "is a symlink inside writable root"},
        BadPolicyCase{"RelativeDenyRead",
                      [](v1::SandboxPolicy& p, const std::string&) { p.add_deny_read("etc"); },
                      absl::StatusCode::kInvalidArgument, "deny_read path \"etc\" must be absolute"},
        BadPolicyCase{"MissingReadableRoot",
                      [](v1::SandboxPolicy& p, const std::string& dir) {
                        p.add_readable_roots(dir + "/missing");
                      },
                      absl::StatusCode::kInvalidArgument, "policy.readable_roots[0]"},
        BadPolicyCase{"GitWritesOutsideWorkspaceWrite",
                      [](v1::SandboxPolicy& p, const std::string&) { p.set_allow_git_writes(true); },
                      absl::StatusCode::kInvalidArgument, "allow_git_writes only apply"}),
    [](const ::testing::TestParamInfo<BadPolicyCase>& info) { return info.param.name; });

TEST_F(PolicyTest, AbsentProtectedPathsGetPlaceholdersAtTheFirstMissingComponent) {
  std::string work = Mkdir("work");
  Mkdir("work/config");
  v1::SandboxPolicy proto;
  proto.set_mode(v1::WORKSPACE_WRITE);
  proto.add_protected_names("config/secrets/key");
  absl::StatusOr<Policy> policy = Policy::Create(proto, work, config_);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_TRUE(policy->read_only_subpaths().empty());
  EXPECT_THAT(policy->placeholders(), ElementsAre(work + "/.git", work + "/config/secrets"));
}

TEST_F(PolicyTest, WorktreeGitFileProtectsItsGitDir) {
  std::string work = Mkdir("work");
  std::string git_dir = Mkdir("main-repo-git-dir");
  std::ofstream(work + "/.git") << "gitdir: ../main-repo-git-dir\n";
  v1::SandboxPolicy proto;
  proto.set_mode(v1::WORKSPACE_WRITE);
  absl::StatusOr<Policy> policy = Policy::Create(proto, work, config_);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_THAT(policy->read_only_subpaths(), ElementsAre(work + "/.git", git_dir));
}

TEST_F(PolicyTest, GitWritesNarrowTheProtectionToConfigAndHooks) {
  std::string work = Mkdir("work");
  Mkdir("work/.git");
  Mkdir("work/.git/hooks");
  v1::SandboxPolicy proto;
  proto.set_mode(v1::WORKSPACE_WRITE);
  proto.set_allow_git_writes(true);
  absl::StatusOr<Policy> policy = Policy::Create(proto, work, config_);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_THAT(policy->read_only_subpaths(), ElementsAre(work + "/.git/hooks"));
  EXPECT_THAT(policy->placeholders(), ElementsAre(work + "/.git/config"));
}

TEST_F(PolicyTest, DenyReadSortsDirectoriesFromFilesAndSkipsAbsentPaths) {
  std::string secrets = Mkdir("secrets");
  std::ofstream(dir_ + "/token") << "t";
  config_.deny_read = {secrets};
  v1::SandboxPolicy proto;
  proto.add_deny_read(dir_ + "/token");
  proto.add_deny_read(dir_ + "/absent");
  absl::StatusOr<Policy> policy = Policy::Create(proto, "/", config_);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_THAT(policy->hidden_dirs(), ElementsAre(secrets));
  EXPECT_THAT(policy->hidden_files(), ElementsAre(dir_ + "/token"));
}

TEST_F(PolicyTest, ReadableRootsIncludeTheCwd) {
  std::string data = Mkdir("data");
  std::string work = Mkdir("work");
  v1::SandboxPolicy proto;
  proto.add_readable_roots(data);
  absl::StatusOr<Policy> policy = Policy::Create(proto, work, config_);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_THAT(policy->readable_roots(), ElementsAre(data, work));
}

TEST_F(PolicyTest, DangerAllowedByOperatorHasNoFilter) {
  config_.allow_danger_full_access = true;
  v1::SandboxPolicy proto;
  proto.set_mode(v1::DANGER_FULL_ACCESS);
  absl::StatusOr<Policy> policy = Policy::Create(proto, "/", config_);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->seccomp_mode(), SeccompMode::kNone);
}

TEST_F(PolicyTest, NetworkEnabledKeepsTheBaselineFilter) {
  v1::SandboxPolicy proto;
  proto.set_network(v1::NETWORK_ENABLED);
  absl::StatusOr<Policy> policy = Policy::Create(proto, "/", config_);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->seccomp_mode(), SeccompMode::kBaseline);
}

}  // namespace
}  // namespace sandboxd

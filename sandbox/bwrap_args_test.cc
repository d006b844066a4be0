#include "sandbox/bwrap_args.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sandboxd {
namespace {

namespace v1 = ::sandbox::v1;
using Args = std::vector<std::string>;

const Args kIsolation = {"--new-session", "--die-with-parent", "--unshare-user",
                         "--unshare-pid", "--unshare-ipc", "--unshare-uts",
                         "--unshare-cgroup-try"};
const Args kPrivileges = {"--disable-userns", "--cap-drop", "ALL"};
const Args kBaseMounts = {"--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                          "--ro-bind", "/proc/sys", "/proc/sys",
                          "--ro-bind-try", "/proc/sysrq-trigger", "/proc/sysrq-trigger",
                          "--tmpfs", "/tmp"};

Args Concat(std::initializer_list<Args> parts) {
  Args out;
  for (const Args& part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}

Policy MustCreate(const v1::SandboxPolicy& proto, const std::string& cwd) {
  Config config;
  absl::StatusOr<Policy> policy = Policy::Create(proto, cwd, config);
  EXPECT_TRUE(policy.ok()) << policy.status();
  return *std::move(policy);
}

TEST(BwrapArgsTest, ReadOnlyWithoutNetwork) {
  Policy policy = MustCreate(v1::SandboxPolicy(), "/");
  EXPECT_EQ(BwrapArgs("/usr/bin/bwrap", policy, "/", {"ls", "-l"}),
            Concat({{"/usr/bin/bwrap"}, kIsolation, {"--unshare-net"}, kPrivileges,
                    kBaseMounts,
                    {"--chdir", "/", "--seccomp", "3", "--", "ls", "-l"}}));
}

TEST(BwrapArgsTest, NetworkEnabledKeepsTheHostNetwork) {
  v1::SandboxPolicy proto;
  proto.set_network(v1::NETWORK_ENABLED);
  Policy policy = MustCreate(proto, "/");
  EXPECT_EQ(BwrapArgs("bwrap", policy, "/", {"true"}),
            Concat({{"bwrap"}, kIsolation, kPrivileges, kBaseMounts,
                    {"--chdir", "/", "--seccomp", "3", "--", "true"}}));
}

class WorkspaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/bwrap_args_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_EQ(mkdir((dir_ + "/work").c_str(), 0755), 0);
    ASSERT_EQ(mkdir((dir_ + "/work/.git").c_str(), 0755), 0);
    ASSERT_EQ(mkdir((dir_ + "/cache").c_str(), 0755), 0);
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }
  std::string dir_;
};

// Writable roots come after the base mounts, protected subpaths after them (an absent
// .git covered by /dev/null); the cwd, being below /tmp here, is bound back read-only
// before the writable roots.
TEST_F(WorkspaceTest, WritableRootsThenProtectedSubpaths) {
  v1::SandboxPolicy proto;
  proto.set_mode(v1::WORKSPACE_WRITE);
  proto.add_writable_roots(dir_ + "/cache");
  std::string work = dir_ + "/work";
  Policy policy = MustCreate(proto, work);
  EXPECT_EQ(BwrapArgs("bwrap", policy, work, {"make"}),
            Concat({{"bwrap"}, kIsolation, {"--unshare-net"}, kPrivileges, kBaseMounts,
                    {"--ro-bind", work, work},
                    {"--bind", dir_ + "/cache", dir_ + "/cache"},
                    {"--bind", work, work},
                    {"--ro-bind", work + "/.git", work + "/.git"},
                    {"--ro-bind", "/dev/null", dir_ + "/cache/.git"},
                    {"--chdir", work, "--seccomp", "3", "--", "make"}}));
}

TEST_F(WorkspaceTest, RestrictedReadsHiddenPathsAndSharedTmp) {
  v1::SandboxPolicy proto;
  proto.add_readable_roots(dir_ + "/cache");
  proto.add_deny_read(dir_ + "/work/.git");
  proto.add_deny_read(dir_ + "/no-such-path");
  Config config;
  config.private_tmp = false;
  config.deny_read = {"/etc/hostname"};
  std::string work = dir_ + "/work";
  absl::StatusOr<Policy> policy = Policy::Create(proto, work, config);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(BwrapArgs("bwrap", *policy, work, {"ls"}),
            Concat({{"bwrap"}, kIsolation, {"--unshare-net"}, kPrivileges,
                    {"--ro-bind-try", "/usr", "/usr", "--ro-bind-try", "/bin", "/bin",
                     "--ro-bind-try", "/sbin", "/sbin", "--ro-bind-try", "/lib", "/lib",
                     "--ro-bind-try", "/lib32", "/lib32", "--ro-bind-try", "/lib64", "/lib64",
                     "--ro-bind-try", "/libx32", "/libx32", "--ro-bind-try", "/etc", "/etc"},
                    {"--ro-bind", dir_ + "/cache", dir_ + "/cache", "--ro-bind", work, work},
                    {"--dev", "/dev", "--proc", "/proc", "--ro-bind", "/proc/sys", "/proc/sys",
                     "--ro-bind-try", "/proc/sysrq-trigger", "/proc/sysrq-trigger"},
                    {"--tmpfs", work + "/.git", "--remount-ro", work + "/.git"},
                    {"--ro-bind", "/dev/null", "/etc/hostname"},
                    {"--chdir", work, "--seccomp", "3", "--", "ls"}}));
}

TEST_F(WorkspaceTest, GitWritesKeepConfigAndHooksReadOnly) {
  std::string work = dir_ + "/work";
  std::ofstream(work + "/.git/config") << "[core]\n";
  v1::SandboxPolicy proto;
  proto.set_mode(v1::WORKSPACE_WRITE);
  proto.set_allow_git_writes(true);
  Policy policy = MustCreate(proto, work);
  EXPECT_EQ(BwrapArgs("bwrap", policy, work, {"git", "commit"}),
            Concat({{"bwrap"}, kIsolation, {"--unshare-net"}, kPrivileges, kBaseMounts,
                    {"--ro-bind", work, work},
                    {"--bind", work, work},
                    {"--ro-bind", work + "/.git/config", work + "/.git/config"},
                    {"--ro-bind", "/dev/null", work + "/.git/hooks"},
                    {"--chdir", work, "--seccomp", "3", "--", "git", "commit"}}));
}

}  // namespace
}  // namespace sandboxd

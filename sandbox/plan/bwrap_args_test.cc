#include "sandbox/plan/bwrap_args.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/fd_layout.h"

namespace sandboxd {
namespace {

namespace v1 = ::sandbox::v1;
using Args = std::vector<std::string>;

const Args kIsolation = {"--new-session", "--die-with-parent", "--unshare-user",
                         "--unshare-pid", "--unshare-ipc", "--unshare-uts",
                         "--unshare-cgroup-try"};
const Args kPrivileges = {"--disable-userns", "--cap-drop", "ALL"};
const Args kKernelMounts = {"--dev", "/dev", "--proc", "/proc",
                            "--ro-bind", "/proc/sys", "/proc/sys",
                            "--ro-bind-try", "/proc/sysrq-trigger", "/proc/sysrq-trigger"};
const Args kBaseMounts = {"--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                          "--ro-bind", "/proc/sys", "/proc/sys",
                          "--ro-bind-try", "/proc/sysrq-trigger", "/proc/sysrq-trigger",
                          "--tmpfs", "/tmp"};

Args Concat(std::initializer_list<Args> parts) {
  Args out;
  for (const Args& part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}

// The n-th descriptor passed to bwrap, as its argv names it.
std::string Fd(int n) { return std::to_string(kFirstPassedFd + n); }

Policy MustCreate(const v1::SandboxPolicy& proto, const std::string& cwd,
                  const Config& config = {}) {
  absl::StatusOr<Policy> policy = Policy::Create(proto, cwd, config);
  EXPECT_TRUE(policy.ok()) << policy.status();
  return *std::move(policy);
}

// A protection as a run finds it: existing paths and placeholders alike.
Protection Covering(std::vector<std::string> read_only, std::vector<std::string> pinned = {}) {
  Protection protection;
  for (std::string& path : pinned) protection.pinned.push_back({path, Share(UniqueFd())});
  for (std::string& path : read_only) protection.read_only.push_back({path, Share(UniqueFd())});
  return protection;
}

TEST(BwrapArgsTest, ReadOnlyWithoutNetwork) {
  Policy policy = MustCreate(v1::SandboxPolicy(), "/");
  SandboxCommand command = BwrapArgs("/usr/bin/bwrap", policy, {}, "/", {"ls", "-l"});
  EXPECT_EQ(command.argv,
            Concat({{"/usr/bin/bwrap"}, kIsolation, {"--unshare-net"}, kPrivileges,
                    kBaseMounts, {"--chdir", "/", "--seccomp", "3", "--", "ls", "-l"}}));
  EXPECT_TRUE(command.fds.empty());
}

TEST(BwrapArgsTest, NetworkEnabledKeepsTheHostNetwork) {
  v1::SandboxPolicy proto;
  proto.set_network(v1::NETWORK_ENABLED);
  Policy policy = MustCreate(proto, "/");
  EXPECT_EQ(BwrapArgs("bwrap", policy, {}, "/", {"true"}).argv,
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

// Writable roots come after the base mounts, bound from the descriptors the policy
// holds, and the protection's covers after them, each from its own descriptor in the
// order they are passed.
TEST_F(WorkspaceTest, WritableRootsThenProtectedSubpaths) {
  v1::SandboxPolicy proto;
  proto.set_mode(v1::WORKSPACE_WRITE);
  proto.add_writable_roots(dir_ + "/cache");
  std::string work = dir_ + "/work";
  Policy policy = MustCreate(proto, work);
  Protection protection = Covering({work + "/.git", dir_ + "/cache/.git"});
  SandboxCommand command = BwrapArgs("bwrap", policy, protection, work, {"make"});
  EXPECT_EQ(command.argv,
            Concat({{"bwrap"}, kIsolation, {"--unshare-net"}, kPrivileges, kBaseMounts,
                    {"--bind-fd", Fd(0), dir_ + "/cache"},
                    {"--bind-fd", Fd(1), work},
                    {"--ro-bind-fd", Fd(2), work + "/.git"},
                    {"--ro-bind-fd", Fd(3), dir_ + "/cache/.git"},
                    {"--chdir", work, "--seccomp", "3", "--", "make"}}));
  ASSERT_EQ(command.fds.size(), 4u);
  EXPECT_EQ(command.fds[0], policy.writable_roots()[0].fd);
  EXPECT_EQ(command.fds[1], policy.writable_roots()[1].fd);
  EXPECT_EQ(command.fds[2], protection.read_only[0].fd);
}

// Restricted reads: only the system directories as a base, the readable roots (and a
// cwd that would not be visible otherwise) from descriptors, then what is hidden.
TEST_F(WorkspaceTest, RestrictedReadsHiddenPathsAndSharedTmp) {
  v1::SandboxPolicy proto;
  proto.add_readable_roots(dir_ + "/cache");
  proto.add_deny_read(dir_ + "/cache/.git");
  proto.add_deny_read(dir_ + "/no-such-path");
  Config config;
  config.private_tmp = false;
  config.deny_read = {"/etc/hostname"};
  std::string work = dir_ + "/work";
  ASSERT_EQ(mkdir((dir_ + "/cache/.git").c_str(), 0755), 0);
  Policy policy = MustCreate(proto, work, config);
  EXPECT_EQ(BwrapArgs("bwrap", policy, {}, work, {"ls"}).argv,
            Concat({{"bwrap"}, kIsolation, {"--unshare-net"}, kPrivileges,
                    {"--ro-bind-try", "/usr", "/usr", "--ro-bind-try", "/bin", "/bin",
                     "--ro-bind-try", "/sbin", "/sbin", "--ro-bind-try", "/lib", "/lib",
                     "--ro-bind-try", "/lib32", "/lib32", "--ro-bind-try", "/lib64", "/lib64",
                     "--ro-bind-try", "/libx32", "/libx32", "--ro-bind-try", "/etc", "/etc"},
                    kKernelMounts,
                    {"--ro-bind-fd", Fd(0), dir_ + "/cache", "--ro-bind-fd", Fd(1), work},
                    {"--tmpfs", dir_ + "/cache/.git", "--remount-ro", dir_ + "/cache/.git"},
                    {"--ro-bind", "/dev/null", "/etc/hostname"},
                    {"--chdir", work, "--seccomp", "3", "--", "ls"}}));
}

// With git writes, .git itself is pinned (bound onto itself, writable) before its
// config and hooks are covered: a mount point cannot be renamed away.
TEST_F(WorkspaceTest, GitWritesPinGitAndKeepConfigAndHooksReadOnly) {
  std::string work = dir_ + "/work";
  v1::SandboxPolicy proto;
  proto.set_mode(v1::WORKSPACE_WRITE);
  proto.set_allow_git_writes(true);
  Policy policy = MustCreate(proto, work);
  Protection protection =
      Covering({work + "/.git/config", work + "/.git/hooks"}, {work + "/.git"});
  EXPECT_EQ(BwrapArgs("bwrap", policy, protection, work, {"git", "commit"}).argv,
            Concat({{"bwrap"}, kIsolation, {"--unshare-net"}, kPrivileges, kBaseMounts,
                    {"--bind-fd", Fd(0), work},
                    {"--bind-fd", Fd(1), work + "/.git"},
                    {"--ro-bind-fd", Fd(2), work + "/.git/config"},
                    {"--ro-bind-fd", Fd(3), work + "/.git/hooks"},
                    {"--chdir", work, "--seccomp", "3", "--", "git", "commit"}}));
}

// The server's own files are hidden after everything a request names, where the
// sandbox would see them, and not where it would not: bwrap cannot mount over a path
// that is absent.
TEST_F(WorkspaceTest, ServerFilesAreHiddenLastWhereVisible) {
  std::ofstream(dir_ + "/cache/tokens") << "ci secret\n";
  Config config;
  config.private_tmp = false;
  config.server_paths = {dir_ + "/cache/tokens", "/srv"};
  config.hidden_server_paths = config.server_paths;
  v1::SandboxPolicy proto;
  proto.add_readable_roots(dir_ + "/cache");
  std::string work = dir_ + "/work";
  Policy policy = MustCreate(proto, work, config);
  EXPECT_THAT(policy.hidden_files(), ::testing::ElementsAre(dir_ + "/cache/tokens"));
  EXPECT_THAT(policy.hidden_dirs(), ::testing::IsEmpty());  // /srv is absent here.
  Args argv = BwrapArgs("bwrap", policy, {}, work, {"ls"}).argv;
  ASSERT_GE(argv.size(), 9u);
  EXPECT_EQ(Args(argv.end() - 9, argv.end()),
            Args({"--ro-bind", "/dev/null", dir_ + "/cache/tokens", "--chdir", work,
                  "--seccomp", "3", "--", "ls"}));
}

// With the descriptors exposed by sandboxd-launch, bwrap binds their paths there; with
// a verifier, it is bound at /dev/.sandboxd-verify last and runs first, told what each
// bind must be.
TEST_F(WorkspaceTest, ExposedBindsAndTheVerifier) {
  v1::SandboxPolicy proto;
  proto.set_mode(v1::WORKSPACE_WRITE);
  std::string work = dir_ + "/work";
  Policy policy = MustCreate(proto, work);
  Protection protection = Covering({work + "/.git"});
  protection.read_only[0].dev = 7;
  protection.read_only[0].ino = 8;
  OpenPath verifier{"/usr/local/bin/sandboxd-launch", Share(UniqueFd()), 1, 2};
  BwrapOptions options{"/var/lib/sandboxd/binds", &verifier};
  SandboxCommand command = BwrapArgs("bwrap", policy, protection, work, {"make"}, options);
  const OpenPath& root = policy.writable_roots()[0];
  EXPECT_EQ(command.argv,
            Concat({{"bwrap"}, kIsolation, {"--unshare-net"}, kPrivileges, kBaseMounts,
                    {"--bind", "/var/lib/sandboxd/binds/0", work},
                    {"--ro-bind", "/var/lib/sandboxd/binds/1", work + "/.git"},
                    {"--ro-bind", "/var/lib/sandboxd/binds/2", "/dev/.sandboxd-verify"},
                    {"--chdir", work, "--seccomp", "3", "--", "/dev/.sandboxd-verify",
                     "--verify", "--rw", std::to_string(root.dev), std::to_string(root.ino),
                     work, "--ro", "7", "8", work + "/.git", "--", "make"}}));
  EXPECT_EQ(command.fds.size(), 3u);
  EXPECT_EQ(command.fds[2], verifier.fd);
  // Nothing to check, nothing run first.
  Policy read_only = MustCreate(v1::SandboxPolicy(), "/");
  EXPECT_EQ(BwrapArgs("bwrap", read_only, {}, "/", {"ls"}, options).argv.back(), "ls");
}

// A session's /tmp replaces the fresh tmpfs, bound (and verified) where it stood;
// sandboxd-helper is bound in the sandbox's own /dev, after the verifier, and runs
// after the check.
TEST_F(WorkspaceTest, ASessionsTmpAndTheHelper) {
  Policy policy = MustCreate(v1::SandboxPolicy(), "/");
  OpenPath verifier{"/state/sandboxd-launch", Share(UniqueFd()), 1, 2};
  OpenPath helper{"/state/sandboxd-helper", Share(UniqueFd()), 3, 4};
  OpenPath tmp{"/state/sessions/abc", Share(UniqueFd()), 5, 6};
  BwrapOptions options{"/binds", &verifier};
  options.helper = &helper;
  options.tmp = &tmp;
  SandboxCommand command = BwrapArgs("bwrap", policy, {}, "/", {"/dev/.sandboxd-helper", "stat",
                                                               "/tmp"}, options);
  Args mounts(kBaseMounts.begin(), kBaseMounts.end() - 2);  // No --tmpfs /tmp.
  EXPECT_EQ(command.argv,
            Concat({{"bwrap"}, kIsolation, {"--unshare-net"}, kPrivileges, mounts,
                    {"--bind", "/binds/0", "/tmp"},
                    {"--ro-bind", "/binds/1", "/dev/.sandboxd-verify"},
                    {"--ro-bind", "/binds/2", "/dev/.sandboxd-helper"},
                    {"--chdir", "/", "--seccomp", "3", "--", "/dev/.sandboxd-verify",
                     "--verify", "--rw", "5", "6", "/tmp", "--", "/dev/.sandboxd-helper",
                     "stat", "/tmp"}}));
  ASSERT_EQ(command.fds.size(), 3u);
  EXPECT_EQ(command.fds[0], tmp.fd);
  EXPECT_EQ(command.fds[2], helper.fd);
}

// A path bound twice keeps its last bind alone (here a writable root that is a
// protected path too): the verifier checks what each path shows.
TEST_F(WorkspaceTest, APathIsBoundOnce) {
  v1::SandboxPolicy proto;
  proto.set_mode(v1::WORKSPACE_WRITE);
  std::string work = dir_ + "/work";
  proto.add_writable_roots(work + "/.git");
  Policy policy = MustCreate(proto, work);
  Protection protection = Covering({work + "/.git"});
  std::vector<std::string> argv = BwrapArgs("bwrap", policy, protection, work, {"ls"}).argv;
  EXPECT_EQ(std::count(argv.begin(), argv.end(), work + "/.git"), 1);
  EXPECT_NE(std::find(argv.begin(), argv.end(), "--ro-bind-fd"), argv.end());
}

// A bind that something hidden would cover is not made: a protected .git that the
// request also denies reading is hidden, and the verifier is not asked to find it.
TEST_F(WorkspaceTest, WhatIsHiddenIsNotBound) {
  v1::SandboxPolicy proto;
  proto.set_mode(v1::WORKSPACE_WRITE);
  std::string work = dir_ + "/work";
  proto.add_deny_read(work + "/.git");
  Config config;
  config.private_tmp = false;  // The test's paths lie below /tmp.
  Policy policy = MustCreate(proto, work, config);
  Protection protection = Covering({work + "/.git"});
  std::vector<std::string> argv = BwrapArgs("bwrap", policy, protection, work, {"ls"}).argv;
  EXPECT_EQ(std::find(argv.begin(), argv.end(), "--ro-bind-fd"), argv.end());
  EXPECT_NE(std::find(argv.begin(), argv.end(), "--remount-ro"), argv.end());
}

// A deny_read path may lie where a concurrent command could move it: hidden paths are
// checked from inside too, and a request hiding one is checked for that alone.
TEST_F(WorkspaceTest, HiddenPathsAreVerified) {
  v1::SandboxPolicy proto;
  proto.add_deny_read(dir_ + "/cache");
  Config config;
  config.private_tmp = false;  // The test's paths lie below /tmp.
  Policy policy = MustCreate(proto, "/", config);
  OpenPath verifier{"/usr/local/bin/sandboxd-launch", Share(UniqueFd()), 1, 2};
  std::vector<std::string> argv =
      BwrapArgs("bwrap", policy, {}, "/", {"ls"}, BwrapOptions{"", &verifier}).argv;
  std::vector<std::string> tail = {"/dev/.sandboxd-verify", "--verify", "--hidden-dir",
                                   dir_ + "/cache", "--", "ls"};
  EXPECT_EQ(std::vector<std::string>(argv.end() - 6, argv.end()), tail);
}

}  // namespace
}  // namespace sandboxd

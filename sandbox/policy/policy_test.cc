#include "sandbox/policy/policy.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sandbox/test_support.h"

namespace sandboxd {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
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
  EXPECT_EQ(policy->mode(), SandboxMode::READ_ONLY);
  EXPECT_EQ(policy->network(), NetworkMode::NETWORK_DISABLED);
  EXPECT_EQ(policy->seccomp_mode(), SeccompMode::SECCOMP_RESTRICTED);
  EXPECT_TRUE(policy->writable_roots().empty());
}

TEST_F(PolicyTest, WorkspaceWriteAddsCwdAndProtectsGit) {
  std::string work = Mkdir("work");
  std::string extra = Mkdir("extra");
  v1::SandboxPolicy proto;
  proto.set_mode(v1::WORKSPACE_WRITE);
  proto.add_writable_roots(extra);
  absl::StatusOr<Policy> policy = Policy::Create(proto, work, config_);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_THAT(PathsOf(policy->writable_roots()), ElementsAre(extra, work));
  EXPECT_THAT(policy->protected_names(), ElementsAre(".git"));
}

TEST_F(PolicyTest, ExcludeCwdAndRequestProtectedNames) {
  std::string work = Mkdir("work");
  std::string extra = Mkdir("extra");
  v1::SandboxPolicy proto;
  proto.set_mode(v1::WORKSPACE_WRITE);
  proto.add_writable_roots(extra);
  proto.set_exclude_cwd(true);
  proto.add_protected_names(".hooks");
  absl::StatusOr<Policy> policy = Policy::Create(proto, work, config_);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_THAT(PathsOf(policy->writable_roots()), ElementsAre(extra));
  EXPECT_THAT(policy->protected_names(), ElementsAre(".git", ".hooks"));
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
  EXPECT_THAT(PathsOf(policy->writable_roots()), ElementsAre(real));
}

struct BadPolicyCase {
  std::string name;
  std::function<void(v1::SandboxPolicy&, const std::string& dir)> edit;
  absl::StatusCode code;
  std::string message;
};

class BadPolicyTest : public PolicyTest,
                      public ::testing::WithParamInterface<BadPolicyCase> {};

// A request without a cwd runs in /, which workspace-write would make writable: the
// message says to set the cwd, not that / cannot be a writable root.
TEST_F(PolicyTest, WorkspaceWriteWithoutACwdSaysToSetOne) {
  v1::SandboxPolicy proto;
  proto.set_mode(v1::WORKSPACE_WRITE);
  absl::StatusOr<Policy> policy = Policy::Create(proto, "/", config_);
  ASSERT_FALSE(policy.ok());
  EXPECT_EQ(policy.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(policy.status().message(), HasSubstr("set cwd to the workspace"));
}

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

TEST_F(PolicyTest, GitWritesNarrowTheProtectionToConfigAndHooks) {
  std::string work = Mkdir("work");
  v1::SandboxPolicy proto;
  proto.set_mode(v1::WORKSPACE_WRITE);
  proto.set_allow_git_writes(true);
  absl::StatusOr<Policy> policy = Policy::Create(proto, work, config_);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_THAT(policy->protected_names(), ElementsAre(".git/config", ".git/hooks"));
}

TEST_F(PolicyTest, DenyReadSortsDirectoriesFromFilesAndSkipsAbsentPaths) {
  config_.private_tmp = false;  // The test's paths lie below /tmp.
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
  EXPECT_TRUE(policy->restrict_reads());
  EXPECT_THAT(PathsOf(policy->readable_roots()), ElementsAre(data, work));
}

TEST_F(PolicyTest, DangerAllowedByOperatorHasNoFilter) {
  config_.allow_danger_full_access = true;
  v1::SandboxPolicy proto;
  proto.set_mode(v1::DANGER_FULL_ACCESS);
  absl::StatusOr<Policy> policy = Policy::Create(proto, "/", config_);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->seccomp_mode(), SeccompMode::SECCOMP_NONE);
}

TEST_F(PolicyTest, NetworkEnabledKeepsTheBaselineFilter) {
  v1::SandboxPolicy proto;
  proto.set_network(v1::NETWORK_ENABLED);
  absl::StatusOr<Policy> policy = Policy::Create(proto, "/", config_);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->seccomp_mode(), SeccompMode::SECCOMP_BASELINE);
}

// Never writable, however they are reached: the system directories, the kernel's
// filesystems and the host's runtime state. The message names the rule.
class NeverWritableTest : public PolicyTest,
                          public ::testing::WithParamInterface<std::string> {};

TEST_P(NeverWritableTest, IsRefusedDirectlyThroughDotDotAndThroughASymlink) {
  const std::string& place = GetParam();
  std::string work = Mkdir("work");
  ASSERT_EQ(symlink(place.c_str(), (work + "/link").c_str()), 0);
  for (const std::string& form : {place, work + "/../../.." + place, work + "/link"}) {
    v1::SandboxPolicy proto;
    proto.set_mode(v1::WORKSPACE_WRITE);
    proto.set_exclude_cwd(true);
    proto.add_writable_roots(form);
    absl::StatusOr<Policy> policy = Policy::Create(proto, work, config_);
    ASSERT_FALSE(policy.ok()) << form;
    EXPECT_EQ(policy.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(policy.status().message(), HasSubstr("which stays read-only for every command"))
        << form;
  }
  // The cwd is no way around it either.
  v1::SandboxPolicy proto;
  proto.set_mode(v1::WORKSPACE_WRITE);
  EXPECT_THAT(Policy::Create(proto, place, config_).status().message(),
              HasSubstr("which stays read-only for every command"));
}

INSTANTIATE_TEST_SUITE_P(Places, NeverWritableTest,
                         ::testing::Values("/etc", "/usr", "/usr/lib", "/dev", "/proc",
                                           "/sys/fs/cgroup", "/run", "/root"));

TEST_F(PolicyTest, TheOperatorMayNameADirectoryInANeverWritablePlace) {
  std::string run_dir = "/dev/shm/policy_test_" + std::to_string(getpid());
  ASSERT_EQ(mkdir(run_dir.c_str(), 0755), 0);
  v1::SandboxPolicy proto;
  proto.set_mode(v1::WORKSPACE_WRITE);
  proto.set_exclude_cwd(true);
  proto.add_writable_roots(run_dir);
  EXPECT_FALSE(Policy::Create(proto, "/", config_).ok());
  config_.writable_system_paths = {run_dir};
  absl::StatusOr<Policy> policy = Policy::Create(proto, "/", config_);
  EXPECT_TRUE(policy.ok()) << policy.status();
  rmdir(run_dir.c_str());
}

// The server's own directories, and any directory holding one of its files, are never
// writable; no flag changes that.
TEST_F(PolicyTest, TheServersOwnPathsAreNeverWritable) {
  std::string state = Mkdir("state");
  std::string secrets = Mkdir("secrets");
  std::ofstream(secrets + "/tokens") << "t";
  config_.server_paths = {state, secrets + "/tokens"};
  config_.hidden_server_paths = config_.server_paths;
  config_.writable_system_paths = {dir_};
  for (const std::string& root : {state, Mkdir("state/sub"), secrets, dir_}) {
    v1::SandboxPolicy proto;
    proto.set_mode(v1::WORKSPACE_WRITE);
    proto.set_exclude_cwd(true);
    proto.add_writable_roots(root);
    absl::StatusOr<Policy> policy = Policy::Create(proto, "/", config_);
    ASSERT_FALSE(policy.ok()) << root;
    EXPECT_THAT(policy.status().message(), HasSubstr("would make the server's own"));
  }
  // Nor named as readable roots: they would only show hidden.
  v1::SandboxPolicy read;
  read.add_readable_roots(state);
  EXPECT_THAT(Policy::Create(read, "/", config_).status().message(),
              HasSubstr("which is hidden from every command"));
  // And hidden wherever a command could see them.
  config_.private_tmp = false;  // The test's paths lie below /tmp.
  absl::StatusOr<Policy> policy = Policy::Create(v1::SandboxPolicy(), "/", config_);
  ASSERT_TRUE(policy.ok());
  EXPECT_THAT(policy->hidden_dirs(), ElementsAre(state));
  EXPECT_THAT(policy->hidden_files(), ElementsAre(secrets + "/tokens"));
}

// A server file the commands' user cannot reach is not hidden (it need not be, and
// could not be), and still no writable root may hold it: a command could move its
// directory aside and put its own in its place.
TEST_F(PolicyTest, AServerFileOutOfReachIsStillNeverInAWritableRoot) {
  std::string conf = Mkdir("conf");
  config_.server_paths = {conf + "/tokens"};
  v1::SandboxPolicy proto;
  proto.set_mode(v1::WORKSPACE_WRITE);
  EXPECT_THAT(Policy::Create(proto, dir_, config_).status().message(),
              HasSubstr("would make the server's own"));
}

// A file in a hidden directory goes with it (Kubernetes' secret volumes: the directory
// of a secret's symlink is hidden, and the file it leads to lies in it).
TEST_F(PolicyTest, WhatLiesInAHiddenDirectoryIsHiddenWithIt) {
  std::string secrets = Mkdir("secrets");
  Mkdir("secrets/..2026_12_01");
  std::ofstream(secrets + "/..2026_12_01/tls.key") << "k";
  config_.private_tmp = false;  // The test's paths lie below /tmp.
  config_.hidden_server_paths = {secrets + "/..2026_12_01/tls.key", secrets};
  absl::StatusOr<Policy> policy = Policy::Create(v1::SandboxPolicy(), "/", config_);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_THAT(policy->hidden_dirs(), ElementsAre(secrets));
  EXPECT_THAT(policy->hidden_files(), IsEmpty());
}

// The host's /proc would show the server's own descriptors; its /dev, the host's
// devices: neither is ever bound, as a readable root or as the cwd.
TEST_F(PolicyTest, TheHostsProcAndDevAreNeverBound) {
  for (const std::string& path : {std::string("/proc/self"), std::string("/proc"),
                                  std::string("/dev/shm")}) {
    v1::SandboxPolicy proto;
    proto.add_readable_roots(path);
    EXPECT_THAT(Policy::Create(proto, "/", config_).status().message(),
                HasSubstr("which every sandbox has a fresh one of"))
        << path;
    EXPECT_THAT(Policy::Create(v1::SandboxPolicy(), path, config_).status().message(),
                HasSubstr("which every sandbox has a fresh one of"))
        << path;
  }
}

TEST_F(PolicyTest, AClientsRuleBoundsItsWritableRoots) {
  std::string mine = Mkdir("mine");
  std::string theirs = Mkdir("theirs");
  ClientGrant grant{true, "the policy rule for client a", {mine}, false, {}};
  v1::SandboxPolicy proto;
  proto.set_mode(v1::WORKSPACE_WRITE);
  EXPECT_TRUE(Policy::Create(proto, mine, config_, grant).ok());
  absl::Status status = Policy::Create(proto, theirs, config_, grant).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(status.message(),
              HasSubstr("the policy rule for client a does not allow writing " + theirs));
  // A prefix is a directory, not a string: "mine" does not admit "mine-too".
  std::string mine_too = Mkdir("mine-too");
  EXPECT_FALSE(Policy::Create(proto, mine_too, config_, grant).ok());
}

// Under a rule that confines reads the command sees the system directories, its
// writable roots and readable roots under its prefixes, and nothing else.
TEST_F(PolicyTest, ConfinedReads) {
  std::string mine = Mkdir("mine");
  std::string shared = Mkdir("shared");
  std::string theirs = Mkdir("theirs");
  ClientGrant grant{true, "the policy rule for client a", {mine}, true, {shared}};
  v1::SandboxPolicy proto;
  proto.set_mode(v1::WORKSPACE_WRITE);
  proto.add_readable_roots(shared);
  absl::StatusOr<Policy> policy = Policy::Create(proto, mine, config_, grant);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_TRUE(policy->restrict_reads());
  EXPECT_THAT(PathsOf(policy->readable_roots()), ElementsAre(shared));
  proto.add_readable_roots(theirs);
  absl::Status status = Policy::Create(proto, mine, config_, grant).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(status.message(), HasSubstr("confines reads"));
  // A read-only request with its cwd elsewhere is refused too; "/" is not.
  EXPECT_FALSE(Policy::Create(v1::SandboxPolicy(), theirs, config_, grant).ok());
  absl::StatusOr<Policy> at_root = Policy::Create(v1::SandboxPolicy(), "/", config_, grant);
  ASSERT_TRUE(at_root.ok()) << at_root.status();
  EXPECT_THAT(at_root->readable_roots(), IsEmpty());
}

// A confined client learns nothing of what exists where it may not look: a path
// outside its prefixes is refused as written, before anything is looked up, with one
// answer whether it exists or not.
TEST_F(PolicyTest, ConfinementIsCheckedBeforeAnyLookup) {
  std::string mine = Mkdir("mine");
  std::string theirs = Mkdir("theirs");
  std::ofstream(theirs + "/secret") << "s";
  ClientGrant grant{true, "the policy rule for client a", {mine}, true, {}};
  std::set<std::string> answers;
  for (const std::string& cwd : {theirs + "/secret", theirs + "/nothing-here",
                                 mine + "/../theirs/secret"}) {
    v1::ExecRequest request;
    request.set_cwd(cwd);
    absl::Status status = CheckConfinement(request, grant);
    EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << cwd;
    answers.insert(std::string(status.message()).substr(0, status.message().find(dir_)));
  }
  EXPECT_EQ(answers.size(), 1u);
  v1::ExecRequest inside;
  inside.set_cwd(mine + "/sub/../.");
  inside.mutable_policy()->add_writable_roots(mine);
  EXPECT_TRUE(CheckConfinement(inside, grant).ok());
  inside.set_cwd("/usr/share");
  EXPECT_TRUE(CheckConfinement(inside, grant).ok());
  inside.mutable_policy()->add_readable_roots("/usr/share");  // A root must be a prefix's.
  EXPECT_FALSE(CheckConfinement(inside, grant).ok());
}

TEST_F(PolicyTest, NetworkEnabledIsRefusedWhereACommandCouldCallTheServerBack) {
  config_.host_network_risk = "its listener 127.0.0.1:5 takes calls without credentials";
  v1::SandboxPolicy proto;
  proto.set_network(v1::NETWORK_ENABLED);
  absl::Status status = Policy::Create(proto, "/", config_).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("takes calls without credentials"));
  EXPECT_TRUE(Policy::Create(v1::SandboxPolicy(), "/", config_).ok());
}

// The managed network's rules: a request narrows the operator's, never widens them.
class ProxyPolicyTest : public PolicyTest {
 protected:
  void SetUp() override {
    PolicyTest::SetUp();
    config_.proxy_refused.clear();
    config_.proxy_rules.allow = *ParsePatterns({"pypi.org", "*.pythonhosted.org"}, "test");
    config_.proxy_rules.deny = *ParsePatterns({"evil.pythonhosted.org"}, "test");
    config_.proxy_rules.any_domain = false;
  }
  absl::StatusOr<Policy> Proxied(std::vector<std::string> allow, std::vector<std::string> deny = {},
                                 const ClientGrant& grant = {}) {
    v1::SandboxPolicy proto;
    proto.set_network(v1::NETWORK_PROXY_ROUTED);
    for (const std::string& host : allow) proto.add_allow_domains(host);
    for (const std::string& host : deny) proto.add_deny_domains(host);
    return Policy::Create(proto, "/", config_, grant);
  }
};

TEST_F(ProxyPolicyTest, ARequestNarrowsTheOperatorsDomains) {
  absl::StatusOr<Policy> policy = Proxied({"files.pythonhosted.org:443"}, {"pypi.org"});
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->seccomp_mode(), SeccompMode::SECCOMP_PROXY_ROUTED);
  ASSERT_TRUE(policy->proxy_grant().has_value());
  EXPECT_THAT(policy->proxy_grant()->allow(), ::testing::ElementsAre("files.pythonhosted.org:443"));
  EXPECT_THAT(policy->proxy_grant()->deny(),
              ::testing::ElementsAre("evil.pythonhosted.org", "pypi.org"));
  EXPECT_EQ(policy->proxy_grant()->max_connections(), config_.proxy_max_connections);
  // None named: the operator's list.
  absl::StatusOr<Policy> defaults = Proxied({});
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_THAT(defaults->proxy_grant()->allow(),
              ::testing::ElementsAre("pypi.org", "*.pythonhosted.org"));
}

TEST_F(ProxyPolicyTest, ARequestCannotWidenThem) {
  absl::Status status = Proxied({"example.com"}).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(status.message(), HasSubstr("example.com"));
  EXPECT_EQ(Proxied({"*.org"}).status().code(), absl::StatusCode::kPermissionDenied);
  // The control: the same request where the operator allows any domain.
  config_.proxy_rules.any_domain = true;
  config_.proxy_rules.allow.clear();
  EXPECT_TRUE(Proxied({"example.com"}).ok());
}

TEST_F(ProxyPolicyTest, AClientsRuleNarrowsTheServersAndMayRefuseTheProxy) {
  ClientGrant grant;
  grant.rule = "the policy rule for client ci";
  grant.proxy_allow = *ParsePatterns({"pypi.org:443"}, "test");
  EXPECT_TRUE(Proxied({"pypi.org:443"}, {}, grant).ok());
  absl::Status wider = Proxied({"files.pythonhosted.org"}, {}, grant).status();
  EXPECT_EQ(wider.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(wider.message(), HasSubstr("client ci"));
  grant.allow_proxy = false;
  EXPECT_EQ(Proxied({}, {}, grant).status().code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(ProxyPolicyTest, RulesOutsideTheProxyModeAndBadPatternsAreRefused) {
  v1::SandboxPolicy proto;
  proto.add_allow_domains("pypi.org");
  absl::Status status = Policy::Create(proto, "/", config_).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("NETWORK_PROXY_ROUTED"));
  absl::Status bad = Proxied({"pypi..org"}).status();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.message(), HasSubstr("policy.allow_domains[0]"));
}

TEST_F(ProxyPolicyTest, NoSandboxIsNoProxyEither) {
  config_.allow_danger_full_access = true;
  v1::SandboxPolicy proto;
  proto.set_mode(v1::DANGER_FULL_ACCESS);
  proto.set_network(v1::NETWORK_PROXY_ROUTED);
  EXPECT_EQ(Policy::Create(proto, "/", config_).status().code(),
            absl::StatusCode::kInvalidArgument);
  proto.set_mode(v1::WORKSPACE_WRITE);
  proto.set_exclude_cwd(true);
  EXPECT_TRUE(Policy::Create(proto, "/", config_).ok());
}

TEST_F(ProxyPolicyTest, AServerWithoutAProxySaysWhy) {
  config_.proxy_refused = "the landlock backend gives commands no network namespace of their own";
  absl::Status status = Proxied({"pypi.org"}).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("landlock"));
}

}  // namespace
}  // namespace sandboxd

#include "server/operator_policy.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sandbox/policy/exec_spec.h"

namespace sandboxd {
namespace {

using ::testing::HasSubstr;
namespace v1 = ::sandbox::v1;

class OperatorPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/operator_policy_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_EQ(mkdir((dir_ + "/work").c_str(), 0755), 0);
    ASSERT_EQ(mkdir((dir_ + "/other").c_str(), 0755), 0);
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  OperatorPolicy Load(const std::string& text) {
    std::ofstream(dir_ + "/policy.textproto") << text;
    absl::StatusOr<OperatorPolicy> policy = OperatorPolicy::Load(dir_ + "/policy.textproto");
    EXPECT_TRUE(policy.ok()) << policy.status();
    return *std::move(policy);
  }

  std::string dir_;
};

// The request as the service validates it: within the grant of the client's rule.
absl::Status Validate(const OperatorPolicy& policy, const std::string& identity,
                      const std::function<void(v1::ExecRequest&)>& edit) {
  absl::StatusOr<ClientGrant> grant = policy.GrantFor(identity);
  if (!grant.ok()) return grant.status();
  v1::ExecRequest request;
  request.add_argv("true");
  edit(request);
  Config config;
  config.allow_danger_full_access = true;  // The rule, not the server, decides here.
  return ExecSpec::Create(request, config, *grant).status();
}

TEST_F(OperatorPolicyTest, WithoutAFileEverythingTheFlagsAllowGoes) {
  OperatorPolicy none;
  EXPECT_TRUE(Validate(none, "anyone", [](v1::ExecRequest& r) {
                r.mutable_policy()->set_network(v1::NETWORK_ENABLED);
                r.mutable_policy()->set_mode(v1::DANGER_FULL_ACCESS);
              }).ok());
}

TEST_F(OperatorPolicyTest, RulesByIdentityWithAFallback) {
  OperatorPolicy policy = Load(
      "client { identity: \"ci\" writable_root_prefixes: \"" + dir_ + "/work/\" allow_network: true }\n"
      "client { identity: \"*\" }\n");
  auto write_work = [&](v1::ExecRequest& r) {
    r.set_cwd(dir_ + "/work");
    r.mutable_policy()->set_mode(v1::WORKSPACE_WRITE);
  };
  EXPECT_TRUE(Validate(policy, "ci", write_work).ok());
  absl::Status other = Validate(policy, "stranger", write_work);
  EXPECT_EQ(other.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(other.message(), HasSubstr("rule for client * does not allow writing"));
  absl::Status outside = Validate(policy, "ci", [&](v1::ExecRequest& r) {
    r.set_cwd(dir_ + "/other");
    r.mutable_policy()->set_mode(v1::WORKSPACE_WRITE);
  });
  EXPECT_THAT(outside.message(), HasSubstr("does not allow writing " + dir_ + "/other"));
  auto network = [](v1::ExecRequest& r) { r.mutable_policy()->set_network(v1::NETWORK_ENABLED); };
  EXPECT_TRUE(Validate(policy, "ci", network).ok());
  EXPECT_THAT(Validate(policy, "stranger", network).message(),
              HasSubstr("does not allow NETWORK_ENABLED"));
}

TEST_F(OperatorPolicyTest, AGrantCarriesTheRulesPrefixesAndConfinement) {
  OperatorPolicy policy = Load(
      "client { identity: \"a\" writable_root_prefixes: \"/srv/a/\" confine_reads: true\n"
      "         readable_root_prefixes: \"/opt/tools\" }");
  absl::StatusOr<ClientGrant> grant = policy.GrantFor("a");
  ASSERT_TRUE(grant.ok()) << grant.status();
  EXPECT_TRUE(grant->ruled);
  EXPECT_EQ(grant->rule, "the policy rule for client a");
  EXPECT_THAT(grant->writable_prefixes, ::testing::ElementsAre("/srv/a"));
  EXPECT_TRUE(grant->confine_reads);
  EXPECT_THAT(grant->readable_prefixes, ::testing::ElementsAre("/opt/tools"));
  EXPECT_FALSE(OperatorPolicy().GrantFor("anyone")->ruled);
}

TEST_F(OperatorPolicyTest, UnknownIdentityWithoutFallbackIsRefused) {
  OperatorPolicy policy = Load("client { identity: \"ci\" }");
  absl::Status status = Validate(policy, "stranger", [](v1::ExecRequest&) {});
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(status.message(), HasSubstr("client stranger has no rule"));
}

// A rule's ceilings bound what its client asks, and are the defaults of what it
// leaves unset: a minimal request runs within them.
TEST_F(OperatorPolicyTest, CeilingsPerClientAreAlsoItsDefaults) {
  OperatorPolicy policy = Load(
      "client { identity: \"ci\" max_timeout { seconds: 10 } max_memory_bytes: 1000000 "
      "max_cpu_time { seconds: 5 } max_processes: 64 }");
  absl::StatusOr<ClientGrant> grant = policy.GrantFor("ci");
  ASSERT_TRUE(grant.ok());
  Config config;
  config.max_limits.processes = 1024;
  config.enforces_processes = true;  // The server has cgroups.
  v1::ExecRequest minimal;
  minimal.add_argv("true");
  absl::StatusOr<ExecSpec> spec = ExecSpec::Create(minimal, config, *grant);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->timeout(), absl::Seconds(10));
  EXPECT_EQ(spec->limits().memory_bytes, 1000000u);
  EXPECT_EQ(spec->limits().cpu_time, absl::Seconds(5));
  EXPECT_EQ(spec->limits().processes, 64u);
  EXPECT_THAT(Validate(policy, "ci", [](v1::ExecRequest& r) { r.mutable_timeout()->set_seconds(30); })
                  .message(),
              HasSubstr("the policy rule for client ci allows a timeout of at most 10s"));
  EXPECT_THAT(Validate(policy, "ci",
                       [](v1::ExecRequest& r) {
                         r.mutable_policy()->mutable_limits()->set_memory_bytes(2000000);
                       })
                  .message(),
              HasSubstr("allows limits.memory_bytes of at most 1000000"));
  EXPECT_TRUE(Validate(policy, "ci", [](v1::ExecRequest& r) {
                r.mutable_timeout()->set_seconds(5);
                r.mutable_policy()->mutable_limits()->set_memory_bytes(500000);
              }).ok());
  EXPECT_THAT(Validate(policy, "ci",
                       [](v1::ExecRequest& r) {
                         r.mutable_policy()->set_mode(v1::DANGER_FULL_ACCESS);
                       })
                  .message(),
              HasSubstr("does not allow DANGER_FULL_ACCESS"));
  // Without cgroups the server enforces no process ceiling, and a rule's is no
  // default: it would refuse every request.
  EXPECT_EQ(ExecSpec::Create(minimal, Config(), *grant)->limits().processes, 0u);
}

// A rule's process ceiling holds wherever processes are enforced, whether or not the
// server's flags set a ceiling of their own.
TEST_F(OperatorPolicyTest, ARulesProcessCeilingHoldsWithoutTheServers) {
  OperatorPolicy policy = Load("client { identity: \"ci\" max_processes: 64 }");
  absl::StatusOr<ClientGrant> grant = policy.GrantFor("ci");
  ASSERT_TRUE(grant.ok());
  Config config;
  config.enforces_processes = true;  // Cgroups, and no --max_processes.
  v1::ExecRequest request;
  request.add_argv("true");
  absl::StatusOr<ExecSpec> spec = ExecSpec::Create(request, config, *grant);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->limits().processes, 64u);
  request.mutable_policy()->mutable_limits()->set_processes(100);
  absl::Status beyond = ExecSpec::Create(request, config, *grant).status();
  EXPECT_EQ(beyond.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(beyond.message(), HasSubstr("allows limits.processes of at most 64"));
  // The control: where processes are not enforced, the same request is not refused
  // for it here (planning refuses a process limit without cgroups).
  config.enforces_processes = false;
  EXPECT_TRUE(ExecSpec::Create(request, config, *grant).ok());
}

// A rule answers for the values it knows; any other (a network mode added to the proto
// later, say) is refused where the request is validated, before any rule is asked.
TEST_F(OperatorPolicyTest, WhatARuleDoesNotKnowIsRefused) {
  OperatorPolicy policy = Load(
      "client { identity: \"open\" allow_network: true allow_danger_full_access: true }\n"
      "client { identity: \"*\" }\n");
  auto danger = [](v1::ExecRequest& r) { r.mutable_policy()->set_mode(v1::DANGER_FULL_ACCESS); };
  // The controls: what the rule allows goes; the same request from elsewhere does not.
  EXPECT_TRUE(Validate(policy, "open", danger).ok());
  absl::Status refused = Validate(policy, "stranger", danger);
  EXPECT_EQ(refused.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(refused.message(), HasSubstr("client * does not allow DANGER_FULL_ACCESS"));
  absl::Status proxy = Validate(policy, "open", [](v1::ExecRequest& r) {
    r.mutable_policy()->set_network(v1::NETWORK_PROXY_ROUTED);
  });
  EXPECT_EQ(proxy.code(), absl::StatusCode::kFailedPrecondition);
  absl::Status unknown = Validate(policy, "open", [](v1::ExecRequest& r) {
    r.mutable_policy()->set_network(static_cast<v1::NetworkMode>(9));
  });
  EXPECT_EQ(unknown.code(), absl::StatusCode::kInvalidArgument);
  unknown = Validate(policy, "open", [](v1::ExecRequest& r) {
    r.mutable_policy()->set_mode(static_cast<v1::SandboxMode>(9));
  });
  EXPECT_EQ(unknown.code(), absl::StatusCode::kInvalidArgument);
}

// A rule's proxy domains narrow the server's: requests from that client may allow only
// them, others keep the server's; a rule may refuse the proxy; and a rule naming a
// domain the server's --proxy_allow_domain does not cover is refused when loaded.
TEST_F(OperatorPolicyTest, ARulesProxyDomainsBoundItsRequests) {
  OperatorPolicy policy = Load(
      "client { identity: \"ci\" proxy_allow_domains: \"pypi.org:443\" }\n"
      "client { identity: \"closed\" deny_proxy: true }\n"
      "client { identity: \"*\" }\n");
  auto proxied = [](const std::string& host) {
    return [host](v1::ExecRequest& r) {
      r.mutable_policy()->set_network(v1::NETWORK_PROXY_ROUTED);
      r.mutable_policy()->add_allow_domains(host);
    };
  };
  auto validate = [&](const std::string& identity, const std::string& host) {
    absl::StatusOr<ClientGrant> grant = policy.GrantFor(identity);
    if (!grant.ok()) return grant.status();
    v1::ExecRequest request;
    request.add_argv("true");
    proxied(host)(request);
    Config config;
    config.proxy_refused.clear();
    return ExecSpec::Create(request, config, *grant).status();
  };
  EXPECT_TRUE(validate("ci", "pypi.org:443").ok());
  absl::Status wider = validate("ci", "example.com");
  EXPECT_EQ(wider.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(wider.message(), HasSubstr("client ci"));
  EXPECT_TRUE(validate("anyone", "example.com").ok());  // The control: the server's.
  EXPECT_EQ(validate("closed", "pypi.org").code(), absl::StatusCode::kPermissionDenied);

  std::ofstream(dir_ + "/wide") << "client { identity: \"x\" proxy_allow_domains: \"*.org\" }";
  RuleCeiling server{*ParsePatterns({"pypi.org"}, "test"), {}, false};
  absl::StatusOr<OperatorPolicy> wide = OperatorPolicy::Load(dir_ + "/wide", server);
  EXPECT_EQ(wide.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(wide.status().message(), HasSubstr("*.org"));
  EXPECT_TRUE(OperatorPolicy::Load(dir_ + "/wide").ok());  // Under a server allowing any.
}

TEST_F(OperatorPolicyTest, BadFilesSayWhere) {
  std::ofstream(dir_ + "/bad") << "client { identity: \"x\" bogus_field: 1 }";
  absl::StatusOr<OperatorPolicy> bad = OperatorPolicy::Load(dir_ + "/bad");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("line 1"));
  std::ofstream(dir_ + "/relative") << "client { identity: \"x\" writable_root_prefixes: \"srv\" }";
  EXPECT_THAT(OperatorPolicy::Load(dir_ + "/relative").status().message(),
              HasSubstr("must be absolute"));
}

TEST_F(OperatorPolicyTest, AMissingFileSaysWhy) {
  absl::StatusOr<OperatorPolicy> missing = OperatorPolicy::Load(dir_ + "/missing");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.status().message(), HasSubstr("/missing: No such file or directory"));
}

}  // namespace
}  // namespace sandboxd

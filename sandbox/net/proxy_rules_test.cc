#include "sandbox/net/proxy_rules.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/status/status.h"
#include "absl/strings/match.h"

namespace sandboxd {
namespace {

HostPattern P(absl::string_view text) {
  absl::StatusOr<HostPattern> pattern = HostPattern::Parse(text);
  EXPECT_TRUE(pattern.ok()) << text << ": " << pattern.status();
  return pattern.ok() ? *pattern : HostPattern{};
}

std::vector<HostPattern> Ps(const std::vector<std::string>& texts) {
  absl::StatusOr<std::vector<HostPattern>> patterns = ParsePatterns(texts, "test");
  EXPECT_TRUE(patterns.ok()) << patterns.status();
  return patterns.ok() ? *patterns : std::vector<HostPattern>{};
}

TEST(HostPatternTest, ParsesGoodPatterns) {
  struct Case {
    const char* text;
    const char* host;
    bool wildcard;
    int port;
    const char* canonical;
  };
  for (const Case& c : std::vector<Case>{
           {"example.com", "example.com", false, 0, "example.com"},
           {"*.example.com", "example.com", true, 0, "*.example.com"},
           {"pypi.org:443", "pypi.org", false, 443, "pypi.org:443"},
           {"*.npmjs.org:443", "npmjs.org", true, 443, "*.npmjs.org:443"},
           {"Example.COM.", "example.com", false, 0, "example.com"},
           {"*.Example.com.:8080", "example.com", true, 8080, "*.example.com:8080"},
           {"my_host-1.internal", "my_host-1.internal", false, 0, "my_host-1.internal"},
           {"localhost:1", "localhost", false, 1, "localhost:1"},
           {"a.b:65535", "a.b", false, 65535, "a.b:65535"},
           {"10.1.2.3", "10.1.2.3", false, 0, "10.1.2.3"},
           {"10.1.2.3:8080", "10.1.2.3", false, 8080, "10.1.2.3:8080"},
           {"[::1]", "::1", false, 0, "[::1]"},
           {"[::1]:443", "::1", false, 443, "[::1]:443"},
           {"[2001:DB8:0::1]", "2001:db8::1", false, 0, "[2001:db8::1]"},
       }) {
    HostPattern pattern = P(c.text);
    EXPECT_EQ(pattern.host, c.host) << c.text;
    EXPECT_EQ(pattern.wildcard, c.wildcard) << c.text;
    EXPECT_EQ(pattern.port, c.port) << c.text;
    EXPECT_EQ(pattern.ToString(), c.canonical) << c.text;
    EXPECT_EQ(P(pattern.ToString()).ToString(), c.canonical) << c.text;  // Reads back.
  }
}

TEST(HostPatternTest, RefusesBadPatternsSayingWhatToFix) {
  std::string long_label(64, 'a');
  std::string long_name;
  for (int i = 0; i < 5; ++i) long_name += std::string(60, 'b') + ".";
  long_name += "com";  // 303 characters, every label within 63.
  struct Case {
    std::string text;
    const char* says;
  };
  for (const Case& c : std::vector<Case>{
           {"", "is empty"},
           {"*", "'*' alone"},
           {"*:443", "'*' alone"},
           {"*.", "no domain after"},
           {"*example.com", "'*' other than"},
           {"a.*.example.com", "'*' other than"},
           {"*.*.example.com", "'*' other than"},
           {"example.*", "'*' other than"},
           {"a..b", "empty label"},
           {".example.com", "empty label"},
           {"example.com..", "empty label"},
           {"exa mple.com", "only letters"},
           {"exämple.com", "only letters"},
           {"example.com/path", "only letters"},
           {"https://example.com", "is a URL"},
           {"a:b:c", "more than one ':'"},
           {long_label + ".com", "label of 64"},
           {long_name, "at most 253"},
           {"example.com:", "bad port"},
           {"example.com:0", "bad port"},
           {"example.com:65536", "bad port"},
           {"example.com:+443", "bad port"},
           {"example.com:44 3", "bad port"},
           {"example.com:https", "bad port"},
           {":443", "no host"},
           {"*.10.1.2.3", "wildcard on an IP"},
           {"*.[::1]", "wildcard on an IP"},
           {"10.1.2.256", "neither a host name nor an IPv4"},
           {"10.1.2", "neither a host name nor an IPv4"},
           {"010.1.2.3", "neither a host name nor an IPv4"},
           {"::1", "in brackets"},
           {"[::1", "lacks the ']'"},
           {"[::1]443", "other than :PORT"},
           {"[::1]:99999", "bad port"},
           {"[]", "no IPv6 address"},
           {"[example.com]", "no IPv6 address"},
       }) {
    absl::StatusOr<HostPattern> pattern = HostPattern::Parse(c.text);
    ASSERT_FALSE(pattern.ok()) << c.text;
    EXPECT_EQ(pattern.status().code(), absl::StatusCode::kInvalidArgument) << c.text;
    // Non-ASCII text is quoted escaped; the rest as it is.
    if (c.text != "exämple.com") {
      EXPECT_TRUE(absl::StrContains(pattern.status().message(), "\"" + c.text + "\""))
          << c.text << ": " << pattern.status();
    }
    EXPECT_TRUE(absl::StrContains(pattern.status().message(), c.says))
        << c.text << ": " << pattern.status();
  }
}

TEST(HostPatternTest, Matches) {
  struct Case {
    const char* pattern;
    const char* host;
    int port;
    bool matches;
  };
  for (const Case& c : std::vector<Case>{
           {"example.com", "example.com", 443, true},
           {"example.com", "www.example.com", 443, false},
           {"example.com", "example.org", 443, false},
           {"example.com", "EXAMPLE.Com", 443, true},
           {"example.com", "example.com.", 443, true},
           {"example.com.", "example.com", 443, true},
           {"*.example.com", "a.example.com", 443, true},
           {"*.example.com", "a.b.example.com", 443, true},
           {"*.example.com", "A.Example.COM.", 443, true},
           {"*.example.com", "example.com", 443, false},  // Not the apex.
           {"*.example.com", "badexample.com", 443, false},
           {"*.example.com", ".example.com", 443, false},
           {"*.example.com", "example.com.evil.org", 443, false},
           {"pypi.org:443", "pypi.org", 443, true},
           {"pypi.org:443", "pypi.org", 80, false},
           {"pypi.org", "pypi.org", 80, true},
           {"pypi.org", "pypi.org", 8443, true},
           {"*.npmjs.org:443", "registry.npmjs.org", 443, true},
           {"*.npmjs.org:443", "registry.npmjs.org", 80, false},
           {"10.1.2.3:8080", "10.1.2.3", 8080, true},
           {"10.1.2.3:8080", "10.1.2.30", 8080, false},
           {"[::1]", "::1", 443, true},
           {"[::1]", "[::1]", 443, true},
           {"[::1]", "0:0::1", 443, true},
           {"[::1]:443", "::1", 80, false},
           {"[2001:db8::1]", "2001:DB8::1", 443, true},
           {"[2001:db8::1]", "2001:db8::2", 443, false},
       }) {
    EXPECT_EQ(P(c.pattern).Matches(c.host, c.port), c.matches)
        << c.pattern << " vs " << c.host << ":" << c.port;
  }
}

TEST(HostPatternTest, Covers) {
  struct Case {
    const char* wide;
    const char* narrow;
    bool covers;
  };
  for (const Case& c : std::vector<Case>{
           {"example.com", "example.com", true},
           {"example.com", "example.com:443", true},
           {"example.com:443", "example.com:443", true},
           {"example.com:443", "example.com", false},
           {"example.com:443", "example.com:80", false},
           {"example.com", "www.example.com", false},
           {"example.com", "*.example.com", false},
           {"*.example.com", "a.example.com", true},
           {"*.example.com", "a.b.example.com", true},
           {"*.example.com", "*.a.example.com", true},
           {"*.example.com", "*.example.com", true},
           {"*.example.com", "example.com", false},  // Not the apex.
           {"*.example.com", "badexample.com", false},
           {"*.example.com", "*.badexample.com", false},
           {"*.example.com", "*.com", false},
           {"*.a.example.com", "*.example.com", false},
           {"*.example.com", "a.example.com:443", true},
           {"*.example.com:443", "a.example.com:443", true},
           {"*.example.com:443", "a.example.com", false},
           {"*.example.com:443", "*.a.example.com:80", false},
           {"[::1]", "[::1]:443", true},
           {"10.1.2.3", "10.1.2.3:80", true},
           {"*.com", "10.1.2.3", false},
       }) {
    EXPECT_EQ(P(c.wide).Covers(P(c.narrow)), c.covers) << c.wide << " covers " << c.narrow;
  }
}

TEST(DomainRulesTest, DenyBeatsAllow) {
  DomainRules rules{Ps({"*.example.com", "pypi.org:443"}), Ps({"secret.example.com"})};
  EXPECT_EQ(rules.Check("www.example.com", 443), DomainRules::Verdict::kAllowed);
  EXPECT_EQ(rules.Check("secret.example.com", 443), DomainRules::Verdict::kDenied);
  EXPECT_EQ(rules.Check("Secret.Example.com.", 80), DomainRules::Verdict::kDenied);
  EXPECT_EQ(rules.Check("pypi.org", 443), DomainRules::Verdict::kAllowed);
  EXPECT_EQ(rules.Check("pypi.org", 80), DomainRules::Verdict::kNotAllowed);
  EXPECT_EQ(rules.Check("example.com", 443), DomainRules::Verdict::kNotAllowed);
  // Without the deny rule, the same host is allowed (the control).
  rules.deny.clear();
  EXPECT_EQ(rules.Check("secret.example.com", 443), DomainRules::Verdict::kAllowed);
}

TEST(DomainRulesTest, AnEmptyAllowListAllowsNothing) {
  DomainRules rules;
  EXPECT_EQ(rules.Check("example.com", 443), DomainRules::Verdict::kNotAllowed);
}

TEST(ParsePatternsTest, NamesTheFieldAndEntry) {
  EXPECT_EQ(Ps({"a.com", "*.b.com:443"}).size(), 2u);
  absl::StatusOr<std::vector<HostPattern>> patterns =
      ParsePatterns({"a.com", "a..b"}, "policy.allow_domains");
  ASSERT_FALSE(patterns.ok());
  EXPECT_EQ(patterns.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(patterns.status().message(), "policy.allow_domains[1]: "))
      << patterns.status();
  EXPECT_TRUE(absl::StrContains(patterns.status().message(), "\"a..b\"")) << patterns.status();
}

TEST(NarrowTest, TakesANarrowerRequest) {
  RuleCeiling ceiling{Ps({"pypi.org:443", "*.pythonhosted.org"}), Ps({"evil.pythonhosted.org"})};
  absl::StatusOr<DomainRules> rules = Narrow(ceiling, Ps({"files.pythonhosted.org:443"}),
                                             Ps({"pypi.org"}), "the policy rule for client ci");
  ASSERT_TRUE(rules.ok()) << rules.status();
  ASSERT_EQ(rules->allow.size(), 1u);
  EXPECT_EQ(rules->allow[0].ToString(), "files.pythonhosted.org:443");
  ASSERT_EQ(rules->deny.size(), 2u);
  EXPECT_EQ(rules->deny[0].ToString(), "evil.pythonhosted.org");
  EXPECT_EQ(rules->deny[1].ToString(), "pypi.org");
  EXPECT_EQ(rules->Check("files.pythonhosted.org", 443), DomainRules::Verdict::kAllowed);
  EXPECT_EQ(rules->Check("files.pythonhosted.org", 80), DomainRules::Verdict::kNotAllowed);
  EXPECT_EQ(rules->Check("pypi.org", 443), DomainRules::Verdict::kDenied);
}

TEST(NarrowTest, AnEmptyRequestTakesTheCeilingsAllowList) {
  RuleCeiling ceiling{Ps({"pypi.org:443", "*.pythonhosted.org"}), {}};
  absl::StatusOr<DomainRules> rules = Narrow(ceiling, {}, Ps({"x.pythonhosted.org"}), "owner");
  ASSERT_TRUE(rules.ok()) << rules.status();
  ASSERT_EQ(rules->allow.size(), 2u);
  EXPECT_EQ(rules->allow[1].ToString(), "*.pythonhosted.org");
  EXPECT_EQ(rules->Check("pypi.org", 443), DomainRules::Verdict::kAllowed);
  EXPECT_EQ(rules->Check("x.pythonhosted.org", 443), DomainRules::Verdict::kDenied);
}

TEST(NarrowTest, RefusesAWiderRequest) {
  RuleCeiling ceiling{Ps({"pypi.org:443", "*.pythonhosted.org"}), {}};
  for (const char* wider : {"pypi.org", "pypi.org:80", "*.pypi.org:443", "pythonhosted.org",
                            "*.org", "example.com"}) {
    absl::StatusOr<DomainRules> rules = Narrow(ceiling, Ps({"files.pythonhosted.org", wider}),
                                               {}, "the policy rule for client ci-runner");
    ASSERT_FALSE(rules.ok()) << wider;
    EXPECT_EQ(rules.status().code(), absl::StatusCode::kPermissionDenied) << wider;
    std::string message(rules.status().message());
    EXPECT_TRUE(absl::StrContains(message, std::string("\"") + wider + "\"")) << message;
    EXPECT_TRUE(absl::StrContains(message, "the policy rule for client ci-runner allows only "
                                           "pypi.org:443, *.pythonhosted.org"))
        << message;
  }
  // A ceiling that allows nothing refuses every request pattern.
  absl::StatusOr<DomainRules> rules = Narrow(RuleCeiling{}, Ps({"pypi.org"}), {}, "the server");
  ASSERT_FALSE(rules.ok());
  EXPECT_TRUE(absl::StrContains(rules.status().message(), "the server allows no domain"))
      << rules.status();
}

TEST(NarrowTest, AnyDomainTakesAnyRequest) {
  RuleCeiling ceiling{{}, Ps({"*.internal"}), true};
  absl::StatusOr<DomainRules> rules = Narrow(ceiling, Ps({"*.com", "a.internal"}), {}, "owner");
  ASSERT_TRUE(rules.ok()) << rules.status();
  EXPECT_EQ(rules->Check("example.com", 443), DomainRules::Verdict::kAllowed);
  EXPECT_EQ(rules->Check("a.internal", 443), DomainRules::Verdict::kDenied);
  // The same request under a ceiling without any_domain is refused (the control).
  ceiling.any_domain = false;
  EXPECT_FALSE(Narrow(ceiling, Ps({"*.com"}), {}, "owner").ok());
  // With no request allow list, any_domain leaves an empty one: nothing is allowed.
  ceiling.any_domain = true;
  rules = Narrow(ceiling, {}, {}, "owner");
  ASSERT_TRUE(rules.ok()) << rules.status();
  EXPECT_TRUE(rules->allow.empty());
  EXPECT_EQ(rules->Check("example.com", 443), DomainRules::Verdict::kNotAllowed);
}

}  // namespace
}  // namespace sandboxd

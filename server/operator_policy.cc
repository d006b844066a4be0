#include "server/operator_policy.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/read_file.h"

namespace sandboxd {
namespace {

namespace pv1 = ::sandboxd::policy::v1;

absl::Duration FromProto(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

// Collects the parser's complaints with their line numbers.
class ErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    absl::StrAppend(&errors_, "line ", line + 1, " column ", column + 1, ": ", message, "; ");
  }
  const std::string& errors() const { return errors_; }

 private:
  std::string errors_;
};

// A prefix as a directory: "/srv/work/" and "/srv/work" both name /srv/work.
std::string AsDirectory(std::string prefix) {
  while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
  return prefix;
}

// A rule's domains parse, and lie within the server's.
absl::Status CheckProxyDomains(const pv1::ClientRule& rule, const RuleCeiling& server) {
  std::string owner = absl::StrCat("client ", rule.identity());
  absl::StatusOr<std::vector<HostPattern>> allow = ParsePatterns(
      {rule.proxy_allow_domains().begin(), rule.proxy_allow_domains().end()},
      absl::StrCat(owner, " proxy_allow_domains"));
  if (!allow.ok()) return allow.status();
  absl::StatusOr<std::vector<HostPattern>> deny = ParsePatterns(
      {rule.proxy_deny_domains().begin(), rule.proxy_deny_domains().end()},
      absl::StrCat(owner, " proxy_deny_domains"));
  if (!deny.ok()) return deny.status();
  return Narrow(server, *allow, *deny, "the server's --proxy_allow_domain").status();
}

}  // namespace

absl::StatusOr<OperatorPolicy> OperatorPolicy::Load(const std::string& path,
                                                   const RuleCeiling& server_proxy_rules) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read --policy_file ", path, ": ", text.status().message()));
  }
  OperatorPolicy policy;
  google::protobuf::TextFormat::Parser parser;
  ErrorCollector errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(*text, &policy.policy_)) {
    return absl::InvalidArgumentError(absl::StrCat("--policy_file ", path, ": ", errors.errors()));
  }
  for (const pv1::ClientRule& rule : policy.policy_.client()) {
    if (rule.identity().empty()) {
      return absl::InvalidArgumentError(absl::StrCat("--policy_file ", path,
                                                     ": every client rule needs an identity"));
    }
    for (const auto& [field, prefixes] :
         {std::pair{"writable_root_prefixes", &rule.writable_root_prefixes()},
          std::pair{"readable_root_prefixes", &rule.readable_root_prefixes()}}) {
      for (const std::string& prefix : *prefixes) {
        if (prefix.empty() || prefix[0] != '/') {
          return absl::InvalidArgumentError(absl::StrCat(
              "--policy_file ", path, ": ", field, " \"", prefix, "\" of client ",
              rule.identity(), " must be absolute"));
        }
      }
    }
  }
  for (const pv1::ClientRule& rule : policy.policy_.client()) {
    if (absl::Status s = CheckProxyDomains(rule, server_proxy_rules); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--policy_file ", path, ": ", s.message()));
    }
  }
  policy.loaded_ = true;
  return policy;
}

const pv1::ClientRule* OperatorPolicy::RuleFor(const std::string& identity) const {
  const pv1::ClientRule* fallback = nullptr;
  for (const pv1::ClientRule& rule : policy_.client()) {
    if (rule.identity() == identity) return &rule;
    if (rule.identity() == "*") fallback = &rule;
  }
  return fallback;
}

absl::StatusOr<ClientGrant> OperatorPolicy::GrantFor(const std::string& identity) const {
  ClientGrant grant;
  if (!loaded_) return grant;
  const pv1::ClientRule* rule = RuleFor(identity);
  if (rule == nullptr) {
    return absl::PermissionDeniedError(
        absl::StrCat("client ", identity, " has no rule in the server's policy file"));
  }
  grant.ruled = true;
  grant.rule = absl::StrCat("the policy rule for client ", rule->identity());
  for (const std::string& prefix : rule->writable_root_prefixes()) {
    grant.writable_prefixes.push_back(AsDirectory(prefix));
  }
  grant.confine_reads = rule->confine_reads();
  for (const std::string& prefix : rule->readable_root_prefixes()) {
    grant.readable_prefixes.push_back(AsDirectory(prefix));
  }
  grant.allow_network = rule->allow_network();
  grant.allow_danger_full_access = rule->allow_danger_full_access();
  grant.max_timeout = FromProto(rule->max_timeout());
  grant.max_limits.cpu_time = FromProto(rule->max_cpu_time());
  grant.max_limits.memory_bytes = rule->max_memory_bytes();
  grant.max_limits.processes = rule->max_processes();
  grant.allow_proxy = !rule->deny_proxy();
  // Parsed and checked by Load.
  grant.proxy_allow = *ParsePatterns(
      {rule->proxy_allow_domains().begin(), rule->proxy_allow_domains().end()}, "");
  grant.proxy_deny = *ParsePatterns(
      {rule->proxy_deny_domains().begin(), rule->proxy_deny_domains().end()}, "");
  return grant;
}

}  // namespace sandboxd

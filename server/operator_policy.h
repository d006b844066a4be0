#ifndef SANDBOXD_SERVER_OPERATOR_POLICY_H_
#define SANDBOXD_SERVER_OPERATOR_POLICY_H_

#include <string>

#include "absl/status/statusor.h"
#include "sandbox/policy/config.h"
#include "sandboxd/policy/v1/policy.pb.h"

namespace sandboxd {

// Per-client rules from the operator's policy file (see policy.proto). Without a file,
// every client may ask for whatever the server's flags allow.
class OperatorPolicy {
 public:
  // No file: no per-client rules.
  OperatorPolicy() = default;
  // Parses `path` (text format). INVALID_ARGUMENT saying what is wrong in it.
  // A rule's proxy_allow_domains must lie within `server_proxy_rules` (the server's
  // own --proxy_allow_domain), unless that allows any domain.
  static absl::StatusOr<OperatorPolicy> Load(const std::string& path,
                                             const RuleCeiling& server_proxy_rules = {
                                                 {}, {}, /*any_domain=*/true});

  // What `identity`'s rule lets its requests reach in the filesystem and use (the
  // host's network, no sandbox, its ceilings, which are also the defaults), for
  // validating them (ExecSpec::Create, where every check is made). PERMISSION_DENIED
  // for an identity without a rule.
  absl::StatusOr<ClientGrant> GrantFor(const std::string& identity) const;

 private:
  const sandboxd::policy::v1::ClientRule* RuleFor(const std::string& identity) const;

  bool loaded_ = false;
  sandboxd::policy::v1::OperatorPolicy policy_;
};

}  // namespace sandboxd

#endif  // SANDBOXD_SERVER_OPERATOR_POLICY_H_

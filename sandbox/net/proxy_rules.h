#ifndef SANDBOXD_SANDBOX_NET_PROXY_RULES_H_
#define SANDBOXD_SANDBOX_NET_PROXY_RULES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sandboxd {

// One host a forward proxy's rule names: an exact host ("example.com", "10.1.2.3",
// "[::1]") or every proper subdomain of a domain ("*.example.com"), on one port or on
// all of them.
struct HostPattern {
  // Lower case, without a trailing dot. For a wildcard, the domain after "*."; for an
  // IPv6 literal, the address in inet_ntop's form, without brackets.
  std::string host;
  // Whether the pattern is "*.host": the subdomains of host, not host itself.
  bool wildcard = false;
  // 1..65535, or 0 for every port.
  int port = 0;

  // Reads "example.com", "*.example.com", "10.1.2.3" or "[::1]", each optionally followed
  // by ":PORT". Case and one trailing dot of a name do not matter. INVALID_ARGUMENT,
  // quoting `text` and saying what to write instead, for anything else: an empty text,
  // '*' other than as a whole leading "*." label, an empty label, a character outside
  // [a-z0-9-_.], a label over 63 or a name over 253 characters, a bad port, a wildcard
  // on an IP address, an IPv6 address without brackets.
  static absl::StatusOr<HostPattern> Parse(absl::string_view text);

  // The canonical text, which Parse reads back: "*.example.com:443", "[::1]".
  std::string ToString() const;

  // Whether a connection to `host` (any case, a trailing dot or the brackets of an IPv6
  // literal allowed) on `port` falls under this pattern. "*.example.com" matches
  // "a.example.com" and "a.b.example.com", not "example.com" nor "badexample.com".
  bool Matches(absl::string_view host, int port) const;

  // Whether every connection `narrower` matches is matched by this pattern too: an exact
  // host covers the same host; "*.x" covers "y.x", "*.y.x" and "*.x". A pattern without
  // a port covers any port; one with a port only patterns with that same port.
  bool Covers(const HostPattern& narrower) const;
};

// The rules a proxy checks each connection's host against.
struct DomainRules {
  std::vector<HostPattern> allow;
  std::vector<HostPattern> deny;

  enum class Verdict {
    kAllowed,
    kDenied,      // Matches a deny rule.
    kNotAllowed,  // Matches no allow rule.
  };

  // A deny rule beats an allow rule; an empty allow list allows nothing.
  Verdict Check(absl::string_view host, int port) const;
};

// Parses each of `texts` with HostPattern::Parse. An error names the field, `what`
// ("policy.allow_domains"), and the index of the entry.
absl::StatusOr<std::vector<HostPattern>> ParsePatterns(const std::vector<std::string>& texts,
                                                       absl::string_view what);

// The operator's bound on the rules a request may ask for.
struct RuleCeiling {
  std::vector<HostPattern> allow;
  std::vector<HostPattern> deny;
  // The operator set no allow list: a request may allow any domain.
  bool any_domain = false;
};

// The rules a request runs under: its own allow patterns, or the ceiling's when it gives
// none (with any_domain that leaves an empty list, which allows nothing: the caller
// decides what to make of it); deny is the ceiling's deny list followed by the
// request's. Unless the ceiling has any_domain, each of `request_allow` must be covered
// by one of the ceiling's allow patterns; PERMISSION_DENIED, naming the pattern and
// `owner` ("the policy rule for client ci-runner"), for one that is not.
absl::StatusOr<DomainRules> Narrow(const RuleCeiling& ceiling,
                                   const std::vector<HostPattern>& request_allow,
                                   const std::vector<HostPattern>& request_deny,
                                   absl::string_view owner);

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_NET_PROXY_RULES_H_

#include "sandbox/net/proxy_rules.h"

#include <arpa/inet.h>

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace sandboxd {

namespace {

constexpr absl::string_view kExamples =
    "write a host such as example.com, *.example.com, pypi.org:443, 10.1.2.3 or [::1]:443";

absl::Status Invalid(absl::string_view text, absl::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat("host pattern \"", absl::CHexEscape(text), "\" ", problem));
}

// The port "1".."65535" spells, 0 for anything else. Digits only: SimpleAtoi would
// also take a sign and spaces.
int ParsePort(absl::string_view digits) {
  if (digits.empty() || digits.size() > 5) return 0;
  int port = 0;
  for (char c : digits) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return 0;
    port = port * 10 + (c - '0');
  }
  return port <= 65535 ? port : 0;
}

bool IsIpv4(const std::string& host) {
  in_addr addr;
  return inet_pton(AF_INET, host.c_str(), &addr) == 1;
}

// The inet_ntop form of an IPv6 address, empty if `text` is none.
std::string CanonicalIpv6(const std::string& text) {
  in6_addr addr;
  char out[INET6_ADDRSTRLEN];
  if (inet_pton(AF_INET6, text.c_str(), &addr) != 1 ||
      inet_ntop(AF_INET6, &addr, out, sizeof(out)) == nullptr) {
    return "";
  }
  return out;
}

// A host as the patterns hold it: lower case, no trailing dot, an IPv6 literal without
// brackets and in inet_ntop's form (so "0::1" meets "::1").
std::string NormalHost(absl::string_view text) {
  std::string host = absl::AsciiStrToLower(text);
  absl::string_view view = host;
  absl::ConsumeSuffix(&view, ".");
  if (absl::StartsWith(view, "[") && absl::EndsWith(view, "]")) {
    view = view.substr(1, view.size() - 2);
  }
  std::string normal(view);
  if (absl::StrContains(normal, ':')) {
    std::string v6 = CanonicalIpv6(normal);
    if (!v6.empty()) return v6;
  }
  return normal;
}

// Whether `name` is a proper subdomain of `domain`: "a.example.com" of "example.com",
// not "badexample.com".
bool IsSubdomain(absl::string_view name, absl::string_view domain) {
  return name.size() > domain.size() + 1 && absl::EndsWith(name, domain) &&
         name[name.size() - domain.size() - 1] == '.';
}

bool IsNameChar(char c) {
  return absl::ascii_islower(static_cast<unsigned char>(c)) ||
         absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '_' ||
         c == '.';
}

// Checks a host name (lower case, trailing dot gone) or an IPv4 literal, and stores it.
absl::Status ParseName(absl::string_view text, const std::string& name, HostPattern* pattern) {
  if (name.empty()) {
    return Invalid(text, pattern->wildcard ? "names no domain after \"*.\"; write e.g. *.example.com"
                                           : absl::StrCat("names no host; ", kExamples));
  }
  if (absl::StrContains(name, '*')) {
    return Invalid(text, "holds '*' other than as its whole first label; write *.example.com "
                         "for the subdomains of example.com");
  }
  for (char c : name) {
    if (!IsNameChar(c)) {
      return Invalid(text, absl::StrCat("holds '", absl::CHexEscape(std::string(1, c)),
                                        "'; a host name has only letters, digits, '-', '_' "
                                        "and '.'"));
    }
  }
  std::vector<absl::string_view> labels = absl::StrSplit(name, '.');
  for (absl::string_view label : labels) {
    if (label.empty()) {
      return Invalid(text, "has an empty label (\"..\" or a leading '.'); write e.g. a.example.com");
    }
    if (label.size() > 63) {
      return Invalid(text, absl::StrCat("has a label of ", label.size(),
                                        " characters; at most 63 are allowed"));
    }
  }
  if (name.size() > 253) {
    return Invalid(text, absl::StrCat("has a name of ", name.size(),
                                      " characters; at most 253 are allowed"));
  }
  // A last label of digits only is no top-level domain: the text means an IPv4 address.
  bool numeric = std::all_of(labels.back().begin(), labels.back().end(), [](char c) {
    return absl::ascii_isdigit(static_cast<unsigned char>(c));
  });
  if (numeric && pattern->wildcard) {
    return Invalid(text, "puts a wildcard on an IP address; name the address alone");
  }
  if (numeric && !IsIpv4(name)) {
    return Invalid(text, "is neither a host name nor an IPv4 address; write an address as "
                         "four numbers 0-255 without leading zeros, e.g. 10.1.2.3");
  }
  pattern->host = name;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<HostPattern> HostPattern::Parse(absl::string_view text) {
  if (text.empty()) return Invalid(text, absl::StrCat("is empty; ", kExamples));
  if (text == "*" || absl::StartsWith(text, "*:")) {
    return Invalid(text, "is '*' alone; write *.example.com for the subdomains of a domain");
  }
  if (absl::StrContains(text, "://")) {
    return Invalid(text, "is a URL; write its host alone, e.g. example.com or example.com:443");
  }
  HostPattern pattern;
  absl::string_view rest = text;
  pattern.wildcard = absl::ConsumePrefix(&rest, "*.");
  bool bracketed = absl::StartsWith(rest, "[");
  absl::string_view host = rest;
  absl::string_view after_host;  // ":PORT" or empty.
  if (bracketed) {
    size_t close = rest.find(']');
    if (close == absl::string_view::npos) {
      return Invalid(text, "lacks the ']' that closes its IPv6 address; write e.g. [::1]:443");
    }
    host = rest.substr(1, close - 1);
    after_host = rest.substr(close + 1);
  } else if (size_t colon = rest.find(':'); colon != absl::string_view::npos) {
    host = rest.substr(0, colon);
    after_host = rest.substr(colon);
  }
  if (!after_host.empty()) {
    if (after_host[0] != ':') {
      return Invalid(text, "has text after its ']' other than :PORT; write e.g. [::1]:443");
    }
    if (!bracketed && absl::StrContains(after_host.substr(1), ':')) {
      return Invalid(text, "has more than one ':'; write an IPv6 address in brackets, "
                           "e.g. [::1] or [::1]:443");
    }
    pattern.port = ParsePort(after_host.substr(1));
    if (pattern.port == 0) {
      return Invalid(text, "has a bad port; end it in :PORT with PORT from 1 to 65535, "
                           "e.g. pypi.org:443");
    }
  }
  if (bracketed) {
    if (pattern.wildcard) {
      return Invalid(text, "puts a wildcard on an IP address; name the address alone");
    }
    pattern.host = CanonicalIpv6(std::string(host));
    if (pattern.host.empty()) {
      return Invalid(text, "holds no IPv6 address in its brackets; write e.g. [::1] or "
                           "[2001:db8::1]:443");
    }
    return pattern;
  }
  std::string name = absl::AsciiStrToLower(host);
  if (absl::EndsWith(name, ".")) name.pop_back();
  absl::Status status = ParseName(text, name, &pattern);
  if (!status.ok()) return status;
  return pattern;
}

std::string HostPattern::ToString() const {
  std::string text = wildcard ? "*." : "";
  if (absl::StrContains(host, ':')) {
    absl::StrAppend(&text, "[", host, "]");
  } else {
    absl::StrAppend(&text, host);
  }
  if (port != 0) absl::StrAppend(&text, ":", port);
  return text;
}

bool HostPattern::Matches(absl::string_view text, int connect_port) const {
  if (port != 0 && connect_port != port) return false;
  std::string normal = NormalHost(text);
  return wildcard ? IsSubdomain(normal, host) : normal == host;
}

bool HostPattern::Covers(const HostPattern& narrower) const {
  if (port != 0 && narrower.port != port) return false;
  if (!wildcard) return !narrower.wildcard && narrower.host == host;
  // "*.x" covers "*.x" itself; otherwise the narrower host lies strictly below x.
  return (narrower.wildcard && narrower.host == host) || IsSubdomain(narrower.host, host);
}

DomainRules::Verdict DomainRules::Check(absl::string_view host, int port) const {
  for (const HostPattern& pattern : deny) {
    if (pattern.Matches(host, port)) return Verdict::kDenied;
  }
  for (const HostPattern& pattern : allow) {
    if (pattern.Matches(host, port)) return Verdict::kAllowed;
  }
  return Verdict::kNotAllowed;
}

absl::StatusOr<std::vector<HostPattern>> ParsePatterns(const std::vector<std::string>& texts,
                                                       absl::string_view what) {
  std::vector<HostPattern> patterns;
  patterns.reserve(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    absl::StatusOr<HostPattern> pattern = HostPattern::Parse(texts[i]);
    if (!pattern.ok()) {
      return absl::Status(pattern.status().code(),
                          absl::StrCat(what, "[", i, "]: ", pattern.status().message()));
    }
    patterns.push_back(*std::move(pattern));
  }
  return patterns;
}

namespace {

bool CoveredByAny(const std::vector<HostPattern>& wide, const HostPattern& narrow) {
  for (const HostPattern& pattern : wide) {
    if (pattern.Covers(narrow)) return true;
  }
  return false;
}

std::string JoinPatterns(const std::vector<HostPattern>& patterns) {
  return absl::StrJoin(patterns, ", ", [](std::string* out, const HostPattern& pattern) {
    out->append(pattern.ToString());
  });
}

}  // namespace

absl::StatusOr<DomainRules> Narrow(const RuleCeiling& ceiling,
                                   const std::vector<HostPattern>& request_allow,
                                   const std::vector<HostPattern>& request_deny,
                                   absl::string_view owner) {
  if (!ceiling.any_domain) {
    for (const HostPattern& pattern : request_allow) {
      if (CoveredByAny(ceiling.allow, pattern)) continue;
      std::string bound = ceiling.allow.empty()
                              ? "allows no domain"
                              : absl::StrCat("allows only ", JoinPatterns(ceiling.allow));
      return absl::PermissionDeniedError(absl::StrCat("the request may not allow \"",
                                                      pattern.ToString(), "\": ", owner, " ",
                                                      bound));
    }
  }
  DomainRules rules;
  rules.allow = request_allow.empty() ? ceiling.allow : request_allow;
  rules.deny = ceiling.deny;
  rules.deny.insert(rules.deny.end(), request_deny.begin(), request_deny.end());
  return rules;
}

}  // namespace sandboxd

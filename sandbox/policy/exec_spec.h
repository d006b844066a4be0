#ifndef SANDBOXD_SANDBOX_POLICY_EXEC_SPEC_H_
#define SANDBOXD_SANDBOX_POLICY_EXEC_SPEC_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sandbox/policy/config.h"
#include "sandbox/policy/policy.h"
#include "sandbox/v1/sandbox.pb.h"

namespace sandboxd {

// The environment every command starts from; a request's env is laid on top.
// HOME and TMPDIR point at the sandbox's private /tmp.
inline constexpr const char* kDefaultEnv[] = {
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME=/tmp",
    "TMPDIR=/tmp",
    "LANG=C.UTF-8",
};

// NETWORK_PROXY_ROUTED: where every HTTP client finds the proxy (kProxyUrl, in
// sandbox/net/bridge.h), in both cases, over whatever the request sets; what the
// command serves itself on its own loopback stays direct (NO_PROXY).
inline constexpr const char* kProxyEnvNames[] = {"HTTP_PROXY", "http_proxy",  "HTTPS_PROXY",
                                                 "https_proxy", "ALL_PROXY", "all_proxy"};
inline constexpr const char* kNoProxyEnvNames[] = {"NO_PROXY", "no_proxy"};
inline constexpr const char* kNoProxy = "localhost,127.0.0.1,::1";

// What one request may hold, checked before any filesystem work: each bound keeps the
// server's work per request small (a request with 200,000 protected names once made as
// many files in a workspace and stalled every other client for 24 s).
struct RequestBounds {
  static constexpr int kArgs = 16384;
  // argv in all, and one argument (the kernel's MAX_ARG_STRLEN, its NUL included);
  // argv and env together must stay under the kernel's limit of about 2 MiB.
  static constexpr size_t kArgBytes = size_t{1} << 20;
  static constexpr size_t kArgLength = 128 * 1024 - 1;
  static constexpr int kEnv = 1024;
  static constexpr size_t kEnvBytes = 256 * 1024;
  static constexpr int kWritableRoots = 16;
  static constexpr int kProtectedNames = 16;
  // readable_roots and deny_read together.
  static constexpr int kReadRules = 64;
  static constexpr size_t kPathLength = 4096;
  // allow_domains and deny_domains together (each at most 253 characters and a port).
  static constexpr int kDomains = 256;
};

// INVALID_ARGUMENT naming the first bound of RequestBounds that `request` goes beyond,
// and what to do instead.
absl::Status CheckBounds(const sandbox::v1::ExecRequest& request);

// An ExecRequest that passed validation, with every default filled in.
class ExecSpec {
 public:
  // Validates `request` against the operator's `config` and what `grant` lets the
  // calling client reach. Errors are INVALID_ARGUMENT for malformed or oversized
  // requests (empty argv, bad cwd, bad env names, negative timeout, see CheckBounds),
  // PERMISSION_DENIED beyond the operator's ceilings, and whatever Policy::Create says.
  static absl::StatusOr<ExecSpec> Create(const sandbox::v1::ExecRequest& request,
                                         const Config& config, const ClientGrant& grant = {});

  const std::vector<std::string>& argv() const { return argv_; }
  // Absolute and canonical.
  const std::string& cwd() const { return cwd_; }
  // "NAME=value" entries, sorted by name, no duplicates.
  const std::vector<std::string>& env() const { return env_; }
  const std::string& stdin_data() const { return stdin_data_; }
  absl::Duration timeout() const { return timeout_; }
  // Bytes kept per output stream.
  size_t output_limit() const { return output_limit_; }
  const Policy& policy() const { return policy_; }
  const Limits& limits() const { return limits_; }

 private:
  explicit ExecSpec(Policy policy) : policy_(std::move(policy)) {}

  std::vector<std::string> argv_;
  std::string cwd_;
  std::vector<std::string> env_;
  std::string stdin_data_;
  absl::Duration timeout_;
  size_t output_limit_ = 0;
  Limits limits_;
  Policy policy_;
};

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_POLICY_EXEC_SPEC_H_

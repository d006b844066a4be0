#include "sandbox/policy/exec_spec.h"

#include <sys/stat.h>

#include <algorithm>
#include <map>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "sandbox/net/bridge.h"
#include "absl/strings/string_view.h"

namespace sandboxd {
namespace {

namespace v1 = ::sandbox::v1;

bool HasNul(absl::string_view s) { return s.find('\0') != absl::string_view::npos; }

absl::StatusOr<std::vector<std::string>> ValidArgv(const v1::ExecRequest& request) {
  if (request.argv().empty() || request.argv(0).empty()) {
    return absl::InvalidArgumentError(
        "argv is empty; give the program and its arguments, e.g. [\"ls\", \"-l\"] "
        "(no shell is implied: use [\"sh\", \"-c\", \"...\"] for one)");
  }
  for (int i = 0; i < request.argv_size(); ++i) {
    if (HasNul(request.argv(i))) {
      return absl::InvalidArgumentError(absl::StrCat("argv[", i, "] contains a NUL byte"));
    }
  }
  return std::vector<std::string>(request.argv().begin(), request.argv().end());
}

absl::StatusOr<std::string> ValidCwd(const v1::ExecRequest& request) {
  absl::StatusOr<std::string> cwd =
      CanonicalExistingPath(request.cwd().empty() ? "/" : request.cwd(), "cwd");
  if (!cwd.ok()) return cwd.status();
  struct stat st;
  if (stat(cwd->c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat("cwd ", *cwd, " is not a directory"));
  }
  return cwd;
}

void Set(absl::string_view entry, std::map<std::string, std::string>& env) {
  size_t eq = entry.find('=');
  env[std::string(entry.substr(0, eq))] = std::string(entry.substr(eq + 1));
}

absl::StatusOr<std::vector<std::string>> ValidEnv(const v1::ExecRequest& request) {
  std::map<std::string, std::string> merged;
  for (absl::string_view entry : kDefaultEnv) Set(entry, merged);
  for (const auto& [name, value] : request.env()) {
    if (name.empty() || name.find('=') != std::string::npos || HasNul(name)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "env name \"", name, "\" is invalid: it must be non-empty, without '=' or NUL"));
    }
    if (HasNul(value)) {
      return absl::InvalidArgumentError(absl::StrCat("env ", name, " contains a NUL byte"));
    }
    merged[name] = value;
  }
  if (request.policy().network() == v1::NETWORK_PROXY_ROUTED) {
    for (const char* name : kProxyEnvNames) merged[name] = kProxyUrl;
    for (const char* name : kNoProxyEnvNames) merged[name] = kNoProxy;
  }
  std::vector<std::string> env;
  for (const auto& [name, value] : merged) env.push_back(absl::StrCat(name, "=", value));
  return env;
}

absl::StatusOr<absl::Duration> ValidTimeout(const v1::ExecRequest& request,
                                            const Config& config) {
  if (!request.has_timeout()) return config.default_timeout;
  absl::Duration timeout = absl::Seconds(request.timeout().seconds()) +
                           absl::Nanoseconds(request.timeout().nanos());
  if (timeout < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("timeout is negative; give a positive duration");
  }
  if (timeout == absl::ZeroDuration()) return config.default_timeout;
  if (timeout > config.max_timeout) {
    return absl::PermissionDeniedError(
        absl::StrCat("timeout ", absl::FormatDuration(timeout), " exceeds the server's ",
                     "--max_timeout of ", absl::FormatDuration(config.max_timeout)));
  }
  return timeout;
}

absl::StatusOr<size_t> ValidOutputLimit(const v1::ExecRequest& request,
                                        const Config& config) {
  if (request.output_limit_bytes() == 0) return config.default_output_limit;
  if (request.output_limit_bytes() > config.max_output_limit) {
    return absl::PermissionDeniedError(absl::StrCat(
        "output_limit_bytes ", request.output_limit_bytes(), " exceeds the server's ",
        "--max_output_limit of ", config.max_output_limit));
  }
  return static_cast<size_t>(request.output_limit_bytes());
}

absl::Status TooMany(absl::string_view what, size_t count, size_t bound,
                     absl::string_view instead) {
  return absl::InvalidArgumentError(absl::StrCat(what, " has ", count, ", over the server's ",
                                                 "limit of ", bound, "; ", instead));
}

absl::Status CheckPaths(absl::string_view field,
                        const google::protobuf::RepeatedPtrField<std::string>& paths) {
  for (int i = 0; i < paths.size(); ++i) {
    if (paths[i].size() > RequestBounds::kPathLength) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, "[", i, "] is ", paths[i].size(), " bytes long, over the limit of ",
          RequestBounds::kPathLength, " for a path"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckBounds(const v1::ExecRequest& request) {
  using B = RequestBounds;
  if (request.argv_size() > B::kArgs) {
    return TooMany("argv", request.argv_size(), B::kArgs,
                   "pass long lists of arguments through stdin or a file (xargs reads stdin)");
  }
  size_t arg_bytes = 0;
  for (int i = 0; i < request.argv_size(); ++i) {
    if (request.argv(i).size() > B::kArgLength) {
      return absl::InvalidArgumentError(absl::StrCat(
          "argv[", i, "] is ", request.argv(i).size(), " bytes, over the kernel's limit of ",
          B::kArgLength, " for one argument; pass the data through stdin or a file"));
    }
    arg_bytes += request.argv(i).size() + 1;
  }
  if (arg_bytes > B::kArgBytes) {
    return TooMany("argv (in bytes)", arg_bytes, B::kArgBytes,
                   "pass the data through stdin or a file");
  }
  size_t env_bytes = 0;
  for (const auto& [name, value] : request.env()) env_bytes += name.size() + value.size() + 2;
  if (request.env_size() > B::kEnv) {
    return TooMany("env", request.env_size(), B::kEnv, "pass settings through a file");
  }
  if (env_bytes > B::kEnvBytes) {
    return TooMany("env (in bytes)", env_bytes, B::kEnvBytes, "pass data through a file");
  }
  const v1::SandboxPolicy& policy = request.policy();
  if (policy.writable_roots_size() > B::kWritableRoots) {
    return TooMany("policy.writable_roots", policy.writable_roots_size(), B::kWritableRoots,
                   "make a common parent writable instead");
  }
  if (policy.protected_names_size() > B::kProtectedNames) {
    return TooMany("policy.protected_names", policy.protected_names_size(),
                   B::kProtectedNames, "protect a directory that holds them instead");
  }
  int domains = policy.allow_domains_size() + policy.deny_domains_size();
  if (domains > B::kDomains) {
    return TooMany("policy.allow_domains and policy.deny_domains together", domains,
                   B::kDomains, "use wildcards (*.example.com)");
  }
  int read_rules = policy.readable_roots_size() + policy.deny_read_size();
  if (read_rules > B::kReadRules) {
    return TooMany("policy.readable_roots and policy.deny_read together", read_rules,
                   B::kReadRules, "name their parent directories instead");
  }
  if (request.cwd().size() > B::kPathLength) {
    return absl::InvalidArgumentError(absl::StrCat("cwd is ", request.cwd().size(),
                                                   " bytes long, over the limit of ",
                                                   B::kPathLength, " for a path"));
  }
  for (const auto& [field, paths] :
       {std::pair{"policy.writable_roots", &policy.writable_roots()},
        std::pair{"policy.protected_names", &policy.protected_names()},
        std::pair{"policy.readable_roots", &policy.readable_roots()},
        std::pair{"policy.deny_read", &policy.deny_read()}}) {
    if (absl::Status s = CheckPaths(field, *paths); !s.ok()) return s;
  }
  return absl::OkStatus();
}

namespace {

// The rule's ceilings over what the server's left: a request beyond one is refused,
// naming the rule; one that leaves a limit unset gets the ceiling (processes only where
// the server enforces them: without cgroups a process ceiling would refuse everything).
absl::Status ApplyGrant(const v1::ExecRequest& request, const Config& config,
                        const ClientGrant& grant, absl::Duration& timeout, Limits& limits) {
  auto beyond = [&grant](absl::string_view what, absl::string_view most) {
    return absl::PermissionDeniedError(
        absl::StrCat(grant.rule, " allows ", what, " of at most ", most));
  };
  if (grant.max_timeout > absl::ZeroDuration()) {
    bool unset = !request.has_timeout() ||
                 (request.timeout().seconds() == 0 && request.timeout().nanos() == 0);
    if (unset) {
      timeout = std::min(timeout, grant.max_timeout);
    }
    if (timeout > grant.max_timeout) {
      return beyond("a timeout", absl::FormatDuration(grant.max_timeout));
    }
  }
  const v1::ResourceLimits& asked = request.policy().limits();
  if (absl::Duration most = grant.max_limits.cpu_time; most > absl::ZeroDuration()) {
    bool unset = !asked.has_cpu_time() ||
                 (asked.cpu_time().seconds() == 0 && asked.cpu_time().nanos() == 0);
    if (unset && (limits.cpu_time == absl::ZeroDuration() || limits.cpu_time > most)) {
      limits.cpu_time = most;
    }
    if (limits.cpu_time > most) return beyond("limits.cpu_time", absl::FormatDuration(most));
  }
  struct Field {
    const char* name;
    uint64_t asked, most;
    uint64_t* value;
  };
  uint64_t processes_most = config.enforces_processes ? grant.max_limits.processes : 0;
  for (const Field& field :
       {Field{"limits.memory_bytes", asked.memory_bytes(), grant.max_limits.memory_bytes,
              &limits.memory_bytes},
        Field{"limits.processes", asked.processes(), processes_most, &limits.processes}}) {
    if (field.most == 0) continue;
    if (field.asked == 0 && (*field.value == 0 || *field.value > field.most)) {
      *field.value = field.most;
    }
    if (*field.value > field.most) return beyond(field.name, absl::StrCat(field.most));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ExecSpec> ExecSpec::Create(const v1::ExecRequest& request,
                                          const Config& config, const ClientGrant& grant) {
  if (absl::Status s = CheckBounds(request); !s.ok()) return s;
  if (absl::Status s = CheckConfinement(request, grant); !s.ok()) return s;
  absl::StatusOr<std::vector<std::string>> argv = ValidArgv(request);
  if (!argv.ok()) return argv.status();
  absl::StatusOr<std::string> cwd = ValidCwd(request);
  if (!cwd.ok()) return cwd.status();
  absl::StatusOr<std::vector<std::string>> env = ValidEnv(request);
  if (!env.ok()) return env.status();
  absl::StatusOr<absl::Duration> timeout = ValidTimeout(request, config);
  if (!timeout.ok()) return timeout.status();
  absl::StatusOr<size_t> output_limit = ValidOutputLimit(request, config);
  if (!output_limit.ok()) return output_limit.status();
  absl::StatusOr<Limits> limits = ValidLimits(request.policy().limits(), config.max_limits);
  if (!limits.ok()) return limits.status();
  if (absl::Status s = ApplyGrant(request, config, grant, *timeout, *limits); !s.ok()) return s;
  absl::StatusOr<Policy> policy = Policy::Create(request.policy(), *cwd, config, grant);
  if (!policy.ok()) return policy.status();

  ExecSpec spec(*std::move(policy));
  spec.argv_ = *std::move(argv);
  spec.cwd_ = *std::move(cwd);
  spec.env_ = *std::move(env);
  spec.stdin_data_ = request.stdin();
  spec.timeout_ = *timeout;
  spec.output_limit_ = *output_limit;
  spec.limits_ = *limits;
  return spec;
}

}  // namespace sandboxd

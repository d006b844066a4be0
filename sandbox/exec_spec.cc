#include "sandbox/exec_spec.h"

#include <sys/stat.h>

#include <map>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
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

absl::StatusOr<std::vector<std::string>> ValidEnv(const v1::ExecRequest& request) {
  std::map<std::string, std::string> merged;
  for (absl::string_view entry : kDefaultEnv) {
    size_t eq = entry.find('=');
    merged[std::string(entry.substr(0, eq))] = std::string(entry.substr(eq + 1));
  }
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

}  // namespace

absl::StatusOr<ExecSpec> ExecSpec::Create(const v1::ExecRequest& request,
                                          const Config& config) {
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
  absl::StatusOr<Policy> policy = Policy::Create(request.policy(), *cwd, config);
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

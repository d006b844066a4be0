#include "sandbox/runner.h"

#include <unistd.h>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "sandbox/bwrap_args.h"

namespace sandboxd {
namespace {

// posix_spawnp would search the server's PATH; an unsandboxed command must be found
// in its own.
absl::StatusOr<std::string> FindProgram(const std::string& name,
                                        const std::vector<std::string>& env) {
  if (absl::StrContains(name, '/')) return name;
  absl::string_view path;
  for (const std::string& entry : env) {
    if (absl::StartsWith(entry, "PATH=")) path = absl::string_view(entry).substr(5);
  }
  for (absl::string_view dir : absl::StrSplit(path, ':')) {
    if (!absl::StartsWith(dir, "/")) continue;
    std::string candidate = absl::StrCat(dir, "/", name);
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("argv[0] \"", name, "\" was not found in PATH ", path));
}

}  // namespace

absl::StatusOr<Runner> Runner::Create(Config config) {
  absl::StatusOr<SeccompFilters> filters = SeccompFilters::Compile();
  if (!filters.ok()) return filters.status();
  return Runner(std::move(config), *std::move(filters));
}

absl::StatusOr<Plan> Runner::Prepare(const ExecSpec& spec) const {
  Plan plan;
  const Policy& policy = spec.policy();
  plan.mode = policy.mode();
  plan.seccomp_mode = policy.seccomp_mode();
  Launch& launch = plan.launch;
  launch.cwd = spec.cwd();
  launch.env = spec.env();
  launch.stdin_data = spec.stdin_data();
  launch.timeout = spec.timeout();
  launch.output_limit = spec.output_limit();
  if (policy.mode() == SandboxMode::kDangerFullAccess) {
    plan.backend = Backend::kNone;
    absl::StatusOr<std::string> program = FindProgram(spec.argv()[0], spec.env());
    if (!program.ok()) return program.status();
    launch.argv = spec.argv();
    launch.argv[0] = *std::move(program);
    return plan;
  }
  plan.backend = Backend::kBwrap;
  plan.placeholders = policy.placeholders();
  launch.argv = BwrapArgs(config_.bwrap_path, policy, spec.cwd(), spec.argv());
  launch.seccomp_bpf = filters_.Get(plan.seccomp_mode);
  return plan;
}

absl::StatusOr<RunResult> Runner::Run(const Plan& plan) const {
  Placeholders::Lease lease = placeholders_->Acquire(plan.placeholders);
  return RunWorker(plan.launch);
}

}  // namespace sandboxd

#include "sandbox/plan/plan.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/fd_layout.h"

namespace sandboxd {
namespace {

// posix_spawnp would search the server's PATH; an unsandboxed command must be found
// in its own.
absl::StatusOr<std::string> FindProgram(const std::string& name,
                                        const std::vector<std::string>& env,
                                        const HostFacts& facts) {
  if (absl::StrContains(name, '/')) return name;
  absl::string_view path;
  for (const std::string& entry : env) {
    if (absl::StartsWith(entry, "PATH=")) path = absl::string_view(entry).substr(5);
  }
  for (absl::string_view dir : absl::StrSplit(path, ':')) {
    if (!absl::StartsWith(dir, "/")) continue;
    std::string candidate = absl::StrCat(dir, "/", name);
    if (facts.is_executable && facts.is_executable(candidate)) return candidate;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("argv[0] \"", name, "\" was not found in PATH ", path));
}

// sandboxd-launch and the options the plan gives it, up to its "--".
std::vector<std::string> LauncherArgs(const Plan& plan, const Toolbox& tools,
                                      size_t exposed_fds) {
  std::vector<std::string> args = {tools.launcher_path};
  for (const std::string& procs : plan.joins) args.insert(args.end(), {"--join", procs});
  if (plan.user.has_value()) {
    args.insert(args.end(), {"--user", absl::StrCat(plan.user->uid, ":", plan.user->gid)});
  }
  std::vector<std::string> rlimits =
      RlimitOptions(plan.limits, plan.cgroup != CgroupSource::kNone);
  args.insert(args.end(), rlimits.begin(), rlimits.end());
  if (exposed_fds > 0) {
    args.insert(args.end(),
                {"--fds", std::to_string(exposed_fds), "--expose", tools.bind_dir});
  }
  args.push_back("--");
  return args;
}

// What runs after sandboxd-launch (or alone): bwrap, the landlock launcher, or the
// program itself, with the descriptors it is passed.
absl::StatusOr<SandboxCommand> SandboxFor(const Plan& plan, const Toolbox& tools) {
  switch (plan.backend) {
    case Backend::BACKEND_NONE:
      return SandboxCommand{plan.command, {}};
    case Backend::BACKEND_LANDLOCK:
      return LandlockArgs(tools.landlock_exec_path, *plan.policy, plan.cwd,
                          tools.danger_landlock_unprotected_paths, *tools.landlock_base,
                          plan.command, plan.temp_dir);
    case Backend::BACKEND_BWRAP: {
      BwrapOptions binds;
      binds.exposed_at = plan.launcher ? tools.bind_dir : "";
      binds.verifier = tools.verifier;
      binds.unshare_net = plan.netns == NetnsSource::kBwrap;
      return BwrapArgs(tools.bwrap_path, *plan.policy, plan.protection, plan.cwd,
                       plan.command, binds);
    }
    default:
      return absl::InternalError(absl::StrCat("a plan for backend ", Backend_Name(plan.backend)));
  }
}

// The environment, with TMPDIR (and HOME, where the request left it at /tmp) in the
// landlock command's own directory.
std::vector<std::string> EnvFor(const Plan& plan) {
  std::vector<std::string> env = plan.env;
  if (plan.temp_dir.empty()) return env;
  for (std::string& entry : env) {
    if (absl::StartsWith(entry, "TMPDIR=") || entry == "HOME=/tmp") {
      entry = entry.substr(0, entry.find('=') + 1) + plan.temp_dir;
    }
  }
  return env;
}

}  // namespace

absl::StatusOr<Plan> MakePlan(const ExecSpec& spec, const HostFacts& facts) {
  Plan plan;
  const Policy& policy = spec.policy();
  plan.mode = policy.mode();
  plan.seccomp_mode = policy.seccomp_mode();
  plan.backend = policy.mode() == SandboxMode::DANGER_FULL_ACCESS ? Backend::BACKEND_NONE
                                                                 : facts.backend;
  plan.command = spec.argv();
  plan.cwd = spec.cwd();
  plan.env = spec.env();
  plan.limits = spec.limits();
  plan.timeout = spec.timeout();
  plan.output_limit = spec.output_limit();
  plan.user = facts.command_user;
  if (plan.limits.processes != 0 && !facts.cgroups) {
    return absl::FailedPreconditionError(absl::StrCat(
        "limits.processes needs a cgroup, and this server has none: ", facts.cgroup_note));
  }
  if (facts.cgroups) {
    plan.cgroup = facts.pooled_cgroups ? CgroupSource::kPooled : CgroupSource::kFresh;
  }
  if (plan.backend == Backend::BACKEND_BWRAP && policy.network() == NetworkMode::NETWORK_DISABLED) {
    plan.netns = facts.launcher_netns ? NetnsSource::kLauncher : NetnsSource::kBwrap;
  }
  if (plan.backend == Backend::BACKEND_NONE) {
    absl::StatusOr<std::string> program = FindProgram(spec.argv()[0], spec.env(), facts);
    if (!program.ok()) return program.status();
    plan.command[0] = *std::move(program);
  } else {
    plan.policy = policy;
  }
  plan.temp_dir_needed = plan.backend == Backend::BACKEND_LANDLOCK && policy.private_tmp();
  // Under bwrap, roots are bound from descriptors that sandboxd-launch exposes.
  bool binds = plan.backend == Backend::BACKEND_BWRAP &&
               (!policy.writable_roots().empty() || !policy.readable_roots().empty());
  plan.launcher = !RlimitOptions(plan.limits, facts.cgroups).empty() ||
                  plan.cgroup != CgroupSource::kNone || plan.netns == NetnsSource::kLauncher ||
                  plan.user.has_value() || binds;
  return plan;
}

absl::StatusOr<LaunchCommand> RenderLaunch(const Plan& plan, const Toolbox& tools) {
  absl::StatusOr<SandboxCommand> sandbox = SandboxFor(plan, tools);
  if (!sandbox.ok()) return sandbox.status();
  if (sandbox->fds.size() > kMaxPassedFds) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the request needs ", sandbox->fds.size(), " binds for its roots and protected "
        "paths, over the server's limit of ", kMaxPassedFds, "; name fewer writable roots "
        "or protected names"));
  }
  LaunchCommand launch;
  if (plan.launcher) {
    bool exposes = plan.backend == Backend::BACKEND_BWRAP && !tools.bind_dir.empty();
    launch.argv = LauncherArgs(plan, tools, exposes ? sandbox->fds.size() : 0);
  }
  launch.argv.insert(launch.argv.end(), sandbox->argv.begin(), sandbox->argv.end());
  launch.passed_fds = std::move(sandbox->fds);
  launch.passed_fd_paths = std::move(sandbox->fd_paths);
  launch.cwd = plan.cwd;
  launch.env = EnvFor(plan);
  if (plan.backend != Backend::BACKEND_NONE) launch.seccomp_bpf = tools.filters->Get(plan.seccomp_mode);
  launch.starter = plan.starter;
  launch.bwrap_pid_namespace = plan.backend == Backend::BACKEND_BWRAP;
  return launch;
}

const char* Describe(NetnsSource source) {
  switch (source) {
    case NetnsSource::kHost:
      return "the host's";
    case NetnsSource::kBwrap:
      return "one of its own, made by bwrap (--unshare-net)";
    case NetnsSource::kLauncher:
      return "one of its own, a pre-started launcher's (loopback only, reused while no "
             "socket is left in it)";
  }
  return "unknown";
}

const char* Describe(CgroupSource source) {
  switch (source) {
    case CgroupSource::kNone:
      return "none";
    case CgroupSource::kPooled:
      return "a pre-started launcher's, limited for the request";
    case CgroupSource::kFresh:
      return "one made for the run";
  }
  return "unknown";
}

}  // namespace sandboxd

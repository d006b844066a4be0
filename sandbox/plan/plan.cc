#include "sandbox/plan/plan.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/fd_layout.h"
#include "sandbox/inside/protocol.h"
#include "sandbox/launcher/launch_order.h"

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

// What runs after sandboxd-launch (or alone): bwrap, the landlock launcher, or the
// program itself, with the descriptors it is passed.
absl::StatusOr<SandboxCommand> SandboxFor(const Plan& plan, const Toolbox& tools) {
  switch (plan.backend) {
    case Backend::BACKEND_NONE:
      return SandboxCommand{plan.command, {}};
    case Backend::BACKEND_LANDLOCK:
      return LandlockArgs(tools.landlock_exec_path, *plan.policy, plan.cwd,
                          *tools.landlock_base, plan.command, plan.temp_dir);
    case Backend::BACKEND_BWRAP: {
      BwrapOptions binds;
      binds.exposed_at = plan.launcher ? tools.bind_dir : "";
      binds.verifier = tools.verifier;
      binds.unshare_net = plan.netns == NetnsSource::kBwrap;
      binds.tmp = plan.tmp.has_value() ? &*plan.tmp : nullptr;
      if (plan.helper.empty()) {
        return BwrapArgs(tools.bwrap_path, *plan.policy, plan.protection, plan.cwd,
                         plan.command, binds);
      }
      if (tools.helper == nullptr) {
        return absl::FailedPreconditionError("this server has no sandboxd-helper");
      }
      binds.helper = tools.helper;
      std::vector<std::string> command = {kHelperPathInSandbox};
      command.insert(command.end(), plan.helper.begin(), plan.helper.end());
      command.insert(command.end(), plan.command.begin(), plan.command.end());
      return BwrapArgs(tools.bwrap_path, *plan.policy, plan.protection, plan.cwd, command,
                       binds);
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

std::vector<launch::v1::Rlimit> RlimitsFor(const Limits& limits, bool memory_in_cgroup) {
  std::vector<launch::v1::Rlimit> out;
  auto add = [&out](launch::v1::Resource resource, uint64_t soft, uint64_t hard) {
    launch::v1::Rlimit& limit = out.emplace_back();
    limit.set_resource(resource);
    limit.set_soft(soft);
    limit.set_hard(hard);
  };
  if (limits.cpu_time > absl::ZeroDuration()) {
    // SIGXCPU at the limit, which a process may catch; SIGKILL a second later.
    auto seconds = static_cast<uint64_t>(
        absl::ToInt64Seconds(absl::Ceil(limits.cpu_time, absl::Seconds(1))));
    add(launch::v1::CPU, seconds, seconds + 1);
  }
  if (limits.memory_bytes && !memory_in_cgroup) {
    add(launch::v1::AS, limits.memory_bytes, limits.memory_bytes);
  }
  if (limits.file_size_bytes) {
    add(launch::v1::FSIZE, limits.file_size_bytes, limits.file_size_bytes);
  }
  if (limits.open_files) add(launch::v1::NOFILE, limits.open_files, limits.open_files);
  return out;
}

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
  // The launcher makes the namespace and its listener for this command alone: a
  // pre-started one (in the host's network namespace, with a pooled cgroup) forks the
  // command, which makes them.
  if (plan.backend == Backend::BACKEND_BWRAP && policy.network() == NetworkMode::NETWORK_PROXY_ROUTED) {
    plan.netns = NetnsSource::kProxy;
  }
  if (plan.backend == Backend::BACKEND_LANDLOCK) {
    if (absl::Status s = CheckLandlockEnforceable(policy, facts.danger_landlock_unprotected_paths,
                                                  *facts.landlock_base);
        !s.ok()) {
      return s;
    }
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
  plan.launcher = !RlimitsFor(plan.limits, facts.cgroups).empty() ||
                  plan.cgroup != CgroupSource::kNone || plan.netns == NetnsSource::kLauncher ||
                  plan.netns == NetnsSource::kProxy ||
                  plan.user.has_value() || binds;
  return plan;
}

absl::Status UseHelper(Plan& plan, std::vector<std::string> args, bool command_follows) {
  if (plan.backend != Backend::BACKEND_BWRAP) {
    return absl::FailedPreconditionError(absl::StrCat(
        "terminals, sessions and file calls need a bwrap sandbox, and this one runs under ",
        Backend_Name(plan.backend),
        plan.backend == Backend::BACKEND_NONE ? " (DANGER_FULL_ACCESS: no sandbox)" : ""));
  }
  plan.helper = std::move(args);
  if (!command_follows) plan.command.clear();
  // The helper is bound from a descriptor, which sandboxd-launch exposes.
  plan.launcher = true;
  return absl::OkStatus();
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
    LaunchOrder& order = launch.order.emplace();
    for (const std::string& procs : plan.joins) order.add_joins(procs);
    if (plan.user.has_value()) {
      order.mutable_user()->set_uid(plan.user->uid);
      order.mutable_user()->set_gid(plan.user->gid);
    }
    for (const launch::v1::Rlimit& limit :
         RlimitsFor(plan.limits, plan.cgroup != CgroupSource::kNone)) {
      *order.add_rlimits() = limit;
    }
    if (plan.backend == Backend::BACKEND_BWRAP && !tools.bind_dir.empty() &&
        !sandbox->fds.empty()) {
      order.set_exposed_fds(static_cast<uint32_t>(sandbox->fds.size()));
      order.set_expose_dir(tools.bind_dir);
    }
    if (plan.netns == NetnsSource::kProxy) {
      order.set_proxy_channel_fd(kFirstPassedFd + static_cast<int>(sandbox->fds.size()));
      sandbox->fds.push_back(plan.proxy_channel);
      sandbox->fd_paths.push_back("the proxy's channel (sandboxd-launch sends its listener)");
    }
    *order.mutable_argv() = {sandbox->argv.begin(), sandbox->argv.end()};
    launch.argv = {tools.launcher_path};
    std::vector<std::string> args = LauncherArgs(order);
    launch.argv.insert(launch.argv.end(), args.begin(), args.end());
  } else {
    launch.argv = std::move(sandbox->argv);
  }
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
    case NetnsSource::kProxy:
      return "one of its own, made by sandboxd-launch for the command, whose only way out "
             "is the proxy at 127.0.0.1:3128";
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

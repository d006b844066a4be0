#include "sandbox/runner.h"

#include <dirent.h>
#include <signal.h>
#include <ftw.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <atomic>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "sandbox/landlock_args.h"
#include "sandbox/open_path.h"
#include "sandbox/outcome.h"

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

// `roots`, with each that holds a path of `hidden` replaced by its own entries, down to
// the hidden path itself, which is left out: what the landlock backend lets commands
// read. Landlock grants whole hierarchies, so leaving a directory out of the grants
// is the only way to keep what is in it from the command.
std::vector<std::string> ExpandExcept(const std::vector<std::string>& roots,
                                      const std::vector<std::string>& hidden) {
  std::vector<std::string> out;
  for (const std::string& root : roots) {
    bool covers = false, holds = false;
    for (const std::string& path : hidden) {
      covers = covers || IsUnder(root, path);
      holds = holds || IsUnder(path, root);
    }
    if (covers) continue;
    if (!holds) {
      out.push_back(root);
      continue;
    }
    std::vector<std::string> entries;
    if (DIR* dir = opendir(root.c_str())) {
      while (dirent* entry = readdir(dir)) {
        std::string name = entry->d_name;
        if (name != "." && name != "..") entries.push_back(root == "/" ? "/" + name : root + "/" + name);
      }
      closedir(dir);
    }
    std::sort(entries.begin(), entries.end());
    std::vector<std::string> expanded = ExpandExcept(entries, hidden);
    out.insert(out.end(), expanded.begin(), expanded.end());
  }
  return out;
}

// What the landlock backend lets every command read (see LandlockBase).
LandlockBase LandlockBaseFor(const Config& config) {
  LandlockBase base;
  std::vector<std::string> hidden = config.server_paths;
  hidden.insert(hidden.end(), config.deny_read.begin(), config.deny_read.end());
  for (const std::string& path : hidden) {
    absl::StatusOr<std::string> canonical = CanonicalExistingPath(path, "hidden path");
    if (canonical.ok()) base.hidden.push_back(*std::move(canonical));
  }
  std::vector<std::string> left_out = base.hidden;
  if (config.private_tmp) left_out.push_back("/tmp");
  base.readable = ExpandExcept({"/"}, left_out);
  base.system = ExpandExcept({std::begin(kSystemRoots), std::end(kSystemRoots)}, base.hidden);
  return base;
}

int RemoveEntry(const char* path, const struct stat*, int, struct FTW*) {
  remove(path);
  return 0;
}

// A directory of its own for one command under the landlock backend, owned by the
// command's user, removed with everything in it when the command is done.
class TempDir {
 public:
  explicit TempDir(const std::optional<HostUser>& owner) {
    char tmpl[] = "/tmp/sandboxd-tmp.XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return;
    path_ = tmpl;
    if (owner.has_value() && chown(tmpl, owner->uid, owner->gid) != 0) {
      nftw(path_.c_str(), RemoveEntry, 16, FTW_DEPTH | FTW_PHYS);
      path_.clear();
    }
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    if (!path_.empty()) nftw(path_.c_str(), RemoveEntry, 16, FTW_DEPTH | FTW_PHYS);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// `launch` with `dir` writable for the landlock launcher at `launcher`, and TMPDIR
// (and HOME, where the request left it at the default) pointing at it.
Launch WithTempDir(const Launch& launch, const std::string& launcher, const std::string& dir) {
  Launch with = launch;
  // Right after the launcher's name, wherever sandboxd-launch put it.
  auto at = std::find(with.argv.begin(), with.argv.end(), launcher);
  with.argv.insert(at + 1, {"--write", dir});
  for (std::string& entry : with.env) {
    if (absl::StartsWith(entry, "TMPDIR=") || entry == "HOME=/tmp") {
      entry = entry.substr(0, entry.find('=') + 1) + dir;
    }
  }
  return with;
}

// A process that an rlimit stopped dies of its signal; bwrap reports that as exit
// 128 + the signal. SIGXCPU comes from RLIMIT_CPU alone; SIGKILL (the hard limit, a
// second later, for a process that caught SIGXCPU) counts only when the reported CPU
// time shows it was spent.
// Cgroups are named sandboxd-PID-N after the server that made them. A server that was
// SIGKILLed could not remove its own; its launchers and commands died with it, so
// those are empty.
bool MadeByAGoneServer(const std::string& name) {
  std::vector<std::string> parts = absl::StrSplit(name, '-');
  int pid = 0;
  return parts.size() == 3 && parts[0] == "sandboxd" && absl::SimpleAtoi(parts[1], &pid) &&
         pid > 0 && kill(pid, 0) != 0 && errno == ESRCH;
}

// Has `launcher` start `launch`. One with a network namespace of its own only serves
// commands that bwrap would give one: they run in the launcher's instead, which saves
// bwrap making one and the kernel tearing it down (about 1.3 ms of the 10 ms bwrap
// takes, see the README). bwrap's options lie between the launcher's "--" and bwrap's
// own; none of their values (absolute paths, numbers, ALL) can read --unshare-net.
void HandTo(PrestartedLauncher& launcher, Launch& launch) {
  launch.prestarted = &launcher;
  if (!launcher.private_netns()) return;
  auto bwrap = std::find(launch.argv.begin(), launch.argv.end(), "--") + 1;
  auto end = std::find(bwrap, launch.argv.end(), "--");
  auto unshare_net = std::find(bwrap, end, "--unshare-net");
  if (unshare_net != end) launch.argv.erase(unshare_net);
}

absl::StatusOr<std::unique_ptr<Cgroup>> NewCgroup(const CgroupParent& parent) {
  static std::atomic<uint64_t> next_id{0};
  return parent.Create(absl::StrCat("sandboxd-", getpid(), "-", next_id.fetch_add(1)));
}

}  // namespace

absl::StatusOr<Runner> Runner::Create(Config config) {
  absl::StatusOr<SeccompFilters> filters = SeccompFilters::Compile();
  if (!filters.ok()) return filters.status();
  absl::StatusOr<std::unique_ptr<Placeholders>> placeholders =
      Placeholders::Open(config.state_dir);
  if (!placeholders.ok()) return placeholders.status();
  Runner runner(std::move(config), *std::move(filters), *std::move(placeholders));
  if (runner.config_.use_cgroups) {
    absl::StatusOr<std::unique_ptr<CgroupParent>> cgroups = CgroupParent::Detect();
    if (cgroups.ok()) {
      runner.cgroups_ = *std::move(cgroups);
      runner.cgroup_note_ = runner.cgroups_->Describe();
      runner.cgroups_->RemoveStale(MadeByAGoneServer);
    } else {
      runner.cgroup_note_ = std::string(cgroups.status().message());
    }
  } else {
    runner.cgroup_note_ = "cgroups turned off (--cgroup=none)";
  }
  // A process ceiling is only a default where it can be enforced.
  if (runner.cgroups_ == nullptr) runner.config_.max_limits.processes = 0;
  if (runner.cgroups_ != nullptr) runner.reaper_ = std::make_unique<CgroupReaper>();
  runner.netns_note_ = runner.config_.backend == Backend::kBwrap
                          ? "bwrap makes one per command"
                          : "none: Landlock and seccomp cut the network";
  if (runner.config_.backend == Backend::kBwrap && !runner.config_.verifier_path.empty()) {
    absl::StatusOr<OpenPath> verifier =
        OpenCanonical(runner.config_.verifier_path, "the sandboxes' verifier", false);
    if (!verifier.ok()) return verifier.status();
    runner.verifier_ = *std::move(verifier);
  }
  if (runner.config_.prestarted_launchers > 0) runner.StartPools();
  if (runner.config_.backend == Backend::kLandlock) {
    runner.landlock_base_ = LandlockBaseFor(runner.config_);
  }
  return runner;
}

BindOptions Runner::Binds() const {
  return BindOptions{config_.bind_dir, verifier_.fd != nullptr ? &verifier_ : nullptr};
}

std::string Runner::command_user_note() const {
  if (const std::optional<HostUser>& user = config_.command_user) {
    return absl::StrCat(user->name, " (uid ", user->uid, ", gid ", user->gid, ")");
  }
  if (geteuid() == 0) return "root, as the server (--danger_commands_as_root)";
  return absl::StrCat("the server's own user (uid ", geteuid(), ")");
}

std::vector<std::string> Runner::LauncherCommand() const {
  std::vector<std::string> command = {config_.launcher_path};
  if (const std::optional<HostUser>& user = config_.command_user) {
    command.insert(command.end(), {"--user", absl::StrCat(user->uid, ":", user->gid)});
  }
  return command;
}

void Runner::StartPools() {
  LauncherPool::MakeCgroup make_cgroup;
  if (cgroups_ != nullptr) {
    make_cgroup = [parent = cgroups_.get()] { return NewCgroup(*parent); };
    pool_ = std::make_unique<LauncherPool>(make_cgroup, LauncherCommand(),
                                           config_.prestarted_launchers);
  }
  if (config_.backend != Backend::kBwrap) return;
  absl::Status can = PrestartedLauncher::CanMakeNetns(LauncherCommand());
  if (!can.ok()) {
    netns_note_ = absl::StrCat("bwrap makes one per command (", can.message(), ")");
    return;
  }
  netns_note_ = "one per pre-started launcher, reused while no socket is left in it";
  netns_pool_ = std::make_unique<LauncherPool>(make_cgroup, LauncherCommand(),
                                               config_.prestarted_launchers,
                                               /*private_netns=*/true);
}

bool Runner::InLauncherNetns(const Plan& plan) const {
  return plan.own_netns && netns_pool_ != nullptr;
}

LauncherPool& Runner::PoolOf(const ReadyLauncher& launcher) const {
  return launcher.launcher->private_netns() ? *netns_pool_ : *pool_;
}

absl::Status Runner::PrepareLandlock(const ExecSpec& spec, Plan& plan) const {
  absl::StatusOr<SandboxCommand> sandbox = LandlockArgs(
      config_.landlock_exec_path, spec.policy(), spec.cwd(),
      config_.danger_landlock_unprotected_paths, landlock_base_, spec.argv());
  if (!sandbox.ok()) return sandbox.status();
  plan.launch = Render(plan, *std::move(sandbox));
  plan.private_tmp_dir = spec.policy().private_tmp();
  return absl::OkStatus();
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
  plan.backend = policy.mode() == SandboxMode::kDangerFullAccess ? Backend::kNone
                                                                  : config_.backend;
  plan.own_netns = plan.backend == Backend::kBwrap && policy.network() == NetworkMode::kDisabled;
  // Under bwrap, roots are bound from descriptors that sandboxd-launch exposes.
  bool binds = plan.backend == Backend::kBwrap &&
               (!policy.writable_roots().empty() || !policy.readable_roots().empty());
  if (absl::Status s = AddLauncher(spec.limits(), binds, plan); !s.ok()) return s;
  if (plan.backend == Backend::kNone) {
    absl::StatusOr<std::string> program = FindProgram(spec.argv()[0], spec.env());
    if (!program.ok()) return program.status();
    SandboxCommand command{spec.argv(), {}};
    command.argv[0] = *std::move(program);
    launch = Render(plan, std::move(command));
    return plan;
  }
  launch.seccomp_bpf = filters_.Get(plan.seccomp_mode);
  if (plan.backend == Backend::kLandlock) {
    if (absl::Status s = PrepareLandlock(spec, plan); !s.ok()) return s;
    return plan;
  }
  launch.bwrap_pid_namespace = true;
  plan.policy = policy;
  plan.command = spec.argv();
  return plan;
}

absl::StatusOr<Plan> Runner::Explain(const ExecSpec& spec) const {
  absl::StatusOr<Plan> plan = Prepare(spec);
  if (!plan.ok() || !plan->policy.has_value()) return plan;
  // As it would run: the protected paths as they are now, placeholders not made.
  absl::StatusOr<Protection> protection = placeholders_->Protect(*plan->policy, /*create=*/false);
  if (!protection.ok()) return protection.status();
  absl::StatusOr<Launch> launch = RenderBwrap(*plan, *protection);
  if (!launch.ok()) return launch.status();
  plan->launch = *std::move(launch);
  return plan;
}

absl::StatusOr<Launch> Runner::RenderBwrap(const Plan& plan, const Protection& protection) const {
  Launch launch = Render(plan, BwrapArgs(config_.bwrap_path, *plan.policy, protection,
                                         plan.launch.cwd, plan.command, Binds()));
  if (launch.passed_fds.size() > kMaxPassedFds) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the request needs ", launch.passed_fds.size(), " binds for its roots and protected "
        "paths, over the server's limit of ", kMaxPassedFds, "; name fewer writable roots "
        "or protected names"));
  }
  return launch;
}

absl::Status Runner::AddLauncher(const Limits& limits, bool binds, Plan& plan) const {
  plan.limits = limits;
  plan.use_cgroup = cgroups_ != nullptr;
  if (limits.processes != 0 && !plan.use_cgroup) {
    return absl::FailedPreconditionError(absl::StrCat(
        "limits.processes needs a cgroup, and this server has none: ", cgroup_note_));
  }
  std::vector<std::string> options = RlimitOptions(limits, plan.use_cgroup);
  if (options.empty() && !plan.use_cgroup && !InLauncherNetns(plan) &&
      !config_.command_user.has_value() && !binds) {
    return absl::OkStatus();
  }
  plan.launcher = LauncherCommand();
  plan.launcher.insert(plan.launcher.end(), options.begin(), options.end());
  return absl::OkStatus();
}

Launch Runner::Render(const Plan& plan, SandboxCommand sandbox) const {
  Launch launch = plan.launch;
  launch.argv = plan.launcher;
  if (!launch.argv.empty()) {
    // bwrap binds what sandboxd-launch exposes of the descriptors (see BindOptions).
    if (plan.backend == Backend::kBwrap && !sandbox.fds.empty() && !config_.bind_dir.empty()) {
      launch.argv.insert(launch.argv.end(), {"--fds", std::to_string(sandbox.fds.size()),
                                             "--expose", config_.bind_dir});
    }
    launch.argv.push_back("--");
  }
  launch.argv.insert(launch.argv.end(), sandbox.argv.begin(), sandbox.argv.end());
  launch.passed_fds = std::move(sandbox.fds);
  return launch;
}

absl::StatusOr<RunResult> Runner::Run(const Plan& plan) const {
  // Under bwrap, the protected paths are found now, with placeholders made for the
  // absent ones; both are held until the run is over.
  std::optional<Protection> protection;
  Launch rendered;
  const Launch* launch = &plan.launch;
  if (plan.policy.has_value()) {
    absl::StatusOr<Protection> held = placeholders_->Protect(*plan.policy, /*create=*/true);
    if (!held.ok()) return held.status();
    protection = *std::move(held);
    absl::StatusOr<Launch> bwrap = RenderBwrap(plan, *protection);
    if (!bwrap.ok()) return bwrap.status();
    rendered = *std::move(bwrap);
    launch = &rendered;
  }
  std::optional<TempDir> tmp;
  if (plan.private_tmp_dir) {
    tmp.emplace(config_.command_user);
    if (tmp->path().empty()) return absl::InternalError("cannot create a temporary directory");
    rendered = WithTempDir(*launch, config_.landlock_exec_path, tmp->path());
    launch = &rendered;
  }
  absl::StatusOr<RunResult> result =
      plan.use_cgroup         ? RunInCgroup(plan, *launch, /*use_pool=*/true)
      : InLauncherNetns(plan) ? RunInLaunchersNetns(*launch)
                              : RunWorker(*launch);
  if (result.ok()) {
    ConcludeRun(RunBounds{plan.limits, plan.launch.timeout, plan.launch.output_limit,
                          plan.backend == Backend::kBwrap},
                *result);
  }
  return result;
}

std::optional<ReadyLauncher> Runner::TakeFrom(LauncherPool& pool) {
  if (std::optional<ReadyLauncher> ready = pool.Take()) return ready;
  absl::StatusOr<ReadyLauncher> made = pool.Make();
  if (!made.ok()) return std::nullopt;
  return *std::move(made);
}

absl::StatusOr<RunResult> Runner::RunInLaunchersNetns(Launch launch) const {
  std::optional<ReadyLauncher> ready = TakeFrom(*netns_pool_);
  // Without one, sandboxd-launch is spawned as usual, and bwrap makes the namespace.
  if (!ready.has_value()) return RunWorker(launch);
  const Launch original = launch;
  HandTo(*ready->launcher, launch);
  absl::StatusOr<RunResult> result = RunWorker(launch);
  // Likewise when the launcher died before it could start the command.
  bool lost = !result.ok() && !ready->launcher->Alive();
  netns_pool_->Return(*std::move(ready));
  return lost ? RunWorker(original) : result;
}

std::optional<ReadyLauncher> Runner::PooledCgroupFor(const Plan& plan, Launch& launch) const {
  const Limits& limits = plan.limits;
  LauncherPool& pool = InLauncherNetns(plan) ? *netns_pool_ : *pool_;
  std::optional<ReadyLauncher> ready = TakeFrom(pool);
  if (!ready.has_value()) return std::nullopt;
  // The launcher stays in the cgroup, as one of its processes.
  uint64_t processes = limits.processes == 0 ? 0 : limits.processes + 1;
  if (ready->cgroup->SetLimits(limits.memory_bytes, processes).ok()) {
    HandTo(*ready->launcher, launch);
    return ready;
  }
  // A memory limit below what the waiting launcher already uses cannot be set (the
  // kernel says EBUSY): such a request gets a fresh cgroup, limited before anyone
  // joins, and meets the limit as the command grows instead.
  pool.Return(*std::move(ready));
  return std::nullopt;
}

absl::StatusOr<ReadyLauncher> Runner::CgroupFor(const Plan& plan, Launch& launch,
                                                bool use_pool) const {
  const Limits& limits = plan.limits;
  if (pool_ != nullptr && use_pool) {
    if (std::optional<ReadyLauncher> ready = PooledCgroupFor(plan, launch)) return *std::move(ready);
  }
  absl::StatusOr<std::unique_ptr<Cgroup>> cgroup = NewCgroup(*cgroups_);
  if (!cgroup.ok()) return cgroup.status();
  if (absl::Status s = (*cgroup)->SetLimits(limits.memory_bytes, limits.processes); !s.ok()) {
    reaper_->Retire(*std::move(cgroup));
    return s;
  }
  // The launcher is argv[0]; it joins before anything else runs.
  for (const std::string& procs : (*cgroup)->ProcsFiles()) {
    launch.argv.insert(launch.argv.begin() + 1, {"--join", procs});
  }
  return ReadyLauncher{*std::move(cgroup), nullptr};
}

absl::StatusOr<RunResult> Runner::RunInCgroup(const Plan& plan, Launch launch,
                                              bool use_pool) const {
  const Launch original = launch;
  absl::StatusOr<ReadyLauncher> ready = CgroupFor(plan, launch, use_pool);
  if (!ready.ok()) return ready.status();
  Cgroup& cgroup = *ready->cgroup;
  absl::StatusOr<RunResult> result = RunWorker(launch);
  if (!result.ok() && ready->launcher != nullptr && !ready->launcher->Alive()) {
    // The launcher died before it could start the command: under a limit too small
    // for it to fork in, the kernel's OOM killer picks it. As with a limit it already
    // exceeded, the command gets a fresh cgroup and meets the limit itself.
    PoolOf(*ready).Return(*std::move(ready));
    return RunInCgroup(plan, original, /*use_pool=*/false);
  }
  // Whatever the command left behind (a daemon outside bwrap's pid namespace, under the
  // landlock backend) dies with the cgroup; the response need not wait for the
  // cgroup to be empty, and then gone or ready for the next command.
  cgroup.KillAll(ready->launcher == nullptr ? 0 : ready->launcher->pid());
  CgroupUsage usage = cgroup.Usage();
  if (ready->launcher != nullptr) {
    PoolOf(*ready).Return(*std::move(ready));
  } else {
    reaper_->Retire(std::move(ready->cgroup));
  }
  if (!result.ok()) return result;
  result->user_cpu = usage.user_cpu;
  result->system_cpu = usage.system_cpu;
  result->max_rss_bytes = usage.peak_memory_bytes;
  result->oom_killed = usage.oom_killed;
  result->forks_refused = usage.forks_refused;
  return result;
}

}  // namespace sandboxd

#include "sandbox/runner.h"

#include <dirent.h>
#include <signal.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <atomic>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/remove_tree.h"
#include "base/unique_fd.h"
#include "sandbox/plan/landlock_args.h"
#include "sandbox/policy/open_path.h"
#include "sandbox/exec/outcome.h"

namespace sandboxd {
namespace {

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

// A directory of its own for one command under the landlock backend, owned by the
// command's user, removed with everything in it when the command is done (a tree the
// command made: RemoveTree follows none of its symlinks).
class TempDir {
 public:
  explicit TempDir(const std::optional<HostUser>& owner) {
    char tmpl[] = "/tmp/sandboxd-tmp.XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return;
    path_ = tmpl;
    if (owner.has_value() && chown(tmpl, owner->uid, owner->gid) != 0) Remove();
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() { Remove(); }
  const std::string& path() const { return path_; }

 private:
  void Remove() {
    if (path_.empty()) return;
    UniqueFd tmp(open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (tmp.valid()) RemoveTree(tmp.get(), path_.substr(std::strlen("/tmp/")));
    path_.clear();
  }

  std::string path_;
};

// Cgroups are named sandboxd-PID-N after the server that made them. A server that was
// SIGKILLed could not remove its own; its launchers and commands died with it, so
// those are empty.
bool MadeByAGoneServer(const std::string& name) {
  std::vector<std::string> parts = absl::StrSplit(name, '-');
  int pid = 0;
  return parts.size() == 3 && parts[0] == "sandboxd" && absl::SimpleAtoi(parts[1], &pid) &&
         pid > 0 && kill(pid, 0) != 0 && errno == ESRCH;
}

absl::StatusOr<std::unique_ptr<Cgroup>> NewCgroup(const CgroupParent& parent) {
  static std::atomic<uint64_t> next_id{0};
  return parent.Create(absl::StrCat("sandboxd-", getpid(), "-", next_id.fetch_add(1)));
}

}  // namespace

absl::StatusOr<Runner> Runner::Create(Config config, std::shared_ptr<NetworkProxy> proxy) {
  absl::StatusOr<SeccompFilters> filters = SeccompFilters::Compile();
  if (!filters.ok()) return filters.status();
  absl::StatusOr<std::unique_ptr<Placeholders>> placeholders =
      Placeholders::Open(config.state_dir);
  if (!placeholders.ok()) return placeholders.status();
  Runner runner(std::move(config), *std::move(filters), *std::move(placeholders));
  HostFacts& facts = runner.facts_;
  facts.backend = runner.config_.backend;
  facts.command_user = runner.config_.command_user;
  facts.is_executable = [](const std::string& path) { return access(path.c_str(), X_OK) == 0; };
  if (runner.config_.use_cgroups) {
    absl::StatusOr<std::unique_ptr<CgroupParent>> cgroups = CgroupParent::Detect();
    if (cgroups.ok()) {
      runner.cgroups_ = *std::move(cgroups);
      facts.cgroup_note = runner.cgroups_->Describe();
      runner.cgroups_->RemoveStale(MadeByAGoneServer);
    } else {
      facts.cgroup_note = std::string(cgroups.status().message());
    }
  } else {
    facts.cgroup_note = "cgroups turned off (--cgroup=none)";
  }
  facts.cgroups = runner.cgroups_ != nullptr;
  // A process ceiling is only a default where it can be enforced.
  runner.config_.enforces_processes = facts.cgroups;
  if (!facts.cgroups) runner.config_.max_limits.processes = 0;
  if (facts.cgroups) runner.reaper_ = std::make_unique<CgroupReaper>();
  runner.netns_note_ = runner.config_.backend == Backend::BACKEND_BWRAP
                          ? "bwrap makes one per command"
                          : "none: Landlock and seccomp cut the network";
  if (runner.config_.backend == Backend::BACKEND_BWRAP && !runner.config_.verifier_path.empty()) {
    absl::StatusOr<OpenPath> verifier =
        OpenCanonical(runner.config_.verifier_path, "the sandboxes' verifier", false);
    if (!verifier.ok()) return verifier.status();
    runner.verifier_ = *std::move(verifier);
  }
  if (runner.config_.backend == Backend::BACKEND_BWRAP && !runner.config_.helper_path.empty()) {
    absl::StatusOr<OpenPath> helper =
        OpenCanonical(runner.config_.helper_path, "sandboxd-helper", false);
    if (!helper.ok()) return helper.status();
    runner.helper_ = *std::move(helper);
  }
  // Whether launchers can make network namespaces here: both the pools and the proxy
  // need them, and one probe tells.
  absl::Status netns = absl::FailedPreconditionError("not probed");
  if (runner.config_.backend == Backend::BACKEND_BWRAP &&
      (runner.config_.prestarted_launchers > 0 || proxy != nullptr)) {
    netns = PrestartedLauncher::CanMakeNetns(runner.LauncherCommand());
  }
  if (runner.config_.prestarted_launchers > 0) runner.StartPools(netns);
  runner.SetUpProxy(std::move(proxy), netns);
  facts.pooled_cgroups = runner.pool_ != nullptr;
  facts.launcher_netns = runner.netns_pool_ != nullptr;
  if (runner.config_.backend == Backend::BACKEND_LANDLOCK) {
    *runner.landlock_base_ = LandlockBaseFor(runner.config_);
  }
  facts.landlock_base = runner.landlock_base_.get();
  facts.danger_landlock_unprotected_paths = runner.config_.danger_landlock_unprotected_paths;
  return runner;
}

Toolbox Runner::Tools() const {
  Toolbox tools;
  tools.bwrap_path = config_.bwrap_path;
  tools.launcher_path = config_.launcher_path;
  tools.landlock_exec_path = config_.landlock_exec_path;
  tools.bind_dir = config_.bind_dir;
  tools.verifier = verifier_.fd != nullptr ? &verifier_ : nullptr;
  tools.landlock_base = landlock_base_.get();
  tools.filters = filters_.get();
  tools.helper = helper_.fd != nullptr ? &helper_ : nullptr;
  return tools;
}

void Runner::SetUpProxy(std::shared_ptr<NetworkProxy> proxy, const absl::Status& netns) {
  std::string& refused = config_.proxy_refused;
  if (config_.backend != Backend::BACKEND_BWRAP) {
    refused = "the landlock backend gives commands no network namespace of their own";
    return;
  }
  if (proxy == nullptr) return;
  if (!netns.ok()) {
    refused = absl::StrCat("sandboxd-launch cannot make network namespaces here (",
                           netns.message(), ")");
    return;
  }
  refused.clear();
  proxy_ = std::move(proxy);
}

std::vector<std::string> Runner::LauncherCommand() const {
  std::vector<std::string> launcher = {config_.launcher_path};
  if (const std::optional<HostUser>& user = config_.command_user) {
    launcher.insert(launcher.end(), {"--user", absl::StrCat(user->uid, ":", user->gid)});
  }
  return launcher;
}

std::string Runner::command_user_note() const {
  if (const std::optional<HostUser>& user = config_.command_user) {
    return absl::StrCat(user->name, " (uid ", user->uid, ", gid ", user->gid, ")");
  }
  if (geteuid() == 0) return "root, as the server (--danger_commands_as_root)";
  return absl::StrCat("the server's own user (uid ", geteuid(), ")");
}

void Runner::StartPools(const absl::Status& netns) {
  std::vector<std::string> launcher = LauncherCommand();
  LauncherPool::MakeCgroup make_cgroup;
  if (cgroups_ != nullptr) {
    make_cgroup = [parent = cgroups_.get()] { return NewCgroup(*parent); };
    pool_ = std::make_unique<LauncherPool>(make_cgroup, launcher, config_.prestarted_launchers);
  }
  if (config_.backend != Backend::BACKEND_BWRAP) return;
  if (!netns.ok()) {
    netns_note_ = absl::StrCat("bwrap makes one per command (", netns.message(), ")");
    return;
  }
  netns_note_ = "one per pre-started launcher, reused while no socket is left in it";
  netns_pool_ = std::make_unique<LauncherPool>(make_cgroup, launcher,
                                               config_.prestarted_launchers,
                                               /*private_netns=*/true);
}

LauncherPool& Runner::PoolFor(const Plan& plan) const {
  return plan.netns == NetnsSource::kLauncher ? *netns_pool_ : *pool_;
}

LauncherPool& Runner::PoolOf(const ReadyLauncher& launcher) const {
  return launcher.launcher->private_netns() ? *netns_pool_ : *pool_;
}

absl::StatusOr<Plan> Runner::Prepare(const ExecSpec& spec) const {
  return MakePlan(spec, facts_);
}

absl::StatusOr<LaunchCommand> Runner::Explain(const Plan& plan) const {
  Plan shown = plan;
  if (plan.backend == Backend::BACKEND_BWRAP) {
    absl::StatusOr<Protection> protection = placeholders_->Protect(*plan.policy, /*create=*/false);
    if (!protection.ok()) return protection.status();
    shown.protection = *std::move(protection);
  }
  if (shown.cgroup == CgroupSource::kFresh && cgroups_ != nullptr) {
    shown.joins = {"(the cgroup.procs of a cgroup made for the run)"};
  }
  if (shown.temp_dir_needed) shown.temp_dir = "/tmp/sandboxd-tmp.XXXXXX";
  return RenderLaunch(shown, Tools());
}

absl::StatusOr<RunResult> Runner::Run(const Plan& plan, const RunIo& given) const {
  Plan run = plan;
  // A run whose session ends dies with it, as its caller's cancellation would end it.
  RunIo io = given;
  if (plan.ended) {
    io.is_cancelled = [&given, &plan] {
      return (given.is_cancelled && given.is_cancelled()) || plan.ended();
    };
  }
  // Under bwrap, the protected paths are found now, with placeholders made for the
  // absent ones; both are held until the run is over.
  if (run.backend == Backend::BACKEND_BWRAP) {
    absl::StatusOr<Protection> protection = placeholders_->Protect(*run.policy, /*create=*/true);
    if (!protection.ok()) return protection.status();
    run.protection = *std::move(protection);
  }
  std::optional<TempDir> tmp;
  if (run.temp_dir_needed) {
    tmp.emplace(config_.command_user);
    if (tmp->path().empty()) return absl::InternalError("cannot create a temporary directory");
    run.temp_dir = tmp->path();
  }
  absl::StatusOr<RunResult> result =
      run.netns == NetnsSource::kProxy ? RunProxied(run, io) : RunPlaced(run, io);
  if (result.ok()) {
    ConcludeRun(RunBounds{run.limits, io.timeout, io.output_limit,
                          run.backend == Backend::BACKEND_BWRAP},
                *result);
  }
  return result;
}

absl::StatusOr<RunResult> Runner::RunPlaced(Plan& plan, const RunIo& io) const {
  return plan.cgroup != CgroupSource::kNone    ? RunInCgroup(plan, io, /*use_pool=*/true)
         : plan.netns == NetnsSource::kLauncher ? RunInLaunchersNetns(plan, io)
                                                : Start(plan, io);
}

// The proxy's share is the request's for exactly as long as its command runs: it
// closes, tunnels and all, before the result is reported.
absl::StatusOr<RunResult> Runner::RunProxied(Plan& plan, const RunIo& io) const {
  if (proxy_ == nullptr) return absl::FailedPreconditionError(config_.proxy_refused);
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    return absl::InternalError(absl::StrCat("socketpair: ", strerror(errno)));
  }
  UniqueFd ours(pair[0]);
  plan.proxy_channel = Share(UniqueFd(pair[1]));
  absl::StatusOr<uint64_t> share = proxy_->Open(*plan.policy->proxy_grant(), std::move(ours));
  if (!share.ok()) return share.status();
  absl::StatusOr<RunResult> result = RunPlaced(plan, io);
  Report report = proxy_->Close(*share);
  if (result.ok()) {
    result->network_denials.assign(report.denials().begin(), report.denials().end());
  }
  return result;
}

absl::StatusOr<RunResult> Runner::Start(const Plan& plan, const RunIo& io) const {
  absl::StatusOr<LaunchCommand> launch = RenderLaunch(plan, Tools());
  if (!launch.ok()) return launch.status();
  return RunWorker(*launch, io);
}

std::optional<ReadyLauncher> Runner::TakeFrom(LauncherPool& pool) {
  if (std::optional<ReadyLauncher> ready = pool.Take()) return ready;
  absl::StatusOr<ReadyLauncher> made = pool.Make();
  if (!made.ok()) return std::nullopt;
  return *std::move(made);
}

absl::StatusOr<RunResult> Runner::RunInLaunchersNetns(Plan& plan, const RunIo& io) const {
  // Without a launcher, sandboxd-launch is spawned as usual, and bwrap makes the
  // namespace; likewise when the launcher died before it could start the command.
  auto in_own_netns = [&] {
    plan.starter = nullptr;
    plan.netns = NetnsSource::kBwrap;
    return Start(plan, io);
  };
  std::optional<ReadyLauncher> ready = TakeFrom(*netns_pool_);
  if (!ready.has_value()) return in_own_netns();
  plan.starter = ready->launcher.get();
  absl::StatusOr<RunResult> result = Start(plan, io);
  bool lost = !result.ok() && !ready->launcher->Alive();
  netns_pool_->Return(*std::move(ready));
  return lost ? in_own_netns() : result;
}

std::optional<ReadyLauncher> Runner::PooledCgroupFor(Plan& plan) const {
  const Limits& limits = plan.limits;
  LauncherPool& pool = PoolFor(plan);
  std::optional<ReadyLauncher> ready = TakeFrom(pool);
  if (!ready.has_value()) return std::nullopt;
  // The launcher stays in the cgroup, as one of its processes.
  uint64_t processes = limits.processes == 0 ? 0 : limits.processes + 1;
  if (ready->cgroup->SetLimits(limits.memory_bytes, processes).ok()) {
    plan.starter = ready->launcher.get();
    return ready;
  }
  // A memory limit below what the waiting launcher already uses cannot be set (the
  // kernel says EBUSY): such a request gets a fresh cgroup, limited before anyone
  // joins, and meets the limit as the command grows instead.
  pool.Return(*std::move(ready));
  return std::nullopt;
}

absl::StatusOr<ReadyLauncher> Runner::CgroupFor(Plan& plan, bool use_pool) const {
  if (plan.cgroup == CgroupSource::kPooled && use_pool) {
    if (std::optional<ReadyLauncher> ready = PooledCgroupFor(plan)) return *std::move(ready);
  }
  // A fresh cgroup, which sandboxd-launch joins before anything else runs; bwrap then
  // makes the network namespace, as no launcher has one for it.
  plan.cgroup = CgroupSource::kFresh;
  if (plan.netns == NetnsSource::kLauncher) plan.netns = NetnsSource::kBwrap;
  absl::StatusOr<std::unique_ptr<Cgroup>> cgroup = NewCgroup(*cgroups_);
  if (!cgroup.ok()) return cgroup.status();
  const Limits& limits = plan.limits;
  if (absl::Status s = (*cgroup)->SetLimits(limits.memory_bytes, limits.processes); !s.ok()) {
    reaper_->Retire(*std::move(cgroup));
    return s;
  }
  plan.joins = (*cgroup)->ProcsFiles();
  return ReadyLauncher{*std::move(cgroup), nullptr};
}

absl::StatusOr<RunResult> Runner::RunInCgroup(Plan& plan, const RunIo& io, bool use_pool) const {
  absl::StatusOr<ReadyLauncher> ready = CgroupFor(plan, use_pool);
  if (!ready.ok()) return ready.status();
  Cgroup& cgroup = *ready->cgroup;
  absl::StatusOr<RunResult> result = Start(plan, io);
  if (!result.ok() && ready->launcher != nullptr && !ready->launcher->Alive()) {
    // The launcher died before it could start the command: under a limit too small
    // for it to fork in, the kernel's OOM killer picks it. As with a limit it already
    // exceeded, the command gets a fresh cgroup and meets the limit itself.
    PoolOf(*ready).Return(*std::move(ready));
    plan.starter = nullptr;  // CgroupFor without the pool sets the rest anew.
    return RunInCgroup(plan, io, /*use_pool=*/false);
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

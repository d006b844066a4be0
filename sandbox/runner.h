#ifndef SANDBOXD_SANDBOX_RUNNER_H_
#define SANDBOXD_SANDBOX_RUNNER_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "sandbox/launcher/cgroup.h"
#include "sandbox/launcher/cgroup_reaper.h"
#include "sandbox/policy/config.h"
#include "sandbox/policy/exec_spec.h"
#include "sandbox/plan/landlock_args.h"
#include "sandbox/launcher/launcher_pool.h"
#include "sandbox/net/proxy.h"
#include "sandbox/plan/plan.h"
#include "sandbox/plan/protection.h"
#include "sandbox/plan/seccomp.h"
#include "sandbox/exec/worker.h"

namespace sandboxd {

// Turns validated requests into plans and runs them. Thread-safe: besides the
// operator's config and the seccomp filters compiled once by Create(), it holds only
// thread-safe parts (placeholders, the launcher pools, the cgroup reaper).
class Runner {
 public:
  // With `proxy`, NETWORK_PROXY_ROUTED requests run through it, where this host's
  // launchers can make network namespaces (config().proxy_refused says why not).
  static absl::StatusOr<Runner> Create(Config config,
                                       std::shared_ptr<NetworkProxy> proxy = nullptr);

  // Decides everything about running `spec` without running it (MakePlan, with this
  // host's facts).
  absl::StatusOr<Plan> Prepare(const ExecSpec& spec) const;
  // What would start for `plan` now, as Run would render it: the protected paths as
  // they are (no placeholder made), a launcher from the pool where the plan takes one.
  // A fresh cgroup's name and a landlock command's directory are made per run; Explain
  // shows what stands for them.
  absl::StatusOr<LaunchCommand> Explain(const Plan& plan) const;
  // Runs `plan` to completion with `io` (see RunWorker), its protected paths held
  // open and the placeholders of absent ones in place while it runs. A run that a
  // limit ended says so in its termination.
  absl::StatusOr<RunResult> Run(const Plan& plan, const RunIo& io) const;

  const Config& config() const { return config_; }
  // Where commands' cgroups are made ("cgroup v1 at ..."), or why they are not.
  const std::string& cgroup_note() const { return facts_.cgroup_note; }
  // The proxy proxy-routed requests use, or null.
  const NetworkProxy* proxy() const { return proxy_.get(); }
  // Where the network namespaces of commands without network access come from.
  const std::string& netns_note() const { return netns_note_; }
  // Which host user commands run as ("sandboxd-cmd (uid 999, gid 999)", ...).
  std::string command_user_note() const;

 private:
  Runner(Config config, SeccompFilters filters, std::unique_ptr<Placeholders> placeholders)
      : config_(std::move(config)),
        filters_(std::make_unique<SeccompFilters>(std::move(filters))),
        placeholders_(std::move(placeholders)) {}
  // Takes `proxy` where this host can route commands through it, else says why not in
  // config_.proxy_refused.
  // `netns` says whether launchers can make network namespaces here.
  void SetUpProxy(std::shared_ptr<NetworkProxy> proxy, const absl::Status& netns);
  // sandboxd-launch, as the commands' user when they have one.
  std::vector<std::string> LauncherCommand() const;
  // The parts plans are rendered with.
  Toolbox Tools() const;
  // Runs `plan`, through its share of the proxy when it is proxy-routed.
  absl::StatusOr<RunResult> RunProxied(Plan& plan, const RunIo& io) const;
  // Runs `plan` in its cgroup, its launcher's network namespace, or as it is.
  absl::StatusOr<RunResult> RunPlaced(Plan& plan, const RunIo& io) const;
  // Renders `plan` and runs it with `io`.
  absl::StatusOr<RunResult> Start(const Plan& plan, const RunIo& io) const;
  // Runs `plan` in a cgroup of its own, from the pool where it can (and `use_pool`),
  // and reports the cgroup's usage. Fills in `plan` with where it ran (this run's copy).
  absl::StatusOr<RunResult> RunInCgroup(Plan& plan, const RunIo& io, bool use_pool) const;
  // A cgroup under the plan's limits with, from the pool, a launcher already in it;
  // else a fresh one made here, which the plan's launcher then joins.
  absl::StatusOr<ReadyLauncher> CgroupFor(Plan& plan, bool use_pool) const;
  // The pool's part of CgroupFor: nothing when the pool cannot serve the plan's limits.
  std::optional<ReadyLauncher> PooledCgroupFor(Plan& plan) const;
  // Starts the launcher pools: with cgroups, one in the host's network namespace; and,
  // for commands that bwrap would give a network namespace of their own, one whose
  // launchers each have one (and a cgroup where the server has them), where `netns`
  // says launchers can make them.
  void StartPools(const absl::Status& netns);
  // A launcher from `pool`, made for the request if none is ready.
  static std::optional<ReadyLauncher> TakeFrom(LauncherPool& pool);
  // Runs `plan` without a cgroup, in a pooled launcher's network namespace (or, without
  // one, bwrap's); fills in `plan` likewise.
  absl::StatusOr<RunResult> RunInLaunchersNetns(Plan& plan, const RunIo& io) const;
  // The pool that serves `plan`, and the one that `launcher` came from.
  LauncherPool& PoolFor(const Plan& plan) const;
  LauncherPool& PoolOf(const ReadyLauncher& launcher) const;

  Config config_;
  HostFacts facts_;
  // Landlock backend: what every command may read. On the heap, so that facts_ and the
  // Toolbox can point at it however the Runner moves.
  std::unique_ptr<LandlockBase> landlock_base_ = std::make_unique<LandlockBase>();
  OpenPath verifier_;
  OpenPath helper_;
  // Pointers, so that Runner stays movable and the Toolbox's pointers stay valid.
  std::unique_ptr<SeccompFilters> filters_;
  std::unique_ptr<Placeholders> placeholders_;
  // Null without cgroups, as are the two below. Declared in the order they depend on
  // each other, so that they stop in the reverse.
  std::unique_ptr<CgroupParent> cgroups_;
  std::unique_ptr<CgroupReaper> reaper_;
  // Both null with Config::prestarted_launchers 0; pool_ also without cgroups;
  // netns_pool_ also where launchers cannot make network namespaces, and under the
  // landlock backend.
  std::unique_ptr<LauncherPool> pool_;
  std::unique_ptr<LauncherPool> netns_pool_;
  std::string netns_note_;
  std::shared_ptr<NetworkProxy> proxy_;
};

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_RUNNER_H_

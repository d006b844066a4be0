#ifndef SANDBOXD_SANDBOX_RUNNER_H_
#define SANDBOXD_SANDBOX_RUNNER_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sandbox/bwrap_args.h"
#include "sandbox/cgroup.h"
#include "sandbox/cgroup_reaper.h"
#include "sandbox/config.h"
#include "sandbox/exec_spec.h"
#include "sandbox/landlock_args.h"
#include "sandbox/launcher_pool.h"
#include "sandbox/protection.h"
#include "sandbox/seccomp.h"
#include "sandbox/worker.h"

namespace sandboxd {

// How a request will run: the worker launch, and the facts a response reports.
struct Plan {
  // Everything but, under bwrap, the sandbox's argv and descriptors: those depend on
  // the protected paths, which are found (and their placeholders made) only when the
  // plan runs. Explain renders them as they would be.
  Launch launch;
  // bwrap: what Run renders the sandbox's argv from.
  std::optional<Policy> policy;
  std::vector<std::string> command;
  // sandboxd-launch and its options (but --fds and --expose, which Render adds), put
  // before the sandbox's argv with "--"; empty when it is not needed.
  std::vector<std::string> launcher;
  // Landlock backend: give the command a temporary directory of its own as TMPDIR.
  bool private_tmp_dir = false;
  // The command's limits; rlimits are set by sandboxd-launch, ahead of the sandbox in
  // launch.argv.
  Limits limits;
  // Whether the command gets a cgroup of its own (sandboxd-launch joins it).
  bool use_cgroup = false;
  SandboxMode mode = SandboxMode::kReadOnly;
  Backend backend = Backend::kBwrap;
  SeccompMode seccomp_mode = SeccompMode::kRestricted;
  // bwrap gives the command a network namespace of its own (--unshare-net).
  bool own_netns = false;
};

// Turns validated requests into plans and runs them. Thread-safe: besides the
// operator's config and the seccomp filters compiled once by Create(), it holds only
// thread-safe parts (placeholders, the launcher pool, the cgroup reaper).
class Runner {
 public:
  static absl::StatusOr<Runner> Create(Config config);

  // Decides everything about running `spec` without running it. INVALID_ARGUMENT when
  // an unsandboxed program cannot be found in the request's PATH.
  absl::StatusOr<Plan> Prepare(const ExecSpec& spec) const;
  // Prepare, with the launch rendered in full as it would run now (the protected paths
  // as they are, without making placeholders), for Explain.
  absl::StatusOr<Plan> Explain(const ExecSpec& spec) const;
  // Runs a prepared plan to completion (see RunWorker), with its protected paths held
  // open and the placeholders of absent ones in place while it runs. A run that a
  // limit ended says so in its termination.
  absl::StatusOr<RunResult> Run(const Plan& plan) const;

  const Config& config() const { return config_; }
  // Where commands' cgroups are made ("cgroup v1 at ..."), or why they are not.
  const std::string& cgroup_note() const { return cgroup_note_; }
  // Where the network namespaces of commands without network access come from.
  const std::string& netns_note() const { return netns_note_; }
  // Which host user commands run as ("sandboxd-cmd (uid 999, gid 999)", ...).
  std::string command_user_note() const;

 private:
  Runner(Config config, SeccompFilters filters, std::unique_ptr<Placeholders> placeholders)
      : config_(std::move(config)),
        filters_(std::move(filters)),
        placeholders_(std::move(placeholders)) {}
  absl::Status PrepareLandlock(const ExecSpec& spec, Plan& plan) const;
  // Decides whether sandboxd-launch goes in front of the sandbox (rlimits to set, a
  // cgroup to join, a launcher's network namespace, the command's user, descriptors to
  // expose when `binds`) and with which options. FAILED_PRECONDITION for a process
  // limit without cgroups.
  absl::Status AddLauncher(const Limits& limits, bool binds, Plan& plan) const;
  // The plan's launch with `sandbox` as what the launcher (if any) execs.
  Launch Render(const Plan& plan, SandboxCommand sandbox) const;
  // Render of the plan's bwrap sandbox with `protection`. INVALID_ARGUMENT when it
  // would pass more descriptors than kMaxPassedFds.
  absl::StatusOr<Launch> RenderBwrap(const Plan& plan, const Protection& protection) const;
  // sandboxd-launch's path, with --user when commands run as another user.
  std::vector<std::string> LauncherCommand() const;
  // How bwrap sandboxes bind what a request names: exposed by sandboxd-launch, and
  // checked from inside by it (held open in verifier_; not under landlock).
  BindOptions Binds() const;
  // Runs `launch` in a cgroup of its own, from the pool where it can (and `use_pool`),
  // and reports the cgroup's usage.
  absl::StatusOr<RunResult> RunInCgroup(const Plan& plan, Launch launch, bool use_pool) const;
  // A cgroup under the plan's limits with a launcher joining it: from the pool, else a
  // fresh one made here (the launcher then joins when spawned, from its --join options
  // in `launch`).
  absl::StatusOr<ReadyLauncher> CgroupFor(const Plan& plan, Launch& launch, bool use_pool) const;
  // The pool's part of CgroupFor: nothing when the pool cannot serve the plan's limits.
  std::optional<ReadyLauncher> PooledCgroupFor(const Plan& plan, Launch& launch) const;
  // Starts the launcher pools: with cgroups, one in the host's network namespace; and,
  // for commands that bwrap would give a network namespace of their own, one whose
  // launchers each have one (and a cgroup where the server has them).
  void StartPools();
  // A launcher from `pool`, made for the request if none is ready.
  static std::optional<ReadyLauncher> TakeFrom(LauncherPool& pool);
  // Runs `launch` without a cgroup, in a pooled launcher's network namespace.
  absl::StatusOr<RunResult> RunInLaunchersNetns(Launch launch) const;
  // Whether `plan` runs in a pooled launcher's network namespace.
  bool InLauncherNetns(const Plan& plan) const;
  // The pool that `launcher` came from.
  LauncherPool& PoolOf(const ReadyLauncher& launcher) const;

  Config config_;
  // Landlock backend: what every command may read.
  LandlockBase landlock_base_;
  OpenPath verifier_;
  SeccompFilters filters_;
  // Shared by all runs; a pointer so that Runner stays movable.
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
  std::string cgroup_note_;
  std::string netns_note_;
};

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_RUNNER_H_

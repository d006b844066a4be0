#ifndef SANDBOXD_SANDBOX_PLAN_PLAN_H_
#define SANDBOXD_SANDBOX_PLAN_PLAN_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sandbox/plan/bwrap_args.h"
#include "sandbox/policy/config.h"
#include "sandbox/policy/exec_spec.h"
#include "sandbox/plan/landlock_args.h"
#include "sandbox/policy/limits.h"
#include "sandbox/policy/open_path.h"
#include "sandbox/policy/policy.h"
#include "sandbox/plan/protection.h"
#include "sandbox/plan/seccomp.h"
#include "sandbox/exec/worker.h"
#include "sandboxd/launch/v1/launch.pb.h"

namespace sandboxd {

// Where a command's network namespace comes from.
enum class NetnsSource {
  // The host's: NETWORK_ENABLED, DANGER_FULL_ACCESS, and the landlock backend (whose
  // seccomp filter cuts the network instead).
  kHost,
  // bwrap makes one for the command (--unshare-net).
  kBwrap,
  // A pre-started launcher's, made once and reused while no socket is left in it; the
  // command starts in it, and bwrap makes none.
  kLauncher,
  // NETWORK_PROXY_ROUTED: one made for the command by sandboxd-launch (--proxy), whose
  // only way out is the proxy's listener at 127.0.0.1:3128.
  kProxy,
};

// Where a command's cgroup comes from.
enum class CgroupSource {
  kNone,
  // A pre-started launcher's, which already joined it.
  kPooled,
  // One made for the run, which sandboxd-launch joins (--join).
  kFresh,
};

// What the host offers requests, decided when the server starts: the facts a plan
// is made from besides the request.
struct HostFacts {
  Backend backend = Backend::BACKEND_BWRAP;
  // Commands can get cgroups; and pre-started launchers already in one wait for them.
  bool cgroups = false;
  bool pooled_cgroups = false;
  // Pre-started launchers with a network namespace of their own wait for commands
  // that have no network.
  bool launcher_netns = false;
  // Where cgroups come from, or why there are none, for messages.
  std::string cgroup_note;
  // The user commands run as, when not the server's own (sandboxd-launch --user).
  std::optional<HostUser> command_user;
  // Landlock: what every command may read, and whether protected paths inside
  // writable roots may go unprotected (what the backend can enforce).
  const LandlockBase* landlock_base = nullptr;
  bool danger_landlock_unprotected_paths = false;
  // Whether `path` names a program the server could execute (for commands without a
  // sandbox, found in their own PATH).
  std::function<bool(const std::string& path)> is_executable;
};

// Everything about how one request runs: a typed value, made by MakePlan, completed
// by the runner with what only the run itself finds (the protected paths' covers, a
// launcher from a pool, a fresh cgroup, a temporary directory), and turned into the
// process to start by RenderLaunch alone. Nothing edits what RenderLaunch returns.
struct Plan {
  Backend backend = Backend::BACKEND_BWRAP;
  SandboxMode mode = SandboxMode::READ_ONLY;
  SeccompMode seccomp_mode = SeccompMode::SECCOMP_RESTRICTED;
  // The program and its arguments (argv[0] found in PATH, without a sandbox), where
  // it starts, and its whole environment.
  std::vector<std::string> command;
  std::string cwd;
  std::vector<std::string> env;
  Limits limits;
  // The wall-clock bound, and the bytes kept of each of stdout and stderr.
  absl::Duration timeout;
  size_t output_limit = 0;
  // The host user the command becomes (sandboxd-launch --user); none: the server's.
  std::optional<HostUser> user;
  NetnsSource netns = NetnsSource::kHost;
  CgroupSource cgroup = CgroupSource::kNone;
  // Whether sandboxd-launch goes in front of the sandbox: to set rlimits, join a
  // cgroup, start the command in its network namespace, become the command's user,
  // or expose descriptors.
  bool launcher = false;
  // The validated policy (a sandboxed backend): the roots it binds, what it hides.
  std::optional<Policy> policy;
  // bwrap: what keeps the protected paths read-only, found when the plan runs (or,
  // for Explain, as it would be found now).
  Protection protection;
  // With CgroupSource::kFresh: the cgroup.procs files sandboxd-launch joins.
  std::vector<std::string> joins;
  // Landlock with a private /tmp: the command's own directory, made when it runs,
  // writable for it and its TMPDIR (and HOME, where the request left it at /tmp).
  bool temp_dir_needed = false;
  std::string temp_dir;
  // With NetnsSource::kProxy: the Unix socket sandboxd-launch sends the proxy's
  // listener over, its other end the proxy's (set when the plan runs).
  SharedFd proxy_channel;
  // Optional: the pre-started launcher that starts the command (CgroupSource::kPooled,
  // or NetnsSource::kLauncher), a test's fake. Not owned.
  ProcessStarter* starter = nullptr;
  // sandboxd-helper's arguments, when it runs first, inside the sandbox as the command
  // (UseHelper): a terminal's ("pty", ROWS, COLS, "--") before `command`, or a file
  // call's whole command line, `command` then empty.
  std::vector<std::string> helper;
  // A session's /tmp, bound in place of a fresh one; none: a fresh one.
  std::optional<OpenPath> tmp;
  // What the run belongs to beyond its call (its session): held while any copy of the
  // plan lives, and, once `ended` says so, the run is cancelled (Runner::Run).
  std::shared_ptr<void> lease;
  std::function<bool()> ended;
};

// Makes sandboxd-helper run `args` first, inside the plan's sandbox, as its command;
// `command_follows`: the plan's command follows them (a terminal), else the helper is
// all that runs (a file call). FAILED_PRECONDITION without a bwrap sandbox (the helper
// makes its terminal inside the sandbox's own /dev, and a file call must see the files
// as the sandbox does).
absl::Status UseHelper(Plan& plan, std::vector<std::string> args, bool command_follows);

// The rlimits sandboxd-launch sets for `limits` (memory as RLIMIT_AS unless
// `memory_in_cgroup`). Pure.
std::vector<launch::v1::Rlimit> RlimitsFor(const Limits& limits, bool memory_in_cgroup);

// Decides how `spec` runs on a host with `facts`, and refuses what this host cannot
// enforce (ExecSpec::Create has checked the request itself). Pure but for
// facts.is_executable. INVALID_ARGUMENT when an unsandboxed program is not in the
// request's PATH; FAILED_PRECONDITION for a process limit without cgroups, and for what
// the landlock backend cannot enforce (CheckLandlockEnforceable).
absl::StatusOr<Plan> MakePlan(const ExecSpec& spec, const HostFacts& facts);

// The programs and parts a plan is rendered with, fixed when the server starts.
struct Toolbox {
  std::string bwrap_path;
  std::string launcher_path;
  std::string landlock_exec_path;
  // Config::bind_dir: where sandboxd-launch exposes descriptors; empty: bwrap binds
  // them itself.
  std::string bind_dir;
  // sandboxd-launch held open, which checks each bwrap sandbox from inside; null:
  // no check.
  const OpenPath* verifier = nullptr;
  // Landlock: what every command may read.
  const LandlockBase* landlock_base = nullptr;
  // The compiled filter of each seccomp mode.
  const SeccompFilters* filters = nullptr;
  // sandboxd-helper held open, for plans that use it; null: none here.
  const OpenPath* helper = nullptr;
};

// The process that runs `plan`: sandboxd-launch with its options (when the plan has
// it), then bwrap, the landlock launcher or the program itself, with the descriptors
// they are passed. The only place a plan becomes argv. INVALID_ARGUMENT when it would
// pass more descriptors than kMaxPassedFds.
absl::StatusOr<LaunchCommand> RenderLaunch(const Plan& plan, const Toolbox& tools);

// How `source` is described to a client ("bwrap's own (--unshare-net)", ...).
const char* Describe(NetnsSource source);
const char* Describe(CgroupSource source);

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_PLAN_PLAN_H_

#ifndef SANDBOXD_SANDBOX_PLAN_BWRAP_ARGS_H_
#define SANDBOXD_SANDBOX_PLAN_BWRAP_ARGS_H_

#include <string>
#include <vector>

#include "sandbox/policy/policy.h"
#include "sandbox/plan/protection.h"
#include "base/unique_fd.h"

namespace sandboxd {

// A sandbox program's argv and the descriptors it names: fds[i] is its fd
// kFirstPassedFd + i (base/fd_layout.h). An entry is null only in an explanation, for a
// placeholder a run would make.
struct SandboxCommand {
  std::vector<std::string> argv;
  std::vector<SharedFd> fds;
  // What each of `fds` is: the path it was opened at (or is bound at, in the sandbox).
  std::vector<std::string> fd_paths;
};

// How a sandbox gets what a request names (its roots, its protected paths), each held
// open since it was checked, and where its network namespace comes from.
struct BwrapOptions {
  // Where sandboxd-launch exposes the descriptors before bwrap starts (--expose, see
  // launch_main.cc): bwrap binds DIR/i. Empty: bwrap binds the descriptors itself
  // (--bind-fd), which a concurrent command can race (see launch_main.cc).
  std::string exposed_at;
  // sandboxd-launch, held open: bound into the sandbox (at /dev/.sandboxd-verify) and
  // run first, it checks that each bind is in place before it execs the command
  // ("--verify"). Null: no check.
  const OpenPath* verifier = nullptr;
  // Whether bwrap makes the network namespace of a policy without network
  // (--unshare-net); false when the command starts in a launcher's instead.
  bool unshare_net = true;
  // sandboxd-helper, held open: bound at kHelperPathInSandbox (sandbox/inside/
  // protocol.h), for a command line that starts with it. Null: not bound.
  const OpenPath* helper = nullptr;
  // A session's /tmp, bound writable in place of a fresh tmpfs. Null: a fresh one
  // (where the policy has a private /tmp).
  const OpenPath* tmp = nullptr;
};

// The full argv that runs `command` in `cwd` under `policy` with bubblewrap at
// `bwrap_path`, loading the seccomp filter from kSeccompFd, with the roots of `policy`
// and the covers of `protection` bound as `options` says, and its network namespace
// made as they say. Pure: touches no system
// state, so equal inputs give equal vectors. `policy` must not be DANGER_FULL_ACCESS.
SandboxCommand BwrapArgs(const std::string& bwrap_path, const Policy& policy,
                         const Protection& protection, const std::string& cwd,
                         const std::vector<std::string>& command,
                         const BwrapOptions& options = {});

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_PLAN_BWRAP_ARGS_H_

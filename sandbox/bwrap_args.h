#ifndef SANDBOXD_SANDBOX_BWRAP_ARGS_H_
#define SANDBOXD_SANDBOX_BWRAP_ARGS_H_

#include <string>
#include <vector>

#include "sandbox/policy.h"
#include "sandbox/protection.h"
#include "sandbox/unique_fd.h"

namespace sandboxd {

// A sandbox program's argv and the descriptors it names: fds[i] is its fd
// kFirstPassedFd + i (spawn.h). An entry is null only in an explanation, for a
// placeholder a run would make.
struct SandboxCommand {
  std::vector<std::string> argv;
  std::vector<SharedFd> fds;
};

// The full argv that runs `command` in `cwd` under `policy` with bubblewrap at
// `bwrap_path`, loading the seccomp filter from kSeccompFd, with the roots of `policy`
// and the covers of `protection` bound from the descriptors they hold (--bind-fd,
// --ro-bind-fd: bwrap checks that what it mounted is what the descriptor names).
// Pure: touches no system state, so equal inputs give equal vectors. `policy` must not
// be DANGER_FULL_ACCESS.
SandboxCommand BwrapArgs(const std::string& bwrap_path, const Policy& policy,
                         const Protection& protection, const std::string& cwd,
                         const std::vector<std::string>& command);

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_BWRAP_ARGS_H_

#ifndef SANDBOXD_SANDBOX_BWRAP_ARGS_H_
#define SANDBOXD_SANDBOX_BWRAP_ARGS_H_

#include <string>
#include <vector>

#include "sandbox/policy.h"

namespace sandboxd {

// The full argv that runs `command` in `cwd` under `policy` with bubblewrap at
// `bwrap_path`, loading the seccomp filter from kSeccompFd (spawn.h). Pure: touches no system
// state, so equal inputs give equal vectors. `policy` must not be DANGER_FULL_ACCESS.
std::vector<std::string> BwrapArgs(const std::string& bwrap_path, const Policy& policy,
                                   const std::string& cwd,
                                   const std::vector<std::string>& command);

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_BWRAP_ARGS_H_

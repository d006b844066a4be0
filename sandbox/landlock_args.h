#ifndef SANDBOXD_SANDBOX_LANDLOCK_ARGS_H_
#define SANDBOXD_SANDBOX_LANDLOCK_ARGS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sandbox/policy.h"

namespace sandboxd {

// The argv that runs `command` in `cwd` under `policy` with the landlock backend's
// launcher at `helper_path` (landlock_exec.cc), which reads the seccomp filter from
// kSeccompFd. Without readable roots in the policy, `readable_base` is what may be
// read (the entries of / but /tmp, so that requests cannot read each other's temporary
// files). Pure. FAILED_PRECONDITION for what Landlock cannot enforce: hidden
// (deny-read) paths, and protected paths inside writable roots unless
// `allow_unprotected` (Landlock grants rights to whole hierarchies and has no way to
// carve a read-only hole into a writable one).
absl::StatusOr<std::vector<std::string>> LandlockArgs(const std::string& helper_path,
                                                      const Policy& policy,
                                                      const std::string& cwd,
                                                      bool allow_unprotected,
                                                      const std::vector<std::string>& readable_base,
                                                      const std::vector<std::string>& command);

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_LANDLOCK_ARGS_H_

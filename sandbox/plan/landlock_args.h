#ifndef SANDBOXD_SANDBOX_PLAN_LANDLOCK_ARGS_H_
#define SANDBOXD_SANDBOX_PLAN_LANDLOCK_ARGS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "sandbox/plan/bwrap_args.h"
#include "sandbox/policy/policy.h"

namespace sandboxd {

// What the landlock backend lets every command read, decided at start-up.
struct LandlockBase {
  // Without restricted reads: the entries of / but /tmp (so that requests cannot read
  // each other's temporary files), with those holding a hidden path replaced by their
  // own entries, down to the hidden path itself.
  std::vector<std::string> readable;
  // With restricted reads: the system directories, expanded around hidden paths alike.
  std::vector<std::string> system;
  // The hidden paths these leave out (the server's own files, the operator's
  // deny_read), canonical.
  std::vector<std::string> hidden;
};

// OK when the landlock backend can enforce `policy`; else FAILED_PRECONDITION saying
// what it cannot: paths hidden by the request (Landlock grants rights to whole
// hierarchies, so only what `base` left out at start-up stays hidden), and protected
// paths inside writable roots unless `allow_unprotected` (there is no way to carve a
// read-only hole into a writable hierarchy).
absl::Status CheckLandlockEnforceable(const Policy& policy, bool allow_unprotected,
                                      const LandlockBase& base);

// The argv that runs `command` in `cwd` under `policy` with the landlock backend's
// launcher at `helper_path` (landlock_exec.cc), which reads the seccomp filter from
// kSeccompFd, and the descriptors of the policy's roots that it grants rights on. With
// `temp_dir`, the command may write that directory too (its own TMPDIR). Pure;
// `policy` is one CheckLandlockEnforceable accepted (MakePlan checks it).
SandboxCommand LandlockArgs(const std::string& helper_path, const Policy& policy,
                            const std::string& cwd, const LandlockBase& base,
                            const std::vector<std::string>& command,
                            const std::string& temp_dir = "");

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_PLAN_LANDLOCK_ARGS_H_

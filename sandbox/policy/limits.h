#ifndef SANDBOXD_SANDBOX_POLICY_LIMITS_H_
#define SANDBOXD_SANDBOX_POLICY_LIMITS_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sandbox/v1/sandbox.pb.h"

namespace sandboxd {

// Resource limits of one command. Zero means none. CPU time, file size and open
// files are per process (rlimits); memory and processes cover the whole tree when the
// command has a cgroup, else memory is each process's address space (RLIMIT_AS).
struct Limits {
  absl::Duration cpu_time = absl::ZeroDuration();
  uint64_t memory_bytes = 0;
  uint64_t file_size_bytes = 0;
  uint64_t open_files = 0;
  uint64_t processes = 0;
};

// The request's limits, each at most the operator's `ceilings` (a zero ceiling has no
// bound); an unset limit takes its ceiling. PERMISSION_DENIED names a limit over its
// ceiling, INVALID_ARGUMENT a negative CPU time.
absl::StatusOr<Limits> ValidLimits(const sandbox::v1::ResourceLimits& proto,
                                   const Limits& ceilings);

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_POLICY_LIMITS_H_

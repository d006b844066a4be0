#ifndef SANDBOXD_SANDBOX_LIMITS_H_
#define SANDBOXD_SANDBOX_LIMITS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sandbox/v1/sandbox.pb.h"

namespace sandboxd {

// Per-process resource limits, enforced with rlimits. Zero means none.
struct Limits {
  absl::Duration cpu_time = absl::ZeroDuration();
  uint64_t memory_bytes = 0;
  uint64_t file_size_bytes = 0;
  uint64_t open_files = 0;

  bool any() const {
    return cpu_time > absl::ZeroDuration() || memory_bytes || file_size_bytes || open_files;
  }
};

// The request's limits, each at most the operator's `ceilings` (a zero ceiling has no
// bound); an unset limit takes its ceiling. PERMISSION_DENIED names a limit over its
// ceiling, INVALID_ARGUMENT a negative CPU time.
absl::StatusOr<Limits> ValidLimits(const sandbox::v1::ResourceLimits& proto,
                                   const Limits& ceilings);

// The prlimit(1) command that sets `limits` and then execs the rest of the argv; empty
// when there is nothing to set. Pure.
std::vector<std::string> PrlimitPrefix(const std::string& prlimit_path, const Limits& limits);

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_LIMITS_H_

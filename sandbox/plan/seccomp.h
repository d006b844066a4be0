#ifndef SANDBOXD_SANDBOX_PLAN_SECCOMP_H_
#define SANDBOXD_SANDBOX_PLAN_SECCOMP_H_

#include <string>

#include "absl/status/statusor.h"
#include "sandbox/policy/config.h"

namespace sandboxd {

// Compiles the filter for `mode` into a classic BPF program for this host's
// architecture, as bwrap's --seccomp expects it. Every mode refuses new user
// namespaces (unshare/clone with CLONE_NEWUSER: EPERM; clone3: ENOSYS). Matching calls
// fail with EPERM;
// everything else is allowed; a system call made through another ABI of the same
// kernel (i386 via int 0x80, x32) kills the process, so it cannot get around the
// filter. SECCOMP_NONE has no filter and is an error here. SECCOMP_PROXY_ROUTED allows
// only inet sockets (no AF_UNIX socket or socketpair), for commands whose only way out
// is a proxy.
absl::StatusOr<std::string> CompileSeccompFilter(SeccompMode mode);

// The filters of every mode, compiled once at start-up.
class SeccompFilters {
 public:
  static absl::StatusOr<SeccompFilters> Compile();
  // The program for `mode`; empty for SECCOMP_NONE.
  const std::string& Get(SeccompMode mode) const;

 private:
  std::string baseline_;
  std::string restricted_;
  std::string proxy_routed_;
  std::string none_;
};

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_PLAN_SECCOMP_H_

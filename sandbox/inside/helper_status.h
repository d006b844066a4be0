#ifndef SANDBOXD_SANDBOX_INSIDE_HELPER_STATUS_H_
#define SANDBOXD_SANDBOX_INSIDE_HELPER_STATUS_H_

#include <string>
#include <utility>

#include "sandbox/inside/protocol.h"

namespace sandboxd {

// What one of the helper's operations came to: kHelperOk, or the status it exits with
// and the one line it prints on stderr. (The helper's own small absl::Status: its exit
// statuses are gRPC codes already, and a static binary links no more than it must.)
struct HelperStatus {
  HelperExit exit = kHelperOk;
  // One line naming the path and what to do; empty when ok.
  std::string message;

  bool ok() const { return exit == kHelperOk; }
};

inline HelperStatus HelperOk() { return {}; }

inline HelperStatus HelperError(HelperExit exit, std::string message) {
  return {exit, std::move(message)};
}

// The status protocol.h gives the errno `err`: ENOENT NotFound, EEXIST AlreadyExists,
// EACCES/EPERM/EROFS PermissionDenied, ENOSPC/EDQUOT/EFBIG ResourceExhausted,
// ELOOP/ENOTDIR/EISDIR/ENOTEMPTY/EXDEV/EBUSY FailedPrecondition, EINVAL and
// ENAMETOOLONG InvalidArgument, anything else Internal.
HelperExit ExitForErrno(int err);

// The failure `err` at `path`: "PATH: what happened (what to do)".
HelperStatus ErrnoError(const std::string& path, int err);

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_INSIDE_HELPER_STATUS_H_

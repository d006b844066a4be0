#ifndef SANDBOXD_SANDBOX_EXEC_SPAWN_H_
#define SANDBOXD_SANDBOX_EXEC_SPAWN_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/fd_layout.h"

namespace sandboxd {

// The parent's descriptors that become a child's 0, 1, 2 and kSeccompFd (-1: none),
// and kFirstPassedFd onwards (which need a seccomp filter before them).
struct ChildFds {
  int in, out, err, seccomp;
  std::vector<int> passed = {};

  // In the child's order: 0, 1, 2, then kSeccompFd and the passed ones when present.
  std::vector<int> InOrder() const;
};

// Starts `argv` (argv[0] an absolute path) with exactly `fds` open, in `cwd`, with
// `env` as its whole environment, default signal handling and a session of its own.
//
// Safe from any thread of a multithreaded process: posix_spawn (clone with CLONE_VFORK)
// runs nothing in the child but the fd set-up and the exec. FAILED_PRECONDITION when the
// program cannot be started.
absl::StatusOr<pid_t> SpawnChild(const std::vector<std::string>& argv,
                                 const std::vector<std::string>& env, const std::string& cwd,
                                 const ChildFds& fds);

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_EXEC_SPAWN_H_

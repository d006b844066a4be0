#ifndef SANDBOXD_SANDBOX_SPAWN_H_
#define SANDBOXD_SANDBOX_SPAWN_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace sandboxd {

// The file descriptor on which a sandbox program gets its seccomp filter (bwrap reads
// it with --seccomp).
inline constexpr int kSeccompFd = 3;

// The parent's descriptors that become a child's 0, 1, 2 and kSeccompFd (-1: none).
struct ChildFds {
  int in, out, err, seccomp;
};

// Starts `argv` (argv[0] an absolute path) with exactly `fds` open, in `cwd`, with
// `env` as its whole environment, default signal handling and a session of its own.
//
// Safe from any thread of a multithreaded process: posix_spawn (clone with CLONE_VFORK)
// runs nothing in the child but the fd set-up and the exec. The fds in ChildFds must
// not sit at 0-3 (the dup2 onto itself would leave FD_CLOEXEC set). FAILED_PRECONDITION
// when the program cannot be started.
absl::StatusOr<pid_t> SpawnChild(const std::vector<std::string>& argv,
                                 const std::vector<std::string>& env, const std::string& cwd,
                                 const ChildFds& fds);

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_SPAWN_H_

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

// The first of the descriptors a sandbox program is passed beyond its seccomp filter
// (the directories bwrap binds with --bind-fd).
inline constexpr int kFirstPassedFd = kSeccompFd + 1;
// At most this many are passed: one message of descriptors between processes holds
// at most 253 (SCM_MAX_FD).
inline constexpr int kMaxPassedFds = 200;

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

#endif  // SANDBOXD_SANDBOX_SPAWN_H_

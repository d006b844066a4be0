#include "sandbox/spawn.h"

#include <signal.h>
#include <spawn.h>

#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace sandboxd {
namespace {

std::vector<char*> CStrings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (const std::string& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

absl::StatusOr<pid_t> SpawnChild(const std::vector<std::string>& argv_strings,
                                 const std::vector<std::string>& env, const std::string& cwd,
                                 const ChildFds& fds) {
  // Everything the child uses is built here, before the spawn: after it, the child
  // only applies these actions and execs.
  std::vector<char*> argv = CStrings(argv_strings);
  std::vector<char*> envp = CStrings(env);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  posix_spawn_file_actions_adddup2(&actions, fds.in, 0);
  posix_spawn_file_actions_adddup2(&actions, fds.out, 1);
  posix_spawn_file_actions_adddup2(&actions, fds.err, 2);
  if (fds.seccomp >= 0) posix_spawn_file_actions_adddup2(&actions, fds.seccomp, kSeccompFd);
  // Close everything else, in case some library opened an fd without O_CLOEXEC.
  posix_spawn_file_actions_addclosefrom_np(&actions, fds.seccomp >= 0 ? kSeccompFd + 1 : 3);

  // gRPC threads block or ignore signals; the child starts with the defaults, in a
  // session of its own so the server's terminal signals do not reach it.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSID);

  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot start ", argv_strings[0], ": ", std::strerror(rc)));
  }
  return pid;
}

}  // namespace sandboxd

#include "sandbox/exec/spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/unique_fd.h"

namespace sandboxd {
namespace {

std::vector<char*> CStrings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (const std::string& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

std::vector<int> ChildFds::InOrder() const {
  std::vector<int> fds = {in, out, err};
  if (seccomp >= 0) fds.push_back(seccomp);
  fds.insert(fds.end(), passed.begin(), passed.end());
  return fds;
}

absl::StatusOr<pid_t> SpawnChild(const std::vector<std::string>& argv_strings,
                                 const std::vector<std::string>& env, const std::string& cwd,
                                 const ChildFds& fds) {
  // Everything the child uses is built here, before the spawn: after it, the child
  // only applies these actions and execs.
  std::vector<char*> argv = CStrings(argv_strings);
  std::vector<char*> envp = CStrings(env);
  // The child's fds are set up by dup2 in order, 0 first: no source may sit where an
  // earlier dup2 lands, nor on its own target (a dup2 onto itself would leave
  // FD_CLOEXEC set). Sources below the last target are copied above it first.
  std::vector<int> sources = fds.InOrder();
  std::vector<UniqueFd> copies;
  for (int& fd : sources) {
    if (fd >= static_cast<int>(sources.size())) continue;
    int copy = fcntl(fd, F_DUPFD_CLOEXEC, static_cast<int>(sources.size()));
    if (copy < 0) {
      return absl::InternalError(absl::StrCat("fcntl(F_DUPFD_CLOEXEC): ", std::strerror(errno)));
    }
    copies.emplace_back(copy);
    fd = copy;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  for (size_t target = 0; target < sources.size(); ++target) {
    posix_spawn_file_actions_adddup2(&actions, sources[target], static_cast<int>(target));
  }
  // Close everything else, in case some library opened an fd without O_CLOEXEC.
  posix_spawn_file_actions_addclosefrom_np(&actions, static_cast<int>(sources.size()));

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

#ifndef SANDBOXD_SANDBOX_PRESTARTED_LAUNCHER_H_
#define SANDBOXD_SANDBOX_PRESTARTED_LAUNCHER_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sandbox/spawn.h"
#include "sandbox/unique_fd.h"

namespace sandboxd {

// A sandboxd-launch started ahead of demand: it joins its cgroups, says so, and waits
// on a socket for the command it is to become. Handing it the command then costs a
// message instead of a spawn, and the cgroup migration (which can wait for an RCU grace
// period, see the .cc) has already been paid off the request's path.
//
// The orders, on a Unix stream socket that is the launcher's fd 3 when it starts: the
// fds that become its 0, 1, 2 (and kSeccompFd) attached to the first byte, then
// NUL-terminated strings up to EOF: "--chdir" DIR, "--env" NAME=VALUE..., the rlimit
// options of sandboxd-launch, "--", PROGRAM, ARGS. Nobody waits for the exec: as when
// sandboxd-launch is spawned with its options, a failure from then on is a message on
// the command's stderr and exit status 126. EOF without orders lets it go (exit 0).
class PrestartedLauncher {
 public:
  // Starts `launcher_path` joining the cgroup.procs files `joins`. Returns once it is
  // running; WaitJoined tells when the joins are done.
  static absl::StatusOr<std::unique_ptr<PrestartedLauncher>> Start(
      const std::string& launcher_path, const std::vector<std::string>& joins);
  // Kills and reaps a launcher that never became a command.
  ~PrestartedLauncher();
  PrestartedLauncher(const PrestartedLauncher&) = delete;
  PrestartedLauncher& operator=(const PrestartedLauncher&) = delete;

  // Waits up to `timeout` for the launcher to be inside its cgroups. UNAVAILABLE with
  // its message when it could not join.
  absl::Status WaitJoined(absl::Duration timeout);

  // Hands the launcher its command: it execs `argv` (argv[0] is ignored: it names
  // sandboxd-launch, and the rest is what sandboxd-launch would take on its command
  // line) with `fds` as its 0, 1, 2 (and kSeccompFd), in `cwd`, with `env`. Returns
  // its pid without waiting for the exec (waiting cost a wake-up of each side, about
  // 0.4 ms); the caller then reaps it. INTERNAL when the orders cannot be sent.
  // Once only.
  absl::StatusOr<pid_t> Exec(const std::vector<std::string>& argv,
                             const std::vector<std::string>& env, const std::string& cwd,
                             const ChildFds& fds);

  pid_t pid() const { return pid_; }

 private:
  PrestartedLauncher(pid_t pid, UniqueFd control) : pid_(pid), control_(std::move(control)) {}

  pid_t pid_;
  UniqueFd control_;
  // Exec was called: the launcher is the caller's to reap from then on.
  bool handed_over_ = false;
};

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_PRESTARTED_LAUNCHER_H_

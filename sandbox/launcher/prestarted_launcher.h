#ifndef SANDBOXD_SANDBOX_LAUNCHER_PRESTARTED_LAUNCHER_H_
#define SANDBOXD_SANDBOX_LAUNCHER_PRESTARTED_LAUNCHER_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sandbox/exec/spawn.h"
#include "sandbox/exec/worker.h"
#include "base/unique_fd.h"

namespace sandboxd {

// A sandboxd-launch started ahead of demand that stays in its cgroups: it joins them
// once, says so, and then starts one command per order it gets on a socket, each
// forked inside those cgroups. Starting a command then costs a message instead of a
// spawn, and neither a cgroup migration (which can wait for an RCU grace period, see
// the .cc) nor a new cgroup is on the request's path: the cgroups are reused.
//
// The orders, on a Unix stream socket that is the launcher's fd 3 when it starts: each
// is a 32-bit length in host byte order, with the fds that become the command's 0, 1,
// 2 (and kSeccompFd and the passed ones, in order) attached, then that many bytes of
// a serialized LaunchOrder (launch.proto), its cwd and environment set. The launcher
// answers each with a 32-bit pid: the command's process, which is the server's child (clone with CLONE_PARENT), or
// -errno when it could not start it. As when sandboxd-launch is spawned with its
// options, a failure from then on is a message on the command's stderr and exit
// status 126. EOF lets the launcher go (exit 0).
class PrestartedLauncher : public ProcessStarter {
 public:
  // Starts `launcher` (sandboxd-launch's path, then options it always takes, such as
  // --user) joining the cgroup.procs files `joins`. With `private_netns`, it also
  // makes a network namespace of its own (loopback up, nothing else), which all its
  // commands start in, as they start in its cgroups. Returns once it is running;
  // WaitReady tells when it is ready.
  static absl::StatusOr<std::unique_ptr<PrestartedLauncher>> Start(
      const std::vector<std::string>& launcher, const std::vector<std::string>& joins,
      bool private_netns = false);
  // Whether a launcher can make a network namespace of its own here, by starting one.
  // It makes it directly with CAP_SYS_ADMIN, else inside a user namespace of its own,
  // which the host (a container's seccomp profile, a kernel setting) may refuse.
  static absl::Status CanMakeNetns(const std::vector<std::string>& launcher);
  // Kills and reaps the launcher (its commands, not being its children, live on).
  ~PrestartedLauncher();
  PrestartedLauncher(const PrestartedLauncher&) = delete;
  PrestartedLauncher& operator=(const PrestartedLauncher&) = delete;

  // Waits up to `timeout` for the launcher to be inside its cgroups (and network
  // namespace). UNAVAILABLE with its message when it could not join (or make it).
  absl::Status WaitReady(absl::Duration timeout);

  // Has the launcher start a command: a process of its own that does what
  // `command.order` says (argv is not read: it is the same order as a command line)
  // with `fds` as its 0, 1, 2 (and onwards), in `command.cwd`, with `command.env`.
  // Returns the command's pid, a child of the caller's process, which the caller
  // reaps; does not wait for the exec. INVALID_ARGUMENT without an order; UNAVAILABLE
  // when the launcher is gone or cannot fork, and it is then killed, and Alive() says
  // false. One at a time.
  absl::StatusOr<pid_t> Exec(const LaunchCommand& command, const ChildFds& fds) override;

  // False once the launcher has exited (it is reaped then).
  bool Alive();

  // False once a command made it leave something in its network namespace that the
  // next command could see: any socket. True for a launcher without one of its own.
  bool NetnsIsClean() const;

  pid_t pid() const { return pid_; }
  bool private_netns() const { return private_netns_; }

 private:
  PrestartedLauncher(pid_t pid, UniqueFd control, bool private_netns)
      : pid_(pid), control_(std::move(control)), private_netns_(private_netns) {}
  // Kills the launcher after a failed Exec, and returns `why`.
  absl::Status Lose(absl::Status why);

  pid_t pid_;
  UniqueFd control_;
  const bool private_netns_;
  bool lost_ = false;
  bool reaped_ = false;
};

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_LAUNCHER_PRESTARTED_LAUNCHER_H_

#ifndef SANDBOXD_TESTS_SANDBOXD_PROCESS_H_
#define SANDBOXD_TESTS_SANDBOXD_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/channel.h>
#include <grpcpp/security/credentials.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace sandboxd::testing {

// The path of a file in the test's runfiles, e.g. Runfile("server/sandboxd").
std::string Runfile(const std::string& path);

// Copies `from` to `to` (which must not exist) with mode 0755: a program that any user
// may run, away from the runfiles below root's home.
absl::Status CopyExecutable(const std::string& from, const std::string& to);

// The uid a server runs as with `as_nobody`.
inline constexpr uid_t kNobody = 65534;

// The user a server running as root hands its commands to by default
// (sandboxd --command_user; tools/setup.sh creates it).
inline constexpr char kCommandUser[] = "sandboxd-cmd";

// A real sandboxd, started from the built binary on a private Unix socket, with a
// state directory of its own, and stopped with SIGTERM (SIGKILL if it does not exit
// within 10 s) when this object goes away. Its files live in a directory under
// /var/tmp (outside the sandboxes' private /tmp) that every user may enter: the probe,
// and the workspaces, which belong to the user its commands run as.
class SandboxdProcess {
 public:
  struct Options {
    // Flags besides --listen and --state_dir.
    std::vector<std::string> flags;
    // The state directory; empty: one of its own.
    std::string state_dir;
    // Environment variables of the server, "NAME=value".
    std::vector<std::string> env;
    // Where the server's log goes; empty: the test's own stderr.
    std::string log_path;
    // Listen here (a loopback HOST:PORT) instead of a private Unix socket, and connect
    // with `credentials` (insecure when null).
    std::string listen;
    std::shared_ptr<grpc::ChannelCredentials> credentials;
    // Run the server as uid/gid 65534 instead of the test's own user. The server and
    // the probe are copied to a world-readable scratch directory under /var/tmp (the
    // test must run outside Bazel's sandbox, and as root).
    bool as_nobody = false;
    // Run the server as root without CAP_SYS_ADMIN, as a container's root often is
    // (setpriv drops it from the bounding and inheritable sets).
    bool without_sys_admin = false;
    // Put before the server's argv (after setpriv's): a program that sets something up
    // and execs the rest, e.g. tests/docker_seccomp_exec. Its files must be reachable
    // by the server's user.
    std::vector<std::string> wrapper;
  };

  // Starts the server and waits until it accepts calls.
  static absl::StatusOr<std::unique_ptr<SandboxdProcess>> Start(Options options);
  static absl::StatusOr<std::unique_ptr<SandboxdProcess>> Start() { return Start(Options()); }
  ~SandboxdProcess();

  // "unix:/tmp/.../sandboxd.sock".
  const std::string& address() const { return address_; }
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }
  pid_t pid() const { return pid_; }
  // The probe binary (tests/probe.cc) where the server's sandboxes can run it, as a
  // canonical path.
  const std::string& probe() const { return probe_; }
  // The host user the server's commands run as.
  uid_t command_uid() const { return command_uid_; }
  gid_t command_gid() const { return command_gid_; }
  // A new directory, owned by the user the server's commands run as and outside /tmp
  // (the sandbox's /tmp is private), for workspaces.
  absl::StatusOr<std::string> MakeWorkspace() const;
  // The server's own directory: where its socket, state and copies of the binaries
  // live. Commands see none of it but the probe and the workspaces.
  const std::string& dir() const { return dir_; }

  // Sends `signal` (0: none) and waits up to `timeout` for the server to exit. Returns its wait
  // status, or DEADLINE_EXCEEDED (and kills it) when it did not exit in time.
  absl::StatusOr<int> Stop(int signal, absl::Duration timeout);

 private:
  SandboxdProcess() = default;
  absl::Status Spawn(const Options& options);

  std::string dir_;
  std::string address_;
  std::string probe_;
  uid_t uid_ = 0;
  uid_t command_uid_ = 0;
  gid_t command_gid_ = 0;
  pid_t pid_ = -1;
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace sandboxd::testing

#endif  // SANDBOXD_TESTS_SANDBOXD_PROCESS_H_

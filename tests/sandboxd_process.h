#ifndef SANDBOXD_TESTS_SANDBOXD_PROCESS_H_
#define SANDBOXD_TESTS_SANDBOXD_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/channel.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace sandboxd::testing {

// The path of a file in the test's runfiles, e.g. Runfile("server/sandboxd").
std::string Runfile(const std::string& path);

// A real sandboxd, started from the built binary on a private Unix socket, and killed
// when this object goes away.
class SandboxdProcess {
 public:
  // Starts the server with `flags` (besides --listen) and the environment variables
  // `env` ("NAME=value"), and waits until it accepts calls.
  static absl::StatusOr<std::unique_ptr<SandboxdProcess>> Start(
      const std::vector<std::string>& flags = {}, const std::vector<std::string>& env = {});
  ~SandboxdProcess();

  // "unix:/tmp/.../sandboxd.sock".
  const std::string& address() const { return address_; }
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }
  pid_t pid() const { return pid_; }

  // Sends `signal` and waits up to `timeout` for the server to exit. Returns its wait
  // status, or DEADLINE_EXCEEDED (and kills it) when it did not exit in time.
  absl::StatusOr<int> Stop(int signal, absl::Duration timeout);

 private:
  SandboxdProcess() = default;

  std::string dir_;
  std::string address_;
  pid_t pid_ = -1;
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace sandboxd::testing

#endif  // SANDBOXD_TESTS_SANDBOXD_PROCESS_H_

#include "tests/sandboxd_process.h"

#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace sandboxd::testing {

std::string Runfile(const std::string& path) {
  const char* root = std::getenv("TEST_SRCDIR");
  return absl::StrCat(root != nullptr ? root : ".", "/sandboxd/", path);
}

absl::StatusOr<std::unique_ptr<SandboxdProcess>> SandboxdProcess::Start(
    const std::vector<std::string>& flags, const std::vector<std::string>& env) {
  std::unique_ptr<SandboxdProcess> process(new SandboxdProcess());
  // Unix socket paths are limited to 108 bytes, too few for Bazel's TEST_TMPDIR.
  char tmpl[] = "/tmp/sandboxd_test.XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return absl::InternalError("mkdtemp failed");
  process->dir_ = tmpl;
  process->address_ = absl::StrCat("unix:", process->dir_, "/sandboxd.sock");

  std::vector<std::string> args = {Runfile("server/sandboxd"),
                                   absl::StrCat("--listen=", process->address_)};
  args.insert(args.end(), flags.begin(), flags.end());
  std::vector<char*> argv, envp;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<std::string> environment = env;
  environment.push_back("PATH=/usr/bin:/bin");
  for (std::string& entry : environment) envp.push_back(entry.data());
  envp.push_back(nullptr);
  int rc = posix_spawn(&process->pid_, argv[0], nullptr, nullptr, argv.data(), envp.data());
  if (rc != 0) {
    return absl::InternalError(absl::StrCat("cannot start ", args[0], ": ", std::strerror(rc)));
  }
  // Connecting before the socket exists would put the channel into a 1s back-off.
  std::string socket_path = process->dir_ + "/sandboxd.sock";
  for (int i = 0; i < 2000 && access(socket_path.c_str(), F_OK) != 0; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  process->channel_ = grpc::CreateChannel(process->address_, grpc::InsecureChannelCredentials());
  if (!process->channel_->WaitForConnected(std::chrono::system_clock::now() +
                                           std::chrono::seconds(20))) {
    return absl::DeadlineExceededError("sandboxd did not start listening within 20s");
  }
  return process;
}

absl::StatusOr<int> SandboxdProcess::Stop(int signal, absl::Duration timeout) {
  kill(pid_, signal);
  absl::Time deadline = absl::Now() + timeout;
  int status = 0;
  while (absl::Now() < deadline) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return status;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError("sandboxd did not exit in time");
}

SandboxdProcess::~SandboxdProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (!dir_.empty()) std::system(absl::StrCat("rm -rf ", dir_).c_str());
}

}  // namespace sandboxd::testing

#include "tests/sandboxd_process.h"

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace sandboxd::testing {
namespace {

absl::StatusOr<std::string> MakeTempDir(const std::string& prefix) {
  std::string tmpl = prefix + ".XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp ", tmpl, ": ", std::strerror(errno)));
  }
  return tmpl;
}

bool HasFlag(const std::vector<std::string>& flags, const std::string& flag) {
  return std::find(flags.begin(), flags.end(), flag) != flags.end();
}

}  // namespace

absl::Status CopyExecutable(const std::string& from, const std::string& to) {
  std::error_code error;
  std::filesystem::copy_file(from, to, error);
  if (error || chmod(to.c_str(), 0755) != 0) {
    return absl::InternalError(absl::StrCat("cannot copy ", from, " to ", to));
  }
  return absl::OkStatus();
}


std::string Runfile(const std::string& path) {
  const char* root = std::getenv("TEST_SRCDIR");
  return absl::StrCat(root != nullptr ? root : ".", "/sandboxd/", path);
}

absl::StatusOr<std::unique_ptr<SandboxdProcess>> SandboxdProcess::Start(Options options) {
  std::unique_ptr<SandboxdProcess> process(new SandboxdProcess());
  if (absl::Status s = process->Spawn(options); !s.ok()) return s;
  // Connecting before the socket exists would put the channel into a 1s back-off.
  if (absl::StartsWith(process->address_, "unix:")) {
    std::string socket_path = process->address_.substr(5);
    for (int i = 0; i < 2000 && access(socket_path.c_str(), F_OK) != 0; ++i) {
      absl::SleepFor(absl::Milliseconds(10));
    }
  }
  process->channel_ = grpc::CreateChannel(
      process->address_,
      options.credentials ? options.credentials : grpc::InsecureChannelCredentials());
  if (!process->channel_->WaitForConnected(std::chrono::system_clock::now() +
                                           std::chrono::seconds(20))) {
    return absl::DeadlineExceededError("sandboxd did not start listening within 20s");
  }
  return process;
}

absl::Status SandboxdProcess::Spawn(const Options& options) {
  std::vector<std::string> args;
  // Where every user may reach it: the runfiles lie below root's home.
  absl::StatusOr<std::string> dir = MakeTempDir("/var/tmp/sandboxd_test");
  if (!dir.ok()) return dir.status();
  dir_ = *dir;
  uid_ = options.as_nobody ? kNobody : geteuid();
  if (chmod(dir_.c_str(), 0755) != 0 || chown(dir_.c_str(), uid_, uid_) != 0 ||
      mkdir((dir_ + "/bin").c_str(), 0755) != 0) {
    return absl::InternalError(absl::StrCat("cannot prepare ", dir_));
  }
  probe_ = dir_ + "/bin/probe";
  if (absl::Status s = CopyExecutable(Runfile("tests/probe"), probe_); !s.ok()) return s;
  if (uid_ != 0 || HasFlag(options.flags, "--danger_commands_as_root")) {
    command_uid_ = uid_;
    command_gid_ = options.as_nobody ? kNobody : getegid();
  } else {
    const passwd* user = getpwnam(kCommandUser);
    if (user == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the user ", kCommandUser, " is missing: tools/setup.sh creates it"));
    }
    command_uid_ = user->pw_uid;
    command_gid_ = user->pw_gid;
  }
  // The server finds its launchers beside itself; the commands' user must be able to
  // run the landlock one.
  for (const char* name : {"sandboxd", "sandboxd-helper", "sandboxd-landlock-exec", "sandboxd-launch",
                           "sandboxd-proxy"}) {
    std::string copy = absl::StrCat(dir_, "/bin/", name);
    if (absl::Status s = CopyExecutable(Runfile(absl::StrCat("server/", name)), copy); !s.ok()) {
      return s;
    }
  }
  std::string server = dir_ + "/bin/sandboxd";
  if (options.as_nobody) {
    args = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"};
  }
  address_ = absl::StrCat("unix:", dir_, "/run/sandboxd.sock");
  if (!options.listen.empty()) address_ = options.listen;
  if (options.without_sys_admin) {
    args = {"/usr/bin/setpriv", "--bounding-set=-sys_admin", "--inh-caps=-sys_admin", "--"};
  }
  args.insert(args.end(), options.wrapper.begin(), options.wrapper.end());
  args.push_back(server);
  args.push_back(absl::StrCat("--listen=", address_));
  args.push_back(absl::StrCat("--state_dir=",
                              options.state_dir.empty() ? dir_ + "/state" : options.state_dir));
  args.insert(args.end(), options.flags.begin(), options.flags.end());

  std::vector<char*> argv, envp;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<std::string> environment = options.env;
  environment.push_back("PATH=/usr/bin:/bin");
  for (std::string& entry : environment) envp.push_back(entry.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (!options.log_path.empty()) {
    posix_spawn_file_actions_addopen(&actions, 2, options.log_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
  }
  int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    return absl::InternalError(absl::StrCat("cannot start ", args[0], ": ", std::strerror(rc)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> SandboxdProcess::MakeWorkspace() const {
  absl::StatusOr<std::string> dir = MakeTempDir(dir_ + "/workspace");
  if (!dir.ok()) return dir;
  if (chmod(dir->c_str(), 0755) != 0 || chown(dir->c_str(), command_uid_, command_gid_) != 0) {
    return absl::InternalError(absl::StrCat("cannot hand ", *dir, " to the command user"));
  }
  return dir;
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
  // Stopped as an operator would, so that it removes its cgroups; killed if it hangs.
  // Our own connection goes first: the server would wait a moment for it to close.
  channel_.reset();
  if (pid_ > 0 && !Stop(SIGTERM, absl::Seconds(10)).ok()) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  std::error_code ignored;
  if (dir_.empty()) return;
  // A server that was killed leaves its sessions' tmpfs mounted (the next server with
  // the same state directory would unmount them; there is none).
  for (const auto& entry :
       std::filesystem::directory_iterator(dir_ + "/state/sessions", ignored)) {
    umount2(entry.path().c_str(), MNT_DETACH | UMOUNT_NOFOLLOW);
  }
  std::filesystem::remove_all(dir_, ignored);
}

}  // namespace sandboxd::testing

#include "sandbox/inside/test_support.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <map>
#include <sstream>

extern char** environ;

namespace sandboxd {

using Clock = std::chrono::steady_clock;

std::string HelperPath() {
  const char* root = std::getenv("TEST_SRCDIR");
  return std::string(root != nullptr ? root : ".") + "/sandboxd/sandbox/inside/sandboxd-helper";
}

TempDir::TempDir() {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/helper.XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp " << tmpl << ": " << std::strerror(errno);
    return;
  }
  char real[PATH_MAX];
  path_ = realpath(tmpl.c_str(), real) != nullptr ? real : tmpl;
}

TempDir::~TempDir() {
  if (!path_.empty()) std::system(("rm -rf '" + path_ + "'").c_str());
}

std::string MakeFrame(FrameType type, const std::string& payload) {
  return FrameHeader(type, static_cast<uint32_t>(payload.size())) + payload;
}

HelperProcess::HelperProcess(const std::vector<std::string>& args,
                             const std::vector<std::string>* env,
                             const std::vector<std::string>& helper) {
  // A helper that exits before it has read its input makes the test's writes EPIPE.
  signal(SIGPIPE, SIG_IGN);
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << std::strerror(errno);
    return;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setpgroup(&attr, 0);
  // The test runner may block or ignore signals; the helper starts as a server's would.
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<std::string> argv_strings = helper;
  if (helper.empty()) argv_strings.push_back(HelperPath());
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv, envp;
  for (std::string& arg : argv_strings) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings = env != nullptr ? *env : std::vector<std::string>{};
  for (std::string& entry : env_strings) envp.push_back(entry.data());
  envp.push_back(nullptr);
  int spawned = posix_spawn(&pid_, argv[0], &actions, &attr, argv.data(),
                            env != nullptr ? envp.data() : environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(in[0]);
  close(out[1]);
  close(err[1]);
  stdin_ = in[1];
  stdout_ = out[0];
  stderr_ = err[0];
  for (int fd : {stdin_, stdout_, stderr_}) fcntl(fd, F_SETFL, O_NONBLOCK);
  if (spawned != 0) {
    ADD_FAILURE() << "posix_spawn " << argv[0] << ": " << std::strerror(spawned);
    pid_ = -1;
  }
}

HelperProcess::~HelperProcess() {
  if (pid_ > 0 && !exited_) {
    kill(pid_, SIGKILL);
    Reap(true);
  }
  for (int fd : {stdin_, stdout_, stderr_}) {
    if (fd >= 0) close(fd);
  }
}

void HelperProcess::Reap(bool block) {
  if (pid_ <= 0 || exited_) return;
  int status = 0;
  if (waitpid(pid_, &status, block ? 0 : WNOHANG) == pid_) {
    exited_ = true;
    status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
}

bool HelperProcess::Pump(milliseconds wait, const std::function<bool()>& done) {
  Clock::time_point deadline = Clock::now() + wait;
  char buffer[65536];
  for (;;) {
    if (done()) return true;
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (left.count() < 0) return false;
    pollfd fds[3] = {
        {pending_.empty() ? -1 : stdin_, POLLOUT, 0},
        {stdout_, POLLIN, 0},
        {stderr_, POLLIN, 0},
    };
    // Short timeouts: the helper's exit is noticed by waitpid, not by poll.
    poll(fds, 3, static_cast<int>(std::min<long>(left.count(), 20)));
    if (fds[0].revents != 0) {
      ssize_t n = write(stdin_, pending_.data(), pending_.size());
      if (n > 0) pending_.erase(0, static_cast<size_t>(n));
      if (n < 0 && errno != EAGAIN && errno != EINTR) pending_.clear();  // EPIPE: gone.
    }
    for (int i : {1, 2}) {
      if (fds[i].revents == 0) continue;
      ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        (i == 1 ? out_ : err_).append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || errno != EAGAIN) {
        close(fds[i].fd);
        (i == 1 ? stdout_ : stderr_) = -1;
      }
    }
    Reap(false);
  }
}

bool HelperProcess::Send(const std::string& bytes, milliseconds wait) {
  pending_ += bytes;
  return Pump(wait, [this] { return pending_.empty(); });
}

size_t HelperProcess::Offer(const std::string& bytes, milliseconds wait) {
  pending_ = bytes;
  Pump(wait, [this] { return pending_.empty(); });
  size_t taken = bytes.size() - pending_.size();
  pending_.clear();
  return taken;
}

void HelperProcess::CloseStdin() {
  Send("");
  if (stdin_ >= 0) close(stdin_);
  stdin_ = -1;
}

void HelperProcess::CloseStdout() {
  if (stdout_ >= 0) close(stdout_);
  stdout_ = -1;
}

bool HelperProcess::Expect(const std::string& text, milliseconds wait) {
  size_t found = std::string::npos;
  bool came = Pump(wait, [&] {
    found = out_.find(text, expected_);
    return found != std::string::npos;
  });
  if (came) expected_ = found + text.size();
  return came;
}

int HelperProcess::Wait(milliseconds wait) {
  bool ended = Pump(wait, [this] { return exited_ && stdout_ < 0 && stderr_ < 0; });
  if (!ended) {
    kill(pid_, SIGKILL);
    Reap(true);
    return -1;
  }
  return status_;
}

HelperRun RunHelper(const std::vector<std::string>& args, const std::string& input,
                    const std::vector<std::string>& command) {
  HelperProcess helper(args, nullptr, command);
  helper.Send(input);
  helper.CloseStdin();
  HelperRun run;
  run.exit = helper.Wait();
  run.out = helper.out();
  run.err = helper.err();
  return run;
}

std::vector<std::string> Sandbox(const std::string& writable, bool proc) {
  std::vector<std::string> args = {"/usr/bin/bwrap", "--new-session", "--die-with-parent",
                                   "--unshare-user", "--unshare-pid", "--uid",
                                   "65534",          "--gid",         "65534",
                                   "--ro-bind",      "/usr",          "/usr",
                                   "--symlink",      "usr/bin",       "/bin",
                                   "--symlink",      "usr/lib",       "/lib",
                                   "--symlink",      "usr/lib64",     "/lib64",
                                   "--dev",          "/dev"};
  if (proc) {
    args.insert(args.end(), {"--proc", "/proc"});
  } else {
    args.insert(args.end(), {"--tmpfs", "/proc"});
  }
  args.insert(args.end(), {"--bind", writable, writable, "--ro-bind", HelperPath(),
                           kHelperPathInSandbox, "--", kHelperPathInSandbox});
  return args;
}

std::vector<std::string> AsNobody(const std::string& path) {
  return {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--", path};
}

std::string WhyNoSandbox() {
  if (access("/usr/bin/bwrap", X_OK) != 0) return "no /usr/bin/bwrap";
  TempDir dir;
  HelperRun run = RunHelper({"stat", "/"}, "", Sandbox(dir.path()));
  return run.exit == 0 ? "" : "bwrap cannot make a sandbox here: " + run.err;
}

namespace {

// /proc/PID/stat, or "" once the process is gone (a read then fails with ESRCH, which
// std::ifstream would throw for).
std::string ReadStat(pid_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/stat";
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  char buffer[4096];
  ssize_t n = read(fd, buffer, sizeof buffer);
  close(fd);
  return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : "";
}

// Each process's parent, from /proc/PID/stat (after the command name in parentheses,
// which may hold anything: the state, then the parent).
std::map<pid_t, std::pair<pid_t, std::string>> Processes() {
  std::map<pid_t, std::pair<pid_t, std::string>> processes;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return processes;
  while (const dirent* entry = readdir(proc)) {
    pid_t pid = static_cast<pid_t>(std::atoi(entry->d_name));
    if (pid <= 0) continue;
    std::string stat = ReadStat(pid);
    size_t name = stat.find('('), end = stat.rfind(')');
    if (name == std::string::npos || end == std::string::npos) continue;
    std::istringstream rest(stat.substr(end + 1));
    char state;
    pid_t parent;
    if (rest >> state >> parent) {
      processes[pid] = {parent, stat.substr(name + 1, end - name - 1)};
    }
  }
  closedir(proc);
  return processes;
}

}  // namespace

bool Alive(pid_t pid) {
  std::string stat = ReadStat(pid);
  size_t close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z' &&
         stat[close + 2] != 'X';
}

pid_t FindDescendant(pid_t root, const std::string& comm, milliseconds wait) {
  pid_t found = -1;
  Within(absl::Milliseconds(wait.count()), [&] {
    auto processes = Processes();
    for (const auto& [pid, parent_and_comm] : processes) {
      if (parent_and_comm.second != comm) continue;
      for (pid_t up = parent_and_comm.first; up > 1; up = processes[up].first) {
        if (up == root) {
          found = pid;
          return true;
        }
      }
    }
    return false;
  });
  return found;
}


}  // namespace sandboxd

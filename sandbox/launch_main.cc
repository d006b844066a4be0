// sandboxd-launch: puts itself into the command's cgroups and under its rlimits, then
// execs the sandbox (bwrap, the landlock launcher, or the command itself):
//
//   sandboxd-launch [--join CGROUP_PROCS_FILE]... [--cpu SOFT:HARD] [--as BYTES]
//                   [--fsize BYTES] [--nofile N] [--chdir DIR] [--env NAME=VALUE]...
//                   -- PROGRAM [ARGS...]
//   sandboxd-launch [--join CGROUP_PROCS_FILE]... --orders FD
//
// Joining before the exec means every process of the command starts inside the cgroup:
// nothing can fork before the server moves it. PROGRAM is an absolute path; without
// --env it inherits the environment. On failure it prints "sandboxd-launch: ..." and
// exits 126.
//
// The second form is a launcher started ahead of demand that stays: once joined it
// writes "R" on FD, then serves orders from FD until EOF, starting one command per
// order inside its cgroups (the protocol is in prestarted_launcher.h). It reports its
// own failures on FD.

#include <fcntl.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace {

// Where failures are reported: stderr, or the server in the second form.
int report_fd = 2;

[[noreturn]] void Die(const std::string& what) {
  std::string message = "sandboxd-launch: " + what + ": " + std::strerror(errno) + "\n";
  ssize_t ignored = write(report_fd, message.data(), message.size());
  (void)ignored;
  _exit(126);
}

void Join(const std::string& procs_file) {
  std::ofstream out(procs_file);
  out << "0";  // This process.
  out.flush();
  if (!out) Die("joining " + procs_file);
}

void Limit(int resource, const std::string& value, const char* name) {
  rlimit limit{};
  size_t colon = value.find(':');
  limit.rlim_cur = std::strtoull(value.substr(0, colon).c_str(), nullptr, 10);
  limit.rlim_max = colon == std::string::npos ? limit.rlim_cur
                                              : std::strtoull(value.substr(colon + 1).c_str(), nullptr, 10);
  if (setrlimit(resource, &limit) != 0) Die(std::string("setrlimit ") + name);
}

// The rlimit options.
struct RlimitOption {
  const char* flag;
  int resource;
  const char* name;
};
constexpr RlimitOption kRlimitOptions[] = {
    {"--cpu", RLIMIT_CPU, "RLIMIT_CPU"},
    {"--as", RLIMIT_AS, "RLIMIT_AS"},
    {"--fsize", RLIMIT_FSIZE, "RLIMIT_FSIZE"},
    {"--nofile", RLIMIT_NOFILE, "RLIMIT_NOFILE"},
};

const RlimitOption* FindRlimitOption(const std::string& flag) {
  for (const RlimitOption& option : kRlimitOptions) {
    if (flag == option.flag) return &option;
  }
  return nullptr;
}

struct Command {
  std::vector<std::string> joins;
  // Each with its value, as in "10:11" for --cpu.
  std::vector<std::pair<const RlimitOption*, std::string>> limits;
  std::string chdir;
  bool set_env = false;
  std::vector<std::string> env;
  int orders_fd = -1;
  // PROGRAM and ARGS.
  std::vector<std::string> argv;
};

// Adds the options in `args` to `command`.
void Parse(const std::vector<std::string>& args, Command& command) {
  size_t i = 0;
  for (; i + 1 < args.size() && args[i] != "--"; i += 2) {
    const std::string &flag = args[i], &value = args[i + 1];
    if (flag == "--join") {
      command.joins.push_back(value);
    } else if (const RlimitOption* option = FindRlimitOption(flag)) {
      command.limits.emplace_back(option, value);
    } else if (flag == "--chdir") {
      command.chdir = value;
    } else if (flag == "--env") {
      command.set_env = true;
      command.env.push_back(value);
    } else if (flag == "--orders" && command.orders_fd < 0) {
      command.orders_fd = std::atoi(value.c_str());
    } else {
      errno = EINVAL;
      Die("unknown option " + flag);
    }
  }
  if (i < args.size() && args[i] == "--") command.argv.assign(args.begin() + i + 1, args.end());
}

void JoinAll(Command& command) {
  for (const std::string& procs_file : command.joins) Join(procs_file);
  command.joins.clear();
}

void LimitAll(const Command& command) {
  for (const auto& [option, value] : command.limits) Limit(option->resource, value, option->name);
}

// Reads exactly `size` bytes from `control` into `data`, adding the fds attached to
// `fds`. False at EOF before the first byte; EOF within is a failure.
bool ReceiveExactly(int control, char* data, size_t size, std::vector<int>& fds) {
  for (size_t got = 0; got < size;) {
    iovec iov{data + got, size - got};
    alignas(cmsghdr) char space[CMSG_SPACE(4 * sizeof(int))];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = space;
    msg.msg_controllen = sizeof space;
    ssize_t n = recvmsg(control, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) Die("reading orders");
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      const int* received = reinterpret_cast<const int*>(CMSG_DATA(c));
      fds.insert(fds.end(), received, received + count);
    }
    if (n == 0 && got == 0) return false;
    if (n == 0) {
      errno = EPIPE;
      Die("reading orders");
    }
    got += static_cast<size_t>(n);
  }
  return true;
}

// Reads one order: its text, and the fds attached. False at EOF.
bool ReceiveOrder(int control, std::string& text, std::vector<int>& fds) {
  uint32_t size = 0;
  if (!ReceiveExactly(control, reinterpret_cast<char*>(&size), sizeof size, fds)) return false;
  text.resize(size);
  if (size > 0 && !ReceiveExactly(control, text.data(), size, fds)) {
    errno = EPIPE;
    Die("reading orders");
  }
  return true;
}

// Makes `fds` this process's 0, 1, 2 (and 3). They arrive at 3 or above, since 0-2
// are taken, so every dup2 source is read before fd 3 is written.
void InstallStdio(const std::vector<int>& fds) {
  if (fds.size() != 3 && fds.size() != 4) {
    errno = EINVAL;
    Die("orders must carry 3 or 4 fds");
  }
  for (size_t target = 0; target < fds.size(); ++target) {
    int fd = fds[target], to = static_cast<int>(target);
    int rc = fd == to ? fcntl(fd, F_SETFD, 0) : dup2(fd, to);
    if (rc < 0) Die("installing the command's fds");
  }
  for (int fd : fds) {
    if (fd >= static_cast<int>(fds.size())) close(fd);
  }
}

// Sets up the process an order started: `fds` as its stdio, and the options in `text`.
void BecomeCommand(const std::string& text, const std::vector<int>& fds, Command& command) {
  InstallStdio(fds);
  std::vector<std::string> args;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\0', start);
    if (end == std::string::npos) end = text.size();
    args.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  Parse(args, command);  // orders_fd is set: a second --orders is refused.
}

// The second form: joins, says so, then serves orders from `orders_fd` (moved out of
// the way of fd 3, which a command may get) until EOF. Returns only in a command's
// process, set up to exec.
void Serve(int orders_fd, Command& command) {
  int control = fcntl(orders_fd, F_DUPFD_CLOEXEC, 10);
  if (control < 0) Die("moving the orders fd");
  close(orders_fd);
  report_fd = control;
  JoinAll(command);
  if (write(control, "R", 1) != 1) Die("reporting ready");
  for (;;) {
    std::string text;
    std::vector<int> fds;
    if (!ReceiveOrder(control, text, fds)) _exit(0);  // Let go.
    // A plain fork would make the command our child; with CLONE_PARENT it is the
    // server's, which reaps it as it would a command it spawned. Either way it starts
    // in our cgroups without being moved.
    long pid = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0) {
      // From here on, failures go to the command's stderr, as in the first form: the
      // server does not wait to hear whether the exec worked.
      close(control);
      report_fd = 2;
      BecomeCommand(text, fds, command);
      return;
    }
    int32_t reply = pid > 0 ? static_cast<int32_t>(pid) : -errno;
    for (int fd : fds) close(fd);
    if (write(control, &reply, sizeof reply) != sizeof reply) _exit(0);
  }
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  Command command;
  Parse(std::vector<std::string>(argv + 1, argv + argc), command);
  if (command.orders_fd >= 0) Serve(command.orders_fd, command);
  JoinAll(command);
  LimitAll(command);
  if (command.argv.empty()) {
    errno = EINVAL;
    Die("usage: [--join F]... [--cpu S:H] [--as N] [--fsize N] [--nofile N] [--chdir D] "
        "[--env N=V]... -- PROGRAM ARGS, or [--join F]... --orders FD");
  }
  if (!command.chdir.empty() && chdir(command.chdir.c_str()) != 0) Die("chdir " + command.chdir);
  std::vector<char*> args = CStrings(command.argv);
  if (command.set_env) {
    std::vector<char*> env = CStrings(command.env);
    execve(args[0], args.data(), env.data());
  } else {
    execv(args[0], args.data());
  }
  Die("exec " + command.argv[0]);
}

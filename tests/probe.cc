// probe: tries one thing a sandbox may forbid, and says whether it worked.
//
// Prints "succeeded" (plus what it saw) and exits 0 when the thing worked, or prints
// "failed: <reason>" and exits 1. Usage errors exit 2. Tests run it inside the sandbox
// and check the verdict; "succeeded" for a forbidden thing is an escape.

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

using Args = std::vector<std::string>;

int Verdict(bool ok, const std::string& what) {
  if (ok) {
    std::printf("succeeded\n");
    return 0;
  }
  std::printf("failed: %s: %s\n", what.c_str(), std::strerror(errno));
  return 1;
}

int TcpConnect(const Args& a) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return Verdict(false, "socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::atoi(a[1].c_str())));
  inet_pton(AF_INET, a[0].c_str(), &addr.sin_addr);
  return Verdict(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0, "connect");
}

int UnixConnect(const Args& a) {
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) return Verdict(false, "socket");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  a[0].copy(addr.sun_path, sizeof addr.sun_path - 1);
  return Verdict(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0, "connect");
}

int Socket(const Args& a) {
  int family = a[0] == "unix" ? AF_UNIX : a[0] == "inet6" ? AF_INET6 : AF_INET;
  return Verdict(socket(family, SOCK_STREAM, 0) >= 0, "socket");
}

// A socketpair used the way build tools use one: send() is sendto() without address.
int Socketpair(const Args&) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) return Verdict(false, "socketpair");
  char buf[4] = {};
  if (send(fds[0], "ping", 4, 0) != 4) return Verdict(false, "send");
  return Verdict(recv(fds[1], buf, 4, 0) == 4, "recv");
}

// socket(AF_INET) through the i386 system-call ABI, which a filter written only for
// x86_64 numbers would not see.
int Int80Socket(const Args&) {
#if defined(__x86_64__)
  long ret;
  long nr = 359;  // socket on i386.
  asm volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(AF_INET), "c"(SOCK_STREAM), "d"(0)
               : "memory");
  if (ret >= 0) return Verdict(true, "");
  errno = static_cast<int>(-ret);
  return Verdict(false, "int 0x80 socket");
#else
  errno = ENOSYS;
  return Verdict(false, "int 0x80 is x86 only");
#endif
}

int Ptrace(const Args&) { return Verdict(ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) == 0, "ptrace"); }

int IoUring(const Args&) {
  io_uring_params params{};
  long fd = syscall(__NR_io_uring_setup, 4, &params);
  return Verdict(fd >= 0, "io_uring_setup");
}

int Mount(const Args& a) {
  return Verdict(mount("tmpfs", a[0].c_str(), "tmpfs", 0, nullptr) == 0, "mount");
}

int RemountRw(const Args& a) {
  return Verdict(mount(nullptr, a[0].c_str(), nullptr, MS_REMOUNT | MS_BIND, nullptr) == 0,
                 "remount");
}

int Umount(const Args& a) { return Verdict(umount2(a[0].c_str(), MNT_DETACH) == 0, "umount"); }

int Unshare(const Args& a) {
  int flags = a[0] == "user" ? CLONE_NEWUSER : a[0] == "net" ? CLONE_NEWNET : CLONE_NEWNS;
  return Verdict(unshare(flags) == 0, "unshare");
}

// Opening for writing is the proof; nothing is written, so the host is never changed.
int OpenWrite(const Args& a) {
  int fd = open(a[0].c_str(), O_WRONLY);
  if (fd >= 0) close(fd);
  return Verdict(fd >= 0, "open " + a[0]);
}

int Write(const Args& a) {
  int fd = open(a[0].c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return Verdict(false, "open");
  return Verdict(write(fd, "probe\n", 6) == 6, "write");
}

int Read(const Args& a) {
  std::ifstream in(a[0]);
  if (!in) return Verdict(false, "open " + a[0]);
  std::stringstream content;
  content << in.rdbuf();
  std::printf("succeeded\n%s", content.str().c_str());
  return 0;
}

int List(const Args& a) {
  DIR* dir = opendir(a[0].c_str());
  if (dir == nullptr) return Verdict(false, "opendir " + a[0]);
  std::string names;
  while (dirent* entry = readdir(dir)) {
    if (std::strcmp(entry->d_name, ".") != 0 && std::strcmp(entry->d_name, "..") != 0) {
      names += std::string(entry->d_name) + " ";
    }
  }
  closedir(dir);
  std::printf("succeeded\n%s\n", names.c_str());
  return 0;
}

// Sends a datagram, with this process's stdin attached as a descriptor, from `fd` to
// the Unix socket at `path`: the destination rides in msghdr, where a seccomp filter
// cannot look.
int SendDatagramFrom(int fd, const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, sizeof addr.sun_path - 1);
  char data[] = "datagram";
  iovec iov{data, sizeof data - 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_name = &addr;
  msg.msg_namelen = sizeof addr;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  int passed = 0;
  std::memcpy(CMSG_DATA(cmsg), &passed, sizeof passed);
  return Verdict(sendmsg(fd, &msg, 0) > 0, "sendmsg");
}

int UnixDatagramSend(const Args& a) {
  int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
  if (fd < 0) return Verdict(false, "socket");
  return SendDatagramFrom(fd, a[0]);
}

// A socketpair's datagram socket can still send elsewhere when given an address.
int SocketpairDatagramSend(const Args& a) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_DGRAM, 0, fds) != 0) return Verdict(false, "socketpair");
  return SendDatagramFrom(fds[0], a[0]);
}

// The attacker of a set-up race: swaps the directory A and the symlink B for SECONDS,
// as fast as it can (renameat2 RENAME_EXCHANGE, one system call each way).
int SwapLoop(const Args& a) {
  time_t end = time(nullptr) + std::atoi(a[2].c_str());
  long swaps = 0;
  while (time(nullptr) < end) {
    if (syscall(SYS_renameat2, AT_FDCWD, a[0].c_str(), AT_FDCWD, a[1].c_str(), 2) != 0) {
      return Verdict(false, "renameat2");
    }
    ++swaps;
  }
  if (swaps % 2 == 1) syscall(SYS_renameat2, AT_FDCWD, a[0].c_str(), AT_FDCWD, a[1].c_str(), 2);
  std::printf("succeeded\n%ld swaps\n", swaps);
  return 0;
}

// For MILLISECONDS, tries to plant .git/hooks/post-checkout in the cwd, which git would
// run outside any sandbox; succeeds as soon as it could.
int PlantHook(const Args& a) {
  timespec start{}, now{};
  clock_gettime(CLOCK_MONOTONIC, &start);
  long limit_ms = std::atol(a[0].c_str());
  do {
    mkdir(".git", 0755);
    mkdir(".git/hooks", 0755);
    int fd = open(".git/hooks/post-checkout", O_WRONLY | O_CREAT | O_TRUNC, 0755);
    if (fd >= 0) {
      close(fd);
      return Verdict(true, "");
    }
    usleep(1000);
    clock_gettime(CLOCK_MONOTONIC, &now);
  } while ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 < limit_ms);
  return Verdict(false, "open .git/hooks/post-checkout");
}

int Symlink(const Args& a) {
  return Verdict(symlink(a[0].c_str(), a[1].c_str()) == 0, "symlink");
}

int Rename(const Args& a) { return Verdict(rename(a[0].c_str(), a[1].c_str()) == 0, "rename"); }

int Mkdir(const Args& a) { return Verdict(mkdir(a[0].c_str(), 0755) == 0, "mkdir"); }

// Pushes a character into the controlling terminal's input queue, which would run in
// the caller's shell once the sandbox exits.
int Tiocsti(const Args&) {
  int fd = open("/dev/tty", O_RDWR);
  if (fd < 0) return Verdict(false, "open /dev/tty");
  char c = '#';
  return Verdict(ioctl(fd, TIOCSTI, &c) == 0, "TIOCSTI");
}

int Kill(const Args& a) {
  return Verdict(kill(static_cast<pid_t>(std::atoi(a[0].c_str())), 0) == 0, "kill");
}

// Succeeds (the forbidden thing) when the process holds any capability: permitted,
// effective, inheritable or ambient. The bounding set is not held; it only caps what
// an exec could grant, and no_new_privs already stops that.
int Caps(const Args&) {
  std::ifstream status("/proc/self/status");
  std::string line, held;
  while (std::getline(status, line)) {
    if (line.rfind("Cap", 0) != 0 || line.rfind("CapBnd", 0) == 0) continue;
    if (line.find_first_not_of("0", line.find('\t') + 1) != std::string::npos) held += line + " ";
  }
  if (!held.empty()) {
    std::printf("succeeded\n%s\n", held.c_str());
    return 0;
  }
  errno = EPERM;
  return Verdict(false, "no capabilities");
}

// Succeeds when a set-uid program could still gain privileges.
int NewPrivs(const Args&) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("NoNewPrivs:", 0) == 0 && line.find('1') != std::string::npos) {
      errno = EPERM;
      return Verdict(false, "no_new_privs is set");
    }
  }
  return Verdict(true, "");
}

// Lists the descriptors this process holds besides the one reading the list.
int Fds(const Args&) {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return Verdict(false, "opendir");
  std::string list;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.' || std::atoi(entry->d_name) == dirfd(dir)) continue;
    list += std::string(entry->d_name) + " ";
  }
  closedir(dir);
  std::printf("succeeded\n%s\n", list.c_str());
  return 0;
}

int Env(const Args& a) {
  const char* value = std::getenv(a[0].c_str());
  if (value == nullptr) {
    errno = ENOENT;
    return Verdict(false, a[0]);
  }
  std::printf("succeeded\n%s\n", value);
  return 0;
}

struct Command {
  size_t args;
  std::function<int(const Args&)> run;
  const char* usage;
};

const std::map<std::string, Command>& Commands() {
  static const auto* commands = new std::map<std::string, Command>{
      {"tcp-connect", {2, TcpConnect, "HOST PORT"}},
      {"unix-connect", {1, UnixConnect, "PATH"}},
      {"socket", {1, Socket, "unix|inet|inet6"}},
      {"socketpair", {0, Socketpair, ""}},
      {"int80-socket", {0, Int80Socket, ""}},
      {"ptrace", {0, Ptrace, ""}},
      {"io-uring", {0, IoUring, ""}},
      {"mount", {1, Mount, "DIR"}},
      {"remount-rw", {1, RemountRw, "DIR"}},
      {"umount", {1, Umount, "DIR"}},
      {"unshare", {1, Unshare, "user|mount|net"}},
      {"open-write", {1, OpenWrite, "FILE"}},
      {"write", {1, Write, "FILE"}},
      {"read", {1, Read, "FILE"}},
      {"symlink", {2, Symlink, "TARGET LINK"}},
      {"list", {1, List, "DIR"}},
      {"unix-dgram-send", {1, UnixDatagramSend, "PATH"}},
      {"socketpair-dgram-send", {1, SocketpairDatagramSend, "PATH"}},
      {"swap-loop", {3, SwapLoop, "DIR SYMLINK SECONDS"}},
      {"plant-hook", {1, PlantHook, "MILLISECONDS"}},
      {"rename", {2, Rename, "FROM TO"}},
      {"mkdir", {1, Mkdir, "DIR"}},
      {"tiocsti", {0, Tiocsti, ""}},
      {"kill", {1, Kill, "PID"}},
      {"caps", {0, Caps, ""}},
      {"new-privs", {0, NewPrivs, ""}},
      {"fds", {0, Fds, ""}},
      {"env", {1, Env, "NAME"}},
  };
  return *commands;
}

}  // namespace

int main(int argc, char** argv) {
  Args args(argv + 1, argv + argc);
  auto it = args.empty() ? Commands().end() : Commands().find(args[0]);
  if (it == Commands().end() || args.size() != it->second.args + 1) {
    for (const auto& [name, command] : Commands()) {
      std::fprintf(stderr, "usage: probe %s %s\n", name.c_str(), command.usage);
    }
    return 2;
  }
  return it->second.run(Args(args.begin() + 1, args.end()));
}

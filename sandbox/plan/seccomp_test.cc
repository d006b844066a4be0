#include "sandbox/plan/seccomp.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <functional>

#include <gtest/gtest.h>

// Each filter is loaded for real, in a forked child of this single-threaded test, which
// tries one call and reports through its exit code: 0 allowed, 1 refused with EPERM,
// 2 anything else.

namespace sandboxd {
namespace {

int TryUnder(SeccompMode mode, const std::function<int()>& call) {
  absl::StatusOr<std::string> bpf = CompileSeccompFilter(mode);
  EXPECT_TRUE(bpf.ok()) << bpf.status();
  pid_t pid = fork();
  if (pid == 0) {
    sock_fprog prog{static_cast<unsigned short>(bpf->size() / sizeof(sock_filter)),
                    reinterpret_cast<sock_filter*>(bpf->data())};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
      _exit(3);
    }
    int rc = call();
    _exit(rc >= 0 ? 0 : errno == EPERM ? 1 : 2);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int Socket(int family) { return socket(family, SOCK_STREAM, 0); }
int Socketpair() {
  int fds[2];
  return socketpair(AF_UNIX, SOCK_STREAM, 0, fds);
}
int SendOnSocketpair() {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) return -1;
  return static_cast<int>(send(fds[0], "x", 1, 0));
}
// Unix sockets of `type`, with the flags programs pass along.
int UnixSocket(int type) { return socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0); }
int UnixSocketpair(int type) {
  int fds[2];
  return socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, fds);
}
int Ptrace() { return static_cast<int>(ptrace(PTRACE_TRACEME, 0, nullptr, nullptr)); }

constexpr int kAllowed = 0, kRefused = 1;

TEST(SeccompTest, NoneHasNoFilter) {
  EXPECT_FALSE(CompileSeccompFilter(SeccompMode::SECCOMP_NONE).ok());
}

TEST(SeccompTest, BaselineRefusesPtraceOnly) {
  EXPECT_EQ(TryUnder(SeccompMode::SECCOMP_BASELINE, Ptrace), kRefused);
  EXPECT_EQ(TryUnder(SeccompMode::SECCOMP_BASELINE, [] { return Socket(AF_INET); }), kAllowed);
  EXPECT_EQ(TryUnder(SeccompMode::SECCOMP_BASELINE, [] { return Socket(AF_UNIX); }), kAllowed);
}

TEST(SeccompTest, RestrictedAllowsOnlyUnixSockets) {
  EXPECT_EQ(TryUnder(SeccompMode::SECCOMP_RESTRICTED, Ptrace), kRefused);
  EXPECT_EQ(TryUnder(SeccompMode::SECCOMP_RESTRICTED, [] { return Socket(AF_INET); }), kRefused);
  EXPECT_EQ(TryUnder(SeccompMode::SECCOMP_RESTRICTED, [] { return Socket(AF_INET6); }), kRefused);
  EXPECT_EQ(TryUnder(SeccompMode::SECCOMP_RESTRICTED, [] { return Socket(AF_NETLINK); }), kRefused);
  EXPECT_EQ(TryUnder(SeccompMode::SECCOMP_RESTRICTED, [] { return Socket(AF_UNIX); }), kAllowed);
  EXPECT_EQ(TryUnder(SeccompMode::SECCOMP_RESTRICTED, Socketpair), kAllowed);
  EXPECT_EQ(TryUnder(SeccompMode::SECCOMP_RESTRICTED, SendOnSocketpair), kAllowed);
}

// A datagram socket carries its destination in sendmsg's msghdr, which a filter cannot
// read: it is refused outright, socketpairs too (a datagram socket of a pair can still
// send elsewhere). Stream and seqpacket sockets stay, for programs' own children.
TEST(SeccompTest, RestrictedRefusesUnixDatagramSockets) {
  for (int type : {SOCK_DGRAM, SOCK_RAW}) {
    EXPECT_EQ(TryUnder(SeccompMode::SECCOMP_RESTRICTED, [type] { return UnixSocket(type); }), kRefused);
    EXPECT_EQ(TryUnder(SeccompMode::SECCOMP_RESTRICTED, [type] { return UnixSocketpair(type); }),
              kRefused);
    EXPECT_EQ(TryUnder(SeccompMode::SECCOMP_BASELINE, [type] { return UnixSocket(type); }), kAllowed);
  }
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET}) {
    EXPECT_EQ(TryUnder(SeccompMode::SECCOMP_RESTRICTED, [type] { return UnixSocket(type); }), kAllowed);
    EXPECT_EQ(TryUnder(SeccompMode::SECCOMP_RESTRICTED, [type] { return UnixSocketpair(type); }),
              kAllowed);
  }
}

TEST(SeccompTest, ProxyRoutedAllowsOnlyInetSockets) {
  EXPECT_EQ(TryUnder(SeccompMode::SECCOMP_PROXY_ROUTED, Ptrace), kRefused);
  EXPECT_EQ(TryUnder(SeccompMode::SECCOMP_PROXY_ROUTED, [] { return Socket(AF_INET); }), kAllowed);
  EXPECT_EQ(TryUnder(SeccompMode::SECCOMP_PROXY_ROUTED, [] { return Socket(AF_INET6); }), kAllowed);
  EXPECT_EQ(TryUnder(SeccompMode::SECCOMP_PROXY_ROUTED, [] { return Socket(AF_UNIX); }), kRefused);
  EXPECT_EQ(TryUnder(SeccompMode::SECCOMP_PROXY_ROUTED, [] { return Socket(AF_NETLINK); }), kRefused);
  EXPECT_EQ(TryUnder(SeccompMode::SECCOMP_PROXY_ROUTED, [] { return Socket(AF_PACKET); }), kRefused);
  EXPECT_EQ(TryUnder(SeccompMode::SECCOMP_PROXY_ROUTED, [] { return Socket(AF_MAX + 3); }), kRefused);
  EXPECT_EQ(TryUnder(SeccompMode::SECCOMP_PROXY_ROUTED, Socketpair), kRefused);
}

TEST(SeccompTest, EveryModeRefusesNewUserNamespaces) {
  for (SeccompMode mode :
       {SeccompMode::SECCOMP_BASELINE, SeccompMode::SECCOMP_RESTRICTED, SeccompMode::SECCOMP_PROXY_ROUTED}) {
    EXPECT_EQ(TryUnder(mode, [] { return unshare(CLONE_NEWUSER); }), kRefused);
  }
}

}  // namespace
}  // namespace sandboxd

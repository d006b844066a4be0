#include "sandbox/plan/seccomp.h"

#include <seccomp.h>
#include <sys/mman.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace sandboxd {
namespace {

using FilterPtr = std::unique_ptr<void, decltype(&seccomp_release)>;

// Denied in every sandboxed mode: ways to inspect or drive other processes, and
// io_uring, whose operations bypass system-call filtering altogether.
constexpr const char* kAlwaysDenied[] = {
    "ptrace",           "io_uring_setup",    "io_uring_enter",
    "io_uring_register", "process_vm_readv", "process_vm_writev",
};

// The type bits of socket()'s second argument, without SOCK_CLOEXEC and SOCK_NONBLOCK
// (the kernel's SOCK_TYPE_MASK).
constexpr scmp_datum_t kSocketTypeMask = 0xf;

// Denied without network. connect is denied for every family: host Unix sockets
// (docker.sock, ssh-agent, D-Bus) are escape routes even with IP networking off.
constexpr const char* kNetworkDenied[] = {
    "connect",     "accept",     "accept4",    "bind",       "listen",
    "getpeername", "getsockname", "shutdown",  "sendmmsg",   "recvmmsg",
    "getsockopt",  "setsockopt",
};

absl::Status RuleError(const char* call, int rc) {
  return absl::InternalError(
      absl::StrCat("seccomp rule for ", call, " failed: ", std::strerror(-rc)));
}

absl::Status DenyAll(scmp_filter_ctx ctx, const char* call) {
  int nr = seccomp_syscall_resolve_name(call);
  if (nr == __NR_SCMP_ERROR) return absl::InternalError(absl::StrCat("unknown syscall ", call));
  int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
  return rc == 0 ? absl::OkStatus() : RuleError(call, rc);
}

absl::Status DenyIf(scmp_filter_ctx ctx, const char* call, scmp_arg_cmp cmp) {
  int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), seccomp_syscall_resolve_name(call),
                            1, cmp);
  return rc == 0 ? absl::OkStatus() : RuleError(call, rc);
}

// No new user namespaces: inside one the command would hold every capability over the
// namespaces it creates next. bwrap's --disable-userns covers this too; the landlock
// backend has only this. clone3 passes its flags in memory, where a filter cannot look,
// so it is refused with ENOSYS, which makes libc fall back to clone.
absl::Status AddUserNamespaceRules(scmp_filter_ctx ctx) {
  for (const char* call : {"unshare", "clone"}) {
    absl::Status s = DenyIf(ctx, call, SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER));
    if (!s.ok()) return s;
  }
  int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
  return rc == 0 ? absl::OkStatus() : RuleError("clone3", rc);
}

absl::Status AddNetworkRules(scmp_filter_ctx ctx) {
  for (const char* call : kNetworkDenied) {
    if (absl::Status s = DenyAll(ctx, call); !s.ok()) return s;
  }
  // socket and socketpair stay open for AF_UNIX stream and seqpacket sockets only:
  // programs (cargo, make's jobserver, language runtimes) talk to their own children
  // over them. A datagram socket is a way out even unconnected: sendmsg carries its
  // destination in memory (msghdr.msg_name), where a filter cannot look, so a datagram
  // (and descriptors with it) would reach any host socket the command can name, such
  // as journald's. SOCK_RAW is a datagram socket in AF_UNIX. A stream socket refuses
  // an address (EOPNOTSUPP) and seqpacket ignores it, so connect was their only way out.
  for (const char* call : {"socket", "socketpair"}) {
    absl::Status s = DenyIf(ctx, call, SCMP_A0(SCMP_CMP_NE, AF_UNIX));
    if (!s.ok()) return s;
    for (scmp_datum_t type : {SOCK_DGRAM, SOCK_RAW}) {
      s = DenyIf(ctx, call, SCMP_A1(SCMP_CMP_MASKED_EQ, kSocketTypeMask, type));
      if (!s.ok()) return s;
    }
  }
  // send() on a connected socketpair is sendto() without an address; only a datagram
  // aimed at an address could reach outside.
  return DenyIf(ctx, "sendto", SCMP_A4(SCMP_CMP_NE, 0));
}

// Only inet sockets, to reach the local bridge to the proxy: no AF_UNIX socket or
// socketpair (nothing may bypass the proxy through a host socket), nor netlink, packet
// or any other family. A rule cannot say "not in {AF_INET, AF_INET6}", so every other
// family is denied by name, and those past AF_MAX by range.
absl::Status AddProxyRules(scmp_filter_ctx ctx) {
  for (int family = 0; family < AF_MAX; ++family) {
    if (family == AF_INET || family == AF_INET6) continue;
    absl::Status s = DenyIf(ctx, "socket", SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(family)));
    if (!s.ok()) return s;
  }
  if (absl::Status s = DenyIf(ctx, "socket", SCMP_A0(SCMP_CMP_GE, AF_MAX)); !s.ok()) return s;
  return DenyAll(ctx, "socketpair");
}

// Exports the filter as BPF through a memfd, since libseccomp 2.5 writes only to fds.
absl::StatusOr<std::string> ExportBpf(scmp_filter_ctx ctx) {
  int fd = memfd_create("seccomp-bpf", MFD_CLOEXEC);
  if (fd < 0) return absl::InternalError(absl::StrCat("memfd_create: ", std::strerror(errno)));
  std::string bpf;
  int rc = seccomp_export_bpf(ctx, fd);
  if (rc == 0 && lseek(fd, 0, SEEK_SET) == 0) {
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) bpf.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  if (rc != 0 || bpf.empty()) {
    return absl::InternalError(absl::StrCat("seccomp_export_bpf failed: ", std::strerror(-rc)));
  }
  return bpf;
}

}  // namespace

absl::StatusOr<std::string> CompileSeccompFilter(SeccompMode mode) {
  if (mode == SeccompMode::SECCOMP_NONE) {
    return absl::InvalidArgumentError("SeccompMode::SECCOMP_NONE has no filter to compile");
  }
  FilterPtr ctx(seccomp_init(SCMP_ACT_ALLOW), &seccomp_release);
  if (ctx == nullptr) return absl::InternalError("seccomp_init failed");
  // Only the native ABI is in the filter; any other (i386, x32) is a bad architecture.
  int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
  if (rc != 0) return RuleError("bad-arch action", rc);
  for (const char* call : kAlwaysDenied) {
    if (absl::Status s = DenyAll(ctx.get(), call); !s.ok()) return s;
  }
  if (absl::Status s = AddUserNamespaceRules(ctx.get()); !s.ok()) return s;
  if (mode == SeccompMode::SECCOMP_RESTRICTED) {
    if (absl::Status s = AddNetworkRules(ctx.get()); !s.ok()) return s;
  }
  if (mode == SeccompMode::SECCOMP_PROXY_ROUTED) {
    if (absl::Status s = AddProxyRules(ctx.get()); !s.ok()) return s;
  }
  return ExportBpf(ctx.get());
}

absl::StatusOr<SeccompFilters> SeccompFilters::Compile() {
  SeccompFilters filters;
  absl::StatusOr<std::string> baseline = CompileSeccompFilter(SeccompMode::SECCOMP_BASELINE);
  if (!baseline.ok()) return baseline.status();
  absl::StatusOr<std::string> restricted = CompileSeccompFilter(SeccompMode::SECCOMP_RESTRICTED);
  if (!restricted.ok()) return restricted.status();
  absl::StatusOr<std::string> proxy = CompileSeccompFilter(SeccompMode::SECCOMP_PROXY_ROUTED);
  if (!proxy.ok()) return proxy.status();
  filters.baseline_ = *std::move(baseline);
  filters.restricted_ = *std::move(restricted);
  filters.proxy_routed_ = *std::move(proxy);
  return filters;
}

const std::string& SeccompFilters::Get(SeccompMode mode) const {
  switch (mode) {
    case SeccompMode::SECCOMP_BASELINE:
      return baseline_;
    case SeccompMode::SECCOMP_RESTRICTED:
      return restricted_;
    case SeccompMode::SECCOMP_PROXY_ROUTED:
      return proxy_routed_;
    default:  // SECCOMP_NONE, and nothing else: Policy makes no other mode.
      return none_;
  }
}

}  // namespace sandboxd

#include "sandbox/net/proxy_confinement.h"

#include <fcntl.h>
#include <linux/landlock.h>
#include <seccomp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/errno_status.h"
#include "base/landlock.h"

namespace sandboxd {
namespace {

constexpr uint64_t kRead = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;

// What the proxy reads after it is confined: libraries (name service modules are
// loaded on first use) and what getaddrinfo reads, followed to their targets.
constexpr const char* kReadable[] = {
    "/usr", "/lib", "/lib64", "/lib32", "/etc/resolv.conf", "/etc/hosts",
    "/etc/nsswitch.conf", "/etc/gai.conf", "/etc/host.conf", "/etc/services",
    "/etc/ld.so.cache"};

absl::Status RestrictFiles() {
  long abi = syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  if (abi < 1) return absl::FailedPreconditionError("this kernel has no Landlock");
  LandlockRulesetAttr attr{};
  attr.handled_access_fs = LandlockHandledFs(abi);
  if (abi >= 6) attr.scoped = kLandlockScopeAbstractUnix | kLandlockScopeSignal;
  int ruleset = static_cast<int>(syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0));
  if (ruleset < 0) return ErrnoError("landlock_create_ruleset");
  std::vector<std::string> readable(std::begin(kReadable), std::end(kReadable));
  // A resolver that replaces resolv.conf by renaming a new one into place (systemd-
  // resolved's stub, NetworkManager) needs its directory, unless that is /etc itself.
  char target[PATH_MAX];
  if (realpath("/etc/resolv.conf", target) != nullptr) {
    std::string dir = std::string(target).substr(0, std::string(target).rfind('/'));
    if (!dir.empty() && dir != "/etc") readable.push_back(dir);
  }
  for (const std::string& path : readable) {
    int fd = open(path.c_str(), O_PATH | O_CLOEXEC);
    if (fd < 0) continue;  // Absent: nothing to allow.
    struct stat st;
    landlock_path_beneath_attr rule{};
    rule.allowed_access = kRead;
    if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode)) rule.allowed_access = LANDLOCK_ACCESS_FS_READ_FILE;
    rule.parent_fd = fd;
    bool added = syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) == 0;
    close(fd);
    if (!added) {
      close(ruleset);
      return ErrnoError("landlock_add_rule");
    }
  }
  bool restricted = syscall(SYS_landlock_restrict_self, ruleset, 0) == 0;
  close(ruleset);
  return restricted ? absl::OkStatus() : ErrnoError("landlock_restrict_self");
}

// Sockets of the families a proxy uses only (inet, and netlink for the host's
// addresses), and none of the calls that reach into other processes, the kernel's
// keyrings, BPF or new namespaces.
absl::Status LoadFilter() {
  std::unique_ptr<void, decltype(&seccomp_release)> ctx(seccomp_init(SCMP_ACT_ALLOW),
                                                        &seccomp_release);
  if (ctx == nullptr) return absl::InternalError("seccomp_init failed");
  const uint32_t refuse = SCMP_ACT_ERRNO(EPERM);
  bool ok = seccomp_rule_add(ctx.get(), refuse, SCMP_SYS(socket), 1,
                             SCMP_A0(SCMP_CMP_GT, AF_NETLINK)) == 0;
  for (int family = 0; family < AF_NETLINK; ++family) {
    if (family == AF_INET || family == AF_INET6) continue;
    ok = ok && seccomp_rule_add(ctx.get(), refuse, SCMP_SYS(socket), 1,
                                SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(family))) == 0;
  }
  for (int call : {SCMP_SYS(socketpair), SCMP_SYS(ptrace), SCMP_SYS(process_vm_readv),
                   SCMP_SYS(process_vm_writev), SCMP_SYS(io_uring_setup), SCMP_SYS(unshare),
                   SCMP_SYS(setns), SCMP_SYS(bpf), SCMP_SYS(userfaultfd), SCMP_SYS(keyctl),
                   SCMP_SYS(add_key), SCMP_SYS(request_key), SCMP_SYS(perf_event_open)}) {
    ok = ok && seccomp_rule_add(ctx.get(), refuse, call, 0) == 0;
  }
  for (int call : {SCMP_SYS(execve), SCMP_SYS(execveat)}) {
    ok = ok && seccomp_rule_add(ctx.get(), SCMP_ACT_KILL_PROCESS, call, 0) == 0;
  }
  if (!ok) return absl::InternalError("seccomp_rule_add failed");
  if (seccomp_load(ctx.get()) != 0) return absl::InternalError("seccomp_load failed");
  return absl::OkStatus();
}

}  // namespace

// The filter goes first, so that it holds even where Landlock cannot.
absl::Status ConfineProxy() {
  if (absl::Status s = LoadFilter(); !s.ok()) return s;
  return RestrictFiles();
}

}  // namespace sandboxd

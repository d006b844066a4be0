// sandboxd-landlock-exec: the landlock backend's launcher. The worker execs it in a
// fresh single-threaded process; it confines itself and then execs the command:
//
//   sandboxd-landlock-exec [--read PATH]... [--write PATH]... [--read-fd FD]...
//                          [--write-fd FD]... [--no-network]
//                          --chdir DIR --seccomp-fd FD -- CMD [ARGS...]
//
// --read grants reading and executing below PATH, --write everything below it (on a
// file: writing it); --read-fd and --write-fd do the same for what an inherited
// descriptor names, opened and checked by the server (a path could have been swapped
// for a symlink since), and close it. Nothing else may be read or written. The environment is passed
// through untouched. On any failure it prints "sandboxd-landlock-exec: ..." to stderr
// and exits 126 without running the command.

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "base/landlock.h"

namespace {

using sandboxd::kLandlockBindTcp;
using sandboxd::kLandlockConnectTcp;
using sandboxd::kLandlockIoctlDev;
using sandboxd::kLandlockScopeAbstractUnix;
using sandboxd::kLandlockScopeSignal;
using sandboxd::kLandlockTruncate;
using sandboxd::LandlockHandledFs;
using sandboxd::LandlockRulesetAttr;

constexpr uint64_t kRead = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE |
                           LANDLOCK_ACCESS_FS_READ_DIR;
constexpr uint64_t kFileRights = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                                 LANDLOCK_ACCESS_FS_READ_FILE | kLandlockTruncate |
                                 kLandlockIoctlDev;

struct Options {
  std::vector<std::string> read, write;
  std::vector<int> read_fds, write_fds;
  bool no_network = false;
  std::string chdir;
  int seccomp_fd = -1;
  std::vector<char*> command;
};

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "sandboxd-landlock-exec: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(126);
}

Options Parse(int argc, char** argv) {
  Options options;
  int i = 1;
  for (; i < argc && std::strcmp(argv[i], "--") != 0; ++i) {
    std::string flag = argv[i];
    if (flag == "--no-network") {
      options.no_network = true;
      continue;
    }
    if (i + 1 >= argc) {
      errno = EINVAL;
      Die("missing value for " + flag);
    }
    std::string value = argv[++i];
    if (flag == "--read") {
      options.read.push_back(value);
    } else if (flag == "--write") {
      options.write.push_back(value);
    } else if (flag == "--read-fd") {
      options.read_fds.push_back(std::atoi(value.c_str()));
    } else if (flag == "--write-fd") {
      options.write_fds.push_back(std::atoi(value.c_str()));
    } else if (flag == "--chdir") {
      options.chdir = value;
    } else if (flag == "--seccomp-fd") {
      options.seccomp_fd = std::atoi(value.c_str());
    } else {
      errno = EINVAL;
      Die("unknown option " + flag);
    }
  }
  for (++i; i < argc; ++i) options.command.push_back(argv[i]);
  options.command.push_back(nullptr);
  if (options.command.size() < 2 || options.chdir.empty() || options.seccomp_fd < 0) {
    errno = EINVAL;
    Die("usage: [--read P] [--write P] [--read-fd N] [--write-fd N] [--no-network] "
        "--chdir D --seccomp-fd N -- CMD");
  }
  return options;
}

// Every filesystem right this kernel's ABI knows, so that none stays unrestricted.
// Allows `rights` below what `fd` names (only the file rights when it is not a
// directory), then closes it. `what` names it in messages.
void AllowFd(int ruleset, int fd, const std::string& what, uint64_t rights, uint64_t handled) {
  struct stat st;
  if (fstat(fd, &st) != 0) Die("stat " + what);
  if (!S_ISDIR(st.st_mode)) rights &= kFileRights;
  landlock_path_beneath_attr rule{};
  rule.allowed_access = rights & handled;
  rule.parent_fd = fd;
  if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) != 0) {
    Die("landlock_add_rule " + what);
  }
  close(fd);
}

// Allows `rights` below `path`. A path that does not exist is skipped: there is
// nothing to allow.
void Allow(int ruleset, const std::string& path, uint64_t rights, uint64_t handled) {
  int fd = open(path.c_str(), O_PATH | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return;
    Die("open " + path);
  }
  AllowFd(ruleset, fd, path, rights, handled);
}

void RestrictFilesystemAndNetwork(const Options& options) {
  long abi = syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  if (abi < 1) Die("this kernel has no Landlock");
  LandlockRulesetAttr attr{};
  attr.handled_access_fs = LandlockHandledFs(abi);
  // Without network, TCP is refused here too, besides by seccomp (ABI 4).
  if (options.no_network && abi >= 4) {
    attr.handled_access_net = kLandlockBindTcp | kLandlockConnectTcp;
  }
  // Signals and abstract Unix sockets stay inside the sandbox (ABI 6).
  if (abi >= 6) {
    attr.scoped = kLandlockScopeSignal | (options.no_network ? kLandlockScopeAbstractUnix : 0);
  }
  int ruleset = static_cast<int>(
      syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0));
  if (ruleset < 0) Die("landlock_create_ruleset");
  for (const std::string& path : options.read) Allow(ruleset, path, kRead, attr.handled_access_fs);
  for (const std::string& path : options.write) {
    Allow(ruleset, path, attr.handled_access_fs, attr.handled_access_fs);
  }
  for (int fd : options.read_fds) {
    AllowFd(ruleset, fd, "fd " + std::to_string(fd), kRead, attr.handled_access_fs);
  }
  for (int fd : options.write_fds) {
    AllowFd(ruleset, fd, "fd " + std::to_string(fd), attr.handled_access_fs,
            attr.handled_access_fs);
  }
  if (syscall(SYS_landlock_restrict_self, ruleset, 0) != 0) Die("landlock_restrict_self");
  close(ruleset);
}

// Without a user namespace, a server running as root would hand the command every
// capability (loading kernel modules, raw I/O, ...). Drop them all for good: lock root
// out of regaining them at exec, empty the bounding and ambient sets, then the
// process's own sets. The first two need CAP_SETPCAP, which a non-root server lacks
// along with everything else, so their EPERM is fine there.
void DropCapabilities() {
  constexpr unsigned long kNoRoot = 1UL << 0, kNoRootLocked = 1UL << 1;
  constexpr unsigned long kNoSetuidFixup = 1UL << 2, kNoSetuidFixupLocked = 1UL << 3;
  if (prctl(PR_SET_SECUREBITS, kNoRoot | kNoRootLocked | kNoSetuidFixup |
                                   kNoSetuidFixupLocked) != 0 &&
      errno != EPERM) {
    Die("PR_SET_SECUREBITS");
  }
  for (int cap = 0; prctl(PR_CAPBSET_READ, cap) >= 0; ++cap) {
    if (prctl(PR_CAPBSET_DROP, cap) != 0 && errno != EPERM) Die("PR_CAPBSET_DROP");
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) Die("PR_CAP_AMBIENT");
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capset, &header, data) != 0) Die("capset");
}

void LoadSeccomp(int fd) {
  std::string bpf;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) bpf.append(buf, static_cast<size_t>(n));
  close(fd);
  if (bpf.empty() || bpf.size() % sizeof(sock_filter) != 0) {
    errno = EINVAL;
    Die("seccomp filter");
  }
  sock_fprog prog{};
  prog.len = static_cast<unsigned short>(bpf.size() / sizeof(sock_filter));
  prog.filter = reinterpret_cast<sock_filter*>(bpf.data());
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) Die("seccomp");
}

}  // namespace

int main(int argc, char** argv) {
  Options options = Parse(argc, argv);
  // The command dies with the worker's supervisor, like bwrap's --die-with-parent.
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) Die("PR_SET_PDEATHSIG");
  if (chdir(options.chdir.c_str()) != 0) Die("chdir " + options.chdir);
  // no_new_privs first: Landlock and seccomp both need it, and it keeps set-uid
  // programs from gaining what the sandbox withholds.
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) Die("PR_SET_NO_NEW_PRIVS");
  RestrictFilesystemAndNetwork(options);
  DropCapabilities();
  // Last, so that the filter never has to allow the set-up above.
  LoadSeccomp(options.seccomp_fd);
  execvp(options.command[0], options.command.data());
  Die(std::string("exec ") + options.command[0]);
}

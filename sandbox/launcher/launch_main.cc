// sandboxd-launch: puts itself into the command's cgroups and under its rlimits, takes
// on the command's user, then execs the sandbox (bwrap, the landlock launcher, or the
// command itself):
//
//   sandboxd-launch [--join CGROUP_PROCS_FILE]... [--cpu SOFT:HARD] [--as BYTES]
//                   [--fsize BYTES] [--nofile N] [--user UID:GID]
//                   [--fds N --expose DIR] [--proxy FD] [--chdir DIR]
//                   [--env NAME=VALUE]... -- PROGRAM [ARGS...]
//   sandboxd-launch [--join CGROUP_PROCS_FILE]... [--user UID:GID] [--netns private]
//                   --orders FD
//
// Joining before the exec means every process of the command starts inside the cgroup:
// nothing can fork before the server moves it. --user drops every group and becomes
// UID and GID (a server running as root hands its commands to an unprivileged user,
// so that root-only files stay closed to them). --fds N --expose DIR makes the N
// descriptors passed from fd 4 on (the directories the sandbox binds) appear as
// DIR/0, DIR/1, ... in a mount namespace of the command's own, and closes them: bwrap
// then binds those paths, which nothing else can reach, instead of paths that a
// command elsewhere could swap for a symlink (see ExposePassedFds). PROGRAM is an
// absolute path; without --env it inherits the environment. --proxy FD, once the user
// is taken on, moves into a network namespace of its own with loopback up, listens
// there on 127.0.0.1:3128 and sends the listener over FD to the server's proxy
// (sandbox/net/bridge.h): the command's only way out. On failure it prints
// "sandboxd-launch: ..." and exits 126.
//
// The third form runs inside the sandbox, as the command's first program, after bwrap
// has made every mount: it checks that what bwrap bound from a descriptor (a writable
// root, a protected path...) is at its place, the mount's own root, read-only or not
// as planned, and only then execs the command (searching PATH, as bwrap does):
//
//   sandboxd-launch --verify [--rw|--ro DEV INO PATH]...
//                   [--hidden-dir PATH | --hidden-file PATH]... -- PROGRAM [ARGS...]
//
// bwrap resolves what it binds, and where, by path, and checks only that what is at
// the destination afterwards is what the descriptor names: a command swapping a
// directory for a symlink at the right moments could have a bind land elsewhere, with
// another source, and the check look at a place the swap restored. Each planned bind
// at its place, from its own object, leaves no bind unaccounted for. What is hidden is
// checked too: an empty read-only tmpfs on each directory, /dev/null on each file.
//
// The second form is a launcher started ahead of demand that stays: once joined, with
// --user become that user, and with --netns private in a network namespace of its own
// with loopback up, it writes "R" on FD, then serves orders from FD until EOF,
// starting one command per order inside its cgroups and network namespace (the
// protocol is in prestarted_launcher.h). An order is a LaunchOrder (launch.proto), the
// message the first form's options are read into; it joins no cgroup, and its user is
// the launcher's own already. It reports its own failures on FD.

#include <fcntl.h>
#include <grp.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "base/fd_layout.h"
#include "base/own_userns.h"
#include "sandbox/launcher/rlimit_flags.h"
#include "sandbox/net/bridge.h"
#include "sandbox/net/private_netns.h"
#include "sandboxd/launch/v1/launch.pb.h"

namespace {

using sandboxd::kFirstPassedFd;

// Where failures are reported: stderr, or the server in the second form.
int report_fd = 2;

// The most fds an order may bring: SCM_MAX_FD, what one message can carry.
constexpr size_t kMaxOrderFds = 253;

// Writes "sandboxd-launch: WHAT DETAIL: REASON" to `fd`. Only write(2) and
// strerrordesc_np, which allocate nothing: a command's process runs this in the
// launcher's memory (see StartCommand).
void Report(int fd, const char* what, const char* detail) {
  const char* reason = strerrordesc_np(errno);
  for (const char* part : {"sandboxd-launch: ", what, detail, ": ",
                           reason != nullptr ? reason : "unknown error", "\n"}) {
    ssize_t ignored = write(fd, part, strlen(part));
    (void)ignored;
  }
}

[[noreturn]] void Die(const std::string& what) {
  Report(report_fd, what.c_str(), "");
  _exit(126);
}

// Writes `text` into the kernel's file at `path`, or dies saying what it was `doing`.
void WriteOrDie(const std::string& path, const std::string& text, const std::string& doing) {
  std::ofstream out(path);
  out << text;
  out.flush();
  if (!out) Die(doing);
}

using sandboxd::launch::v1::LaunchOrder;

using sandboxd::RlimitFlag;

const RlimitFlag* RlimitByFlag(const std::string& flag) {
  for (const RlimitFlag& known : sandboxd::kRlimitFlags) {
    if (flag == known.flag) return &known;
  }
  return nullptr;
}

// A number, all of `text`; false for anything else.
bool ParseNumber(const std::string& text, uint64_t& out) {
  if (text.empty() || text[0] < '0' || text[0] > '9') return false;
  char* end = nullptr;
  errno = 0;
  out = std::strtoull(text.c_str(), &end, 10);
  return errno == 0 && *end == '\0';
}

// SOFT or SOFT:HARD into `limit`.
bool ParseLimit(const std::string& value, sandboxd::launch::v1::Rlimit& limit) {
  size_t colon = value.find(':');
  uint64_t soft = 0, hard = 0;
  if (!ParseNumber(value.substr(0, colon), soft)) return false;
  hard = soft;
  if (colon != std::string::npos && !ParseNumber(value.substr(colon + 1), hard)) return false;
  limit.set_soft(soft);
  limit.set_hard(hard);
  return true;
}

// UID:GID into `order`'s user.
bool ParseUser(const std::string& value, LaunchOrder& order) {
  size_t colon = value.find(':');
  uint64_t uid = 0, gid = 0;
  if (colon == std::string::npos || !ParseNumber(value.substr(0, colon), uid) ||
      !ParseNumber(value.substr(colon + 1), gid) || uid > UINT32_MAX || gid > UINT32_MAX) {
    return false;
  }
  order.mutable_user()->set_uid(static_cast<uint32_t>(uid));
  order.mutable_user()->set_gid(static_cast<uint32_t>(gid));
  return true;
}

// The command line: the order it gives (the first form), or the launcher's own
// settings (the second).
struct Options {
  LaunchOrder order;
  int orders_fd = -1;
  // A launcher's --netns private.
  bool private_netns = false;
  // What was wrong with them; empty when nothing.
  std::string error;
};

// Reads the options in `args` into `options`.
void Parse(const std::vector<std::string>& args, Options& options) {
  LaunchOrder& order = options.order;
  size_t i = 0;
  for (; i + 1 < args.size() && args[i] != "--"; i += 2) {
    const std::string &flag = args[i], &value = args[i + 1];
    uint64_t number = 0;
    bool ok = true;
    if (flag == "--join") {
      order.add_joins(value);
    } else if (const RlimitFlag* option = RlimitByFlag(flag)) {
      sandboxd::launch::v1::Rlimit& limit = *order.add_rlimits();
      limit.set_resource(option->resource);
      ok = ParseLimit(value, limit);
    } else if (flag == "--user") {
      ok = ParseUser(value, order);
    } else if (flag == "--fds") {
      ok = ParseNumber(value, number) && number <= kMaxOrderFds;
      order.set_exposed_fds(static_cast<uint32_t>(number));
    } else if (flag == "--expose") {
      order.set_expose_dir(value);
    } else if (flag == "--proxy") {
      ok = ParseNumber(value, number) && number >= 3 && number < 1024;
      order.set_proxy_channel_fd(static_cast<int32_t>(number));
    } else if (flag == "--chdir") {
      order.set_cwd(value);
    } else if (flag == "--env") {
      order.set_set_env(true);
      order.add_env(value);
    } else if (flag == "--orders" && options.orders_fd < 0) {
      ok = ParseNumber(value, number) && number < 1024;
      options.orders_fd = static_cast<int>(number);
    } else if (flag == "--netns" && value == "private") {
      options.private_netns = true;
    } else {
      ok = false;
    }
    if (!ok) {
      options.error = "bad option " + flag + " " + value;
      return;
    }
  }
  if (i < args.size() && args[i] == "--") {
    for (size_t j = i + 1; j < args.size(); ++j) order.add_argv(args[j]);
  }
  if (order.argv().empty() && options.orders_fd < 0) {
    options.error = "usage: [--join F]... [--cpu S:H] [--as N] [--fsize N] [--nofile N] "
                    "[--user U:G] [--fds N --expose D] [--proxy FD] [--chdir D] [--env N=V]... -- "
                    "PROGRAM ARGS, or [--join F]... [--user U:G] [--netns private] "
                    "--orders FD";
  }
}

void JoinAll(const LaunchOrder& order) {
  for (const std::string& procs_file : order.joins()) {
    WriteOrDie(procs_file, "0", "joining " + procs_file);  // "0": this process.
  }
}

template <typename Strings>
std::vector<char*> CStrings(Strings& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// A command ready to exec, everything in place before the process that execs it
// exists: BecomeCommand only reads it.
struct Exec {
  explicit Exec(LaunchOrder& order)
      : order(order), argv(CStrings(*order.mutable_argv())), env(CStrings(*order.mutable_env())) {
    for (const sandboxd::launch::v1::Rlimit& limit : order.rlimits()) {
      const RlimitFlag* option = sandboxd::RlimitOf(limit.resource());
      if (option == nullptr) {
        error = "an order with an unknown rlimit";
        continue;
      }
      limits.push_back({option, rlimit{limit.soft(), limit.hard()}});
    }
    if (order.argv().empty()) error = "an order without a program";
  }
  const LaunchOrder& order;
  std::vector<char*> argv;
  std::vector<char*> env;
  std::vector<std::pair<const RlimitFlag*, rlimit>> limits;
  // What is wrong with the order; empty when nothing. The command reports it.
  std::string error;
  // The fds an order brought, to become 0, 1, 2 and onwards; none in the first form.
  std::vector<int> fds;
};

// Reports `what` (and `detail`) on stderr, and exits 126.
[[noreturn]] void Fail(const char* what, const char* detail = "") {
  Report(2, what, detail);
  _exit(126);
}

// Becomes the order's user with no supplementary group, for good: real, effective and
// saved ids all change, and a process leaving uid 0 this way loses every capability;
// its bounding set goes first, so that no exec can bring one back either. Nothing to
// do for a launcher's order, whose launcher became the user already. System calls and
// reads of the order only (see BecomeCommand).
bool BecomeUser(const LaunchOrder& order) {
  if (!order.has_user()) return true;
  uid_t uid = order.user().uid();
  gid_t gid = order.user().gid();
  uid_t ruid, euid, suid;
  if (getresuid(&ruid, &euid, &suid) == 0 && ruid == uid && euid == uid && suid == uid &&
      getgid() == gid && getgroups(0, nullptr) == 0) {
    return true;
  }
  for (int cap = 0; prctl(PR_CAPBSET_READ, cap) >= 0; ++cap) {
    if (prctl(PR_CAPBSET_DROP, cap) != 0) return false;
  }
  return syscall(SYS_setgroups, 0, nullptr) == 0 &&
         syscall(SYS_setresgid, gid, gid, gid) == 0 &&
         syscall(SYS_setresuid, uid, uid, uid) == 0 && getuid() == uid && geteuid() == uid;
}

// Makes `fds` this process's 0, 1, 2 and onwards. They arrived in one message, at
// the lowest free numbers in increasing order, all at 3 or above (0-2 are taken): the
// k-th sits at k + 3 or higher, so no dup2 writes a number whose fd is still to be read.
void InstallStdio(const std::vector<int>& fds) {
  for (size_t target = 0; target < fds.size(); ++target) {
    int fd = fds[target], to = static_cast<int>(target);
    int rc = fd == to ? fcntl(fd, F_SETFD, 0) : dup2(fd, to);
    if (rc < 0) Fail("installing the command's fds");
  }
  for (int fd : fds) {
    if (fd >= static_cast<int>(fds.size())) close(fd);
  }
}

// Moves into a mount namespace of its own: directly with CAP_SYS_ADMIN, else inside a
// user namespace of its own that maps only its uid and gid to themselves, in which it
// holds every capability until it execs (bwrap, as that user, then gets none).
void EnterOwnMountNamespace() {
  if (unshare(CLONE_NEWNS) == 0) return;
  const char* failed = sandboxd::EnterOwnUserNamespace(CLONE_NEWNS, "making a mount namespace");
  if (failed != nullptr) Fail(failed);
}

// --fds N --expose DIR. bwrap binds by path: it resolves even --bind-fd's descriptor to
// the path the directory has, and walks that path again. A command that may write the
// directory's parent (its own writable root holds it) can swap it for a symlink at that
// moment and have the sandbox get any directory it names, writable, where its own check
// looks at the right place again a microsecond later (measured: 3 wins in 800 runs).
// Here each descriptor is bound, by itself, at DIR/i in a tmpfs that lives only in this
// process's own mount namespace, which nothing else can change: a bind there is what
// the descriptor names, because this namespace's copy of the directory is reopened and
// found to be the same object. System calls and the stack only.
void ExposePassedFds(const LaunchOrder& order) {
  if (order.expose_dir().empty()) return;
  const char* dir = order.expose_dir().c_str();
  EnterOwnMountNamespace();
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    Fail("making the mounts private");
  }
  if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") != 0) {
    Fail("mounting a tmpfs on ", dir);
  }
  for (int i = 0; i < static_cast<int>(order.exposed_fds()); ++i) {
    int fd = kFirstPassedFd + i;
    char link[64], path[PATH_MAX], target[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n <= 0) Fail("reading ", link);
    path[n] = '\0';
    open_how how{};
    how.flags = O_PATH | O_CLOEXEC;
    how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    int here = static_cast<int>(syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how));
    if (here < 0 && errno != ELOOP) Fail("the command's user cannot reach ", path);
    struct stat want {}, got {};
    if (here < 0 || fstat(fd, &want) != 0 || fstat(here, &got) != 0 ||
        want.st_dev != got.st_dev || want.st_ino != got.st_ino) {
      errno = EXDEV;
      Fail("a directory changed while the command was starting, so it does not run: ", path);
    }
    snprintf(target, sizeof target, "%s/%d", dir, i);
    bool made = S_ISDIR(got.st_mode) ? mkdir(target, 0700) == 0
                                     : close(open(target, O_CREAT | O_WRONLY | O_CLOEXEC, 0600)) == 0;
    snprintf(link, sizeof link, "/proc/self/fd/%d", here);
    if (!made || mount(link, target, nullptr, MS_BIND | MS_REC, nullptr) != 0) {
      Fail("binding ", path);
    }
    close(here);
    close(fd);  // bwrap and the command get the path, never the descriptor.
  }
}

// --proxy FD. As the command's user, so that a network namespace made without
// CAP_SYS_ADMIN lies in a user namespace of that user's (see EnterPrivateNetns).
void EnterProxiedNetns(const LaunchOrder& order) {
  if (order.proxy_channel_fd() <= 0) return;
  if (const char* failed = sandboxd::EnterPrivateNetns()) Fail(failed);
  if (const char* failed = sandboxd::SendProxyListener(order.proxy_channel_fd())) Fail(failed);
}

// Becomes the command. System calls only, no allocation: for an order this runs in a
// process that shares the launcher's memory.
[[noreturn]] void BecomeCommand(const Exec& exec) {
  const LaunchOrder& order = exec.order;
  if (!exec.fds.empty()) {
    InstallStdio(exec.fds);
    setsid();  // A process group of its own, as the first form gets from its spawn.
  }
  if (!exec.error.empty()) {
    errno = EINVAL;
    Fail(exec.error.c_str());
  }
  for (const auto& [option, limit] : exec.limits) {
    if (setrlimit(option->which, &limit) != 0) Fail(option->name);
  }
  if (!BecomeUser(order)) Fail("becoming the command's user");
  EnterProxiedNetns(order);
  ExposePassedFds(order);
  if (!order.cwd().empty() && chdir(order.cwd().c_str()) != 0) {
    Fail("chdir ", order.cwd().c_str());
  }
  if (order.set_env()) {
    execve(exec.argv[0], exec.argv.data(), exec.env.data());
  } else {
    execv(exec.argv[0], exec.argv.data());
  }
  Fail("exec ", exec.argv[0]);
}

// Reads exactly `size` bytes from `control` into `data`, adding the fds attached to
// `fds`. False at EOF before the first byte; EOF within is a failure.
bool ReceiveExactly(int control, char* data, size_t size, std::vector<int>& fds) {
  for (size_t got = 0; got < size;) {
    iovec iov{data + got, size - got};
    alignas(cmsghdr) char space[CMSG_SPACE(kMaxOrderFds * sizeof(int))];
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

// Reads one order and the fds attached. False at EOF. What is wrong with the order
// itself is the command's to report (Exec::error), as a spawned launcher reports its
// options.
bool ReceiveOrder(int control, LaunchOrder& order, std::vector<int>& fds) {
  uint32_t size = 0;
  if (!ReceiveExactly(control, reinterpret_cast<char*>(&size), sizeof size, fds)) return false;
  std::string bytes(size, '\0');
  if (size > 0 && !ReceiveExactly(control, bytes.data(), size, fds)) {
    errno = EPIPE;
    Die("reading orders");
  }
  if (fds.size() < 3 || fds.size() > kMaxOrderFds) {
    errno = EINVAL;
    Die("orders must carry the command's 0, 1 and 2, and at most 253 fds");
  }
  if (!order.ParseFromString(bytes)) order.Clear();  // No program: Exec says so.
  return true;
}

// The process an order becomes runs on this stack, in the launcher's memory.
alignas(64) char command_stack[64 * 1024];

int RunCommand(void* exec) { BecomeCommand(*static_cast<const Exec*>(exec)); }

// Starts the command an order asked for. With CLONE_VM and CLONE_VFORK it is a
// posix_spawn-style start: no page tables copied, and the launcher waits until the
// exec has replaced its memory, which is why BecomeCommand allocates nothing. One that
// exposes descriptors, or gets the proxy's network namespace, makes a user namespace,
// which a process sharing its memory may not: it gets a copy (a fork). With CLONE_PARENT the command is the server's child,
// which reaps it as it would a command it spawned; it starts in our cgroups (and
// network namespace) without being moved.
pid_t StartCommand(Exec& exec) {
  bool own_namespaces = !exec.order.expose_dir().empty() || exec.order.proxy_channel_fd() > 0;
  int shared = own_namespaces ? 0 : CLONE_VM | CLONE_VFORK;
  return clone(RunCommand, command_stack + sizeof command_stack,
               shared | CLONE_PARENT | SIGCHLD, &exec);
}

// The second form: joins, says so, then serves orders from `orders_fd` (moved out of
// the way of fd 3, which a command may get) until EOF.
[[noreturn]] void Serve(Options& launcher) {
  int control = fcntl(launcher.orders_fd, F_DUPFD_CLOEXEC, 10);
  if (control < 0) Die("moving the orders fd");
  close(launcher.orders_fd);
  report_fd = control;
  JoinAll(launcher.order);
  // Before the network namespace: one made by the command's user is in a user
  // namespace of its own (see EnterPrivateNetns), which root without CAP_SYS_ADMIN
  // needs, and in which nothing holds any right over the host.
  if (!BecomeUser(launcher.order)) Die("becoming the command's user");
  if (launcher.private_netns) {
    if (const char* failed = sandboxd::EnterPrivateNetns()) Die(failed);
  }
  if (write(control, "R", 1) != 1) Die("reporting ready");
  for (;;) {
    LaunchOrder order;
    std::vector<int> fds;
    if (!ReceiveOrder(control, order, fds)) _exit(0);  // Let go.
    Exec exec(order);
    // Its cgroups are the launcher's; no order may name others.
    if (order.joins_size() > 0) exec.error = "an order cannot join cgroups";
    // A launcher with a network namespace of its own keeps its commands in it.
    if (order.proxy_channel_fd() > 0 && launcher.private_netns) {
      exec.error = "an order to a launcher with a network namespace cannot ask for the proxy";
    }
    exec.fds = std::move(fds);
    pid_t pid = StartCommand(exec);
    int32_t reply = pid > 0 ? static_cast<int32_t>(pid) : -errno;
    for (int fd : exec.fds) close(fd);
    if (write(control, &reply, sizeof reply) != sizeof reply) _exit(0);
  }
}

// Whether `path`, resolved without any symlink, is the root of a mount of the object
// `dev`/`ino` (or, with `fs_type`, of a file system of that type), writable or not as
// `writable` says.
bool MountedAsPlanned(const char* path, dev_t dev, ino_t ino, bool writable,
                      long fs_type = 0) {
  open_how how{};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  int fd = static_cast<int>(syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how));
  if (fd < 0) return false;
  struct statx stx {};
  struct statvfs vfs {};
  struct statfs fs {};
  bool ok = statx(fd, "", AT_EMPTY_PATH, STATX_INO, &stx) == 0 && fstatvfs(fd, &vfs) == 0 &&
            fstatfs(fd, &fs) == 0;
  close(fd);
  if (!ok) return false;
  if ((stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) == 0) {
    errno = ENOSYS;
    Fail("checking the sandbox's mounts needs Linux 5.8 or newer: ", path);
  }
  bool object = fs_type != 0 ? fs.f_type == fs_type
                             : makedev(stx.stx_dev_major, stx.stx_dev_minor) == dev &&
                                   stx.stx_ino == ino;
  return (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0 && object &&
         ((vfs.f_flag & ST_RDONLY) == 0) == writable;
}

// Whether `path`, resolved without any symlink, is hidden as planned: the root of a
// read-only tmpfs (`directory`), or of a bind of /dev/null.
bool HiddenAsPlanned(const char* path, bool directory) {
  struct stat null {};
  if (stat("/dev/null", &null) != 0) return false;
  if (directory) {
    return MountedAsPlanned(path, 0, 0, false, TMPFS_MAGIC);
  }
  return MountedAsPlanned(path, null.st_dev, null.st_ino, false);
}

[[noreturn]] void NotAsPlanned(const char* path) {
  errno = EXDEV;
  Fail("the sandbox is not as planned (was a directory swapped while it was set up?), "
       "so the command does not run: ", path);
}

// The third form (see the top of this file).
[[noreturn]] void VerifyAndExec(int argc, char** argv) {
  int i = 2;
  for (; i + 3 < argc && (std::strcmp(argv[i], "--rw") == 0 || std::strcmp(argv[i], "--ro") == 0);
       i += 4) {
    bool writable = argv[i][3] == 'w';
    dev_t dev = std::strtoull(argv[i + 1], nullptr, 10);
    ino_t ino = std::strtoull(argv[i + 2], nullptr, 10);
    if (!MountedAsPlanned(argv[i + 3], dev, ino, writable)) NotAsPlanned(argv[i + 3]);
  }
  for (; i + 1 < argc && (std::strcmp(argv[i], "--hidden-dir") == 0 ||
                          std::strcmp(argv[i], "--hidden-file") == 0);
       i += 2) {
    if (!HiddenAsPlanned(argv[i + 1], argv[i][9] == 'd')) NotAsPlanned(argv[i + 1]);
  }
  if (i + 1 >= argc || std::strcmp(argv[i], "--") != 0) {
    errno = EINVAL;
    Fail("usage: --verify [--rw|--ro DEV INO PATH]... [--hidden-dir|--hidden-file PATH]... "
         "-- PROGRAM ARGS");
  }
  execvp(argv[i + 1], argv + i + 1);
  Fail("exec ", argv[i + 1]);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--verify") == 0) VerifyAndExec(argc, argv);
  Options options;
  Parse(std::vector<std::string>(argv + 1, argv + argc), options);
  if (!options.error.empty()) {
    errno = EINVAL;
    Die(options.error);
  }
  if (options.orders_fd >= 0) Serve(options);
  if (options.private_netns) {
    errno = EINVAL;
    Die("--netns private needs --orders");
  }
  JoinAll(options.order);
  BecomeCommand(Exec(options.order));
}

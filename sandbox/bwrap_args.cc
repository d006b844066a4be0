#include "sandbox/bwrap_args.h"

#include "sandbox/worker.h"

namespace sandboxd {
namespace {

void Add(std::vector<std::string>& args, std::initializer_list<std::string> more) {
  args.insert(args.end(), more);
}

// Namespaces and privileges. The user namespace is unconditional: bwrap started by
// root would otherwise leave the command every capability, enough to remount / rw.
// --disable-userns stops the command from making a nested user namespace, where it
// would regain capabilities over new mounts and namespaces.
void AddIsolation(const Policy& policy, std::vector<std::string>& args) {
  Add(args, {"--new-session", "--die-with-parent", "--unshare-user", "--unshare-pid",
             "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"});
  if (policy.network() == NetworkMode::kDisabled) Add(args, {"--unshare-net"});
  Add(args, {"--disable-userns", "--cap-drop", "ALL"});
}

// Mount order decides who wins, since a later mount covers an earlier one:
// read-only root, then fresh /dev, /proc and /tmp, then the writable roots, then the
// protected subpaths read-only again on top of them.
void AddMounts(const Policy& policy, const std::string& cwd,
               std::vector<std::string>& args) {
  Add(args, {"--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"});
  // When the server runs as root, the sandbox's uid 0 is the host's uid 0 without
  // capabilities, and /proc/sys files owned by root stay writable to it in a fresh
  // procfs (bwrap's own cover is skipped when access(W_OK) says no). Cover them with
  // the host's read-only view.
  Add(args, {"--ro-bind", "/proc/sys", "/proc/sys", "--ro-bind-try", "/proc/sysrq-trigger",
             "/proc/sysrq-trigger"});
  // A private /tmp per request. A cwd below it would vanish under the tmpfs, so it is
  // bound back read-only (a writable root bound later still wins).
  Add(args, {"--tmpfs", "/tmp"});
  if (cwd == "/tmp" || cwd.rfind("/tmp/", 0) == 0) Add(args, {"--ro-bind", cwd, cwd});
  for (const std::string& root : policy.writable_roots()) Add(args, {"--bind", root, root});
  for (const std::string& path : policy.read_only_subpaths()) {
    Add(args, {"--ro-bind", path, path});
  }
}

}  // namespace

std::vector<std::string> BwrapArgs(const std::string& bwrap_path, const Policy& policy,
                                   const std::string& cwd,
                                   const std::vector<std::string>& command) {
  std::vector<std::string> args = {bwrap_path};
  AddIsolation(policy, args);
  AddMounts(policy, cwd, args);
  Add(args, {"--chdir", cwd, "--seccomp", std::to_string(kSeccompFd), "--"});
  args.insert(args.end(), command.begin(), command.end());
  return args;
}

}  // namespace sandboxd

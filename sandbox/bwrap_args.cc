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

// The read-only base: the whole host filesystem, or only the system directories and
// the readable roots.
void AddReadableBase(const Policy& policy, std::vector<std::string>& args) {
  if (policy.readable_roots().empty()) {
    Add(args, {"--ro-bind", "/", "/"});
    return;
  }
  for (const char* dir : kSystemRoots) Add(args, {"--ro-bind-try", dir, dir});
  for (const std::string& root : policy.readable_roots()) Add(args, {"--ro-bind", root, root});
}

// Fresh kernel filesystems. When the server runs as root, the sandbox's uid 0 is the
// host's uid 0 without capabilities, and /proc/sys files owned by root stay writable to
// it in a fresh procfs (bwrap's own cover is skipped when access(W_OK) says no). Cover
// them with the host's read-only view. Where no procfs can be mounted, an empty tmpfs
// hides the host's /proc, whose processes are not the sandbox's.
void AddKernelFilesystems(const Policy& policy, std::vector<std::string>& args) {
  Add(args, {"--dev", "/dev"});
  if (!policy.mount_proc()) {
    Add(args, {"--tmpfs", "/proc", "--remount-ro", "/proc"});
    return;
  }
  Add(args, {"--proc", "/proc", "--ro-bind", "/proc/sys", "/proc/sys", "--ro-bind-try",
             "/proc/sysrq-trigger", "/proc/sysrq-trigger"});
}

// A private /tmp per request. A cwd below it would vanish under the tmpfs, so it is
// bound back read-only (a writable root bound later still wins).
void AddTmp(const Policy& policy, const std::string& cwd, std::vector<std::string>& args) {
  if (!policy.private_tmp()) return;
  Add(args, {"--tmpfs", "/tmp"});
  if (cwd == "/tmp" || cwd.rfind("/tmp/", 0) == 0) Add(args, {"--ro-bind", cwd, cwd});
}

// Writes, then what must stay read-only or absent on top of them.
void AddWritableLayer(const Policy& policy, std::vector<std::string>& args) {
  for (const std::string& root : policy.writable_roots()) Add(args, {"--bind", root, root});
  for (const std::string& path : policy.read_only_subpaths()) {
    Add(args, {"--ro-bind", path, path});
  }
  for (const std::string& path : policy.placeholders()) {
    Add(args, {"--ro-bind", "/dev/null", path});
  }
  for (const std::string& dir : policy.hidden_dirs()) {
    Add(args, {"--tmpfs", dir, "--remount-ro", dir});
  }
  for (const std::string& file : policy.hidden_files()) {
    Add(args, {"--ro-bind", "/dev/null", file});
  }
}

}  // namespace

// Mount order decides who wins, since a later mount covers an earlier one: the
// readable base, fresh /dev, /proc and /tmp, the writable roots, then the protected
// and hidden paths on top of everything.
std::vector<std::string> BwrapArgs(const std::string& bwrap_path, const Policy& policy,
                                   const std::string& cwd,
                                   const std::vector<std::string>& command) {
  std::vector<std::string> args = {bwrap_path};
  AddIsolation(policy, args);
  AddReadableBase(policy, args);
  AddKernelFilesystems(policy, args);
  AddTmp(policy, cwd, args);
  AddWritableLayer(policy, args);
  Add(args, {"--chdir", cwd, "--seccomp", std::to_string(kSeccompFd), "--"});
  args.insert(args.end(), command.begin(), command.end());
  return args;
}

}  // namespace sandboxd

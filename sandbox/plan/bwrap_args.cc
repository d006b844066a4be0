#include "sandbox/plan/bwrap_args.h"

#include <algorithm>

#include "base/fd_layout.h"
#include "sandbox/inside/protocol.h"

namespace sandboxd {
namespace {

// Where the verifier is bound in the sandbox.
constexpr char kVerifierPath[] = "/dev/.sandboxd-verify";

void Add(std::vector<std::string>& args, std::initializer_list<std::string> more) {
  args.insert(args.end(), more);
}

// Binds `path` from the descriptor it holds, which becomes the next passed fd, as
// `options` says, and notes what the verifier is to find there.
void AddFdBind(bool writable, const OpenPath& path, const BwrapOptions& options,
               SandboxCommand& out, std::vector<std::string>* expected = nullptr) {
  size_t index = out.fds.size();
  if (options.exposed_at.empty()) {
    Add(out.argv, {writable ? "--bind-fd" : "--ro-bind-fd",
                   std::to_string(kFirstPassedFd + index), path.path});
  } else {
    Add(out.argv, {writable ? "--bind" : "--ro-bind",
                   options.exposed_at + "/" + std::to_string(index), path.path});
  }
  out.fds.push_back(path.fd);
  out.fd_paths.push_back(path.path);
  if (expected == nullptr) return;
  expected->insert(expected->end(), {writable ? "--rw" : "--ro", std::to_string(path.dev),
                                     std::to_string(path.ino), path.path});
}

// Namespaces and privileges. The user namespace is unconditional: bwrap started by
// root would otherwise leave the command every capability, enough to remount / rw.
// --disable-userns stops the command from making a nested user namespace, where it
// would regain capabilities over new mounts and namespaces.
void AddIsolation(const Policy& policy, const BwrapOptions& options,
                  std::vector<std::string>& args) {
  Add(args, {"--new-session", "--die-with-parent", "--unshare-user", "--unshare-pid",
             "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"});
  if (policy.network() == NetworkMode::NETWORK_DISABLED && options.unshare_net) {
    Add(args, {"--unshare-net"});
  }
  Add(args, {"--disable-userns", "--cap-drop", "ALL"});
}

// The read-only base: the whole host filesystem, or only the system directories.
void AddReadableBase(const Policy& policy, std::vector<std::string>& args) {
  if (!policy.restrict_reads()) {
    Add(args, {"--ro-bind", "/", "/"});
    return;
  }
  for (const char* dir : kSystemRoots) Add(args, {"--ro-bind-try", dir, dir});
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

// A bind from a descriptor, in the order of the layers.
struct FdBind {
  bool writable;
  const OpenPath* path;
};

// Writes, then what must stay read-only or absent on top of them. Everything a request
// names is bound from a descriptor opened and checked before the sandbox starts; a path
// bound twice (a writable root that is also a protected path) keeps only its last, top
// bind, since the verifier checks what each bind's path shows. What is hidden (the
// request's deny_read, the server's own files) comes last, so that no root of the
// request can bring it back, and no bind is made that it would cover.
void AddLayers(const Policy& policy, const Protection& protection, const BwrapOptions& options,
               SandboxCommand& out, std::vector<std::string>& expected) {
  std::vector<FdBind> binds;
  for (const OpenPath& root : policy.readable_roots()) binds.push_back({false, &root});
  for (const OpenPath& root : policy.writable_roots()) binds.push_back({true, &root});
  for (const OpenPath& dir : protection.pinned) binds.push_back({true, &dir});
  for (const OpenPath& path : protection.read_only) binds.push_back({false, &path});
  // What is hidden wins: a bind it would cover is not made at all.
  auto hidden = [&policy](const std::string& path) {
    for (const std::string& dir : policy.hidden_dirs()) {
      if (IsUnder(path, dir)) return true;
    }
    const std::vector<std::string>& files = policy.hidden_files();
    return std::find(files.begin(), files.end(), path) != files.end();
  };
  for (size_t i = 0; i < binds.size(); ++i) {
    auto later = std::find_if(binds.begin() + i + 1, binds.end(), [&](const FdBind& bind) {
      return bind.path->path == binds[i].path->path;
    });
    if (later == binds.end() && !hidden(binds[i].path->path)) {
      AddFdBind(binds[i].writable, *binds[i].path, options, out, &expected);
    }
  }
  for (const std::string& dir : policy.hidden_dirs()) {
    Add(out.argv, {"--tmpfs", dir, "--remount-ro", dir});
  }
  for (const std::string& file : policy.hidden_files()) {
    Add(out.argv, {"--ro-bind", "/dev/null", file});
  }
}

}  // namespace

// Mount order decides who wins, since a later mount covers an earlier one: the
// readable base, fresh /dev, /proc and a private /tmp, the readable and writable
// roots, then the protected and hidden paths on top of everything.
SandboxCommand BwrapArgs(const std::string& bwrap_path, const Policy& policy,
                         const Protection& protection, const std::string& cwd,
                         const std::vector<std::string>& command, const BwrapOptions& options) {
  SandboxCommand out;
  out.argv = {bwrap_path};
  AddIsolation(policy, options, out.argv);
  AddReadableBase(policy, out.argv);
  AddKernelFilesystems(policy, out.argv);
  std::vector<std::string> expected;
  if (options.tmp != nullptr) {
    AddFdBind(true, OpenPath{"/tmp", options.tmp->fd, options.tmp->dev, options.tmp->ino},
              options, out, &expected);
  } else if (policy.private_tmp()) {
    Add(out.argv, {"--tmpfs", "/tmp"});
  }
  AddLayers(policy, protection, options, out, expected);
  // What is hidden is checked too; a server file lies where no command can move it,
  // so only a request with a deny_read path needs the check for that alone.
  for (const std::string& dir : policy.hidden_dirs()) Add(expected, {"--hidden-dir", dir});
  for (const std::string& file : policy.hidden_files()) Add(expected, {"--hidden-file", file});
  bool verify = options.verifier != nullptr &&
                (!out.fds.empty() || policy.hides_denied_paths());
  // In the sandbox's own /dev, which nothing outside it can change: a path through
  // directories a command could rename might lead to something else than the verifier.
  if (verify) {
    AddFdBind(false, OpenPath{kVerifierPath, options.verifier->fd}, options, out);
  }
  if (options.helper != nullptr) {
    AddFdBind(false, OpenPath{kHelperPathInSandbox, options.helper->fd}, options, out);
  }
  Add(out.argv, {"--chdir", cwd, "--seccomp", std::to_string(kSeccompFd), "--"});
  if (verify) {
    Add(out.argv, {kVerifierPath, "--verify"});
    out.argv.insert(out.argv.end(), expected.begin(), expected.end());
    out.argv.push_back("--");
  }
  out.argv.insert(out.argv.end(), command.begin(), command.end());
  return out;
}

}  // namespace sandboxd

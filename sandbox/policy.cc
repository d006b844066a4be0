#include "sandbox/policy.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace sandboxd {
namespace {

namespace v1 = ::sandbox::v1;

absl::StatusOr<SandboxMode> ToMode(v1::SandboxMode mode, const Config& config) {
  switch (mode) {
    case v1::SANDBOX_MODE_UNSPECIFIED:
      return config.default_mode;
    case v1::READ_ONLY:
      return SandboxMode::kReadOnly;
    case v1::WORKSPACE_WRITE:
      return SandboxMode::kWorkspaceWrite;
    case v1::DANGER_FULL_ACCESS:
      if (!config.allow_danger_full_access) {
        return absl::PermissionDeniedError(
            "policy.mode DANGER_FULL_ACCESS runs the command without any sandbox and is "
            "refused by this server; use WORKSPACE_WRITE, or start the server with "
            "--allow_danger_full_access");
      }
      return SandboxMode::kDangerFullAccess;
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          "policy.mode ", static_cast<int>(mode),
          " is unknown; use READ_ONLY, WORKSPACE_WRITE or DANGER_FULL_ACCESS"));
  }
}

absl::StatusOr<NetworkMode> ToNetwork(v1::NetworkMode network) {
  switch (network) {
    case v1::NETWORK_MODE_UNSPECIFIED:
    case v1::NETWORK_DISABLED:
      return NetworkMode::kDisabled;
    case v1::NETWORK_ENABLED:
      return NetworkMode::kEnabled;
    case v1::NETWORK_PROXY_ROUTED:
      return absl::FailedPreconditionError(
          "policy.network NETWORK_PROXY_ROUTED is not supported by this server; use "
          "NETWORK_DISABLED or NETWORK_ENABLED");
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          "policy.network ", static_cast<int>(network),
          " is unknown; use NETWORK_DISABLED or NETWORK_ENABLED"));
  }
}

// A protected name is a relative path that stays below the root it is joined to.
absl::Status CheckProtectedName(const std::string& name) {
  if (name.empty() || name[0] == '/') {
    return absl::InvalidArgumentError(absl::StrCat(
        "protected name \"", name, "\" must be a non-empty relative path such as .git"));
  }
  for (absl::string_view part : absl::StrSplit(name, '/')) {
    if (part == ".." || part == ".") {
      return absl::InvalidArgumentError(absl::StrCat(
          "protected name \"", name, "\" may not contain \".\" or \"..\" components"));
    }
  }
  return absl::OkStatus();
}

// The git directory a worktree's `.git` file points to ("gitdir: PATH"), if any.
std::string WorktreeGitDir(const std::string& root, const std::string& dot_git) {
  std::ifstream in(dot_git);
  std::string line;
  if (!std::getline(in, line)) return "";
  absl::string_view target = line;
  if (!absl::ConsumePrefix(&target, "gitdir: ") || target.empty()) return "";
  std::string path = target[0] == '/' ? std::string(target) : absl::StrCat(root, "/", target);
  char resolved[PATH_MAX];
  return realpath(path.c_str(), resolved) != nullptr ? resolved : "";
}

// Sorts the protected paths under `root` into those to re-bind read-only and the
// first missing component of those that are absent. Refuses a protected path that is a
// symlink: a bind mount onto it would follow the link, so it could not be kept in place.
absl::Status ProtectUnder(const std::string& root, const std::vector<std::string>& names,
                          std::vector<std::string>& read_only,
                          std::vector<std::string>& placeholders) {
  for (const std::string& name : names) {
    std::string path = root;
    for (absl::string_view part : absl::StrSplit(name, '/')) {
      absl::StrAppend(&path, "/", part);
      struct stat st;
      if (lstat(path.c_str(), &st) != 0) {
        // Below a file (ENOTDIR) nothing can be created anyway.
        if (errno == ENOENT) placeholders.push_back(path);
        break;
      }
      if (S_ISLNK(st.st_mode)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "protected path ", path, " is a symlink inside writable root ", root,
            "; it could be re-pointed, so the request is refused. Remove the symlink or "
            "do not make ", root, " writable"));
      }
      if (path.size() == root.size() + 1 + name.size()) {
        read_only.push_back(path);
        if (name == ".git" && S_ISREG(st.st_mode)) {
          std::string git_dir = WorktreeGitDir(root, path);
          if (!git_dir.empty()) read_only.push_back(git_dir);
        }
      }
    }
  }
  return absl::OkStatus();
}

// The protected names in force: the operator's and the request's, with .git narrowed
// to its config and hooks when the request allows git writes.
absl::StatusOr<std::vector<std::string>> ProtectedNames(
    const sandbox::v1::SandboxPolicy& proto, const Config& config) {
  std::vector<std::string> requested = config.protected_names;
  requested.insert(requested.end(), proto.protected_names().begin(),
                   proto.protected_names().end());
  std::vector<std::string> names;
  for (const std::string& name : requested) {
    if (absl::Status s = CheckProtectedName(name); !s.ok()) return s;
    if (name == ".git" && proto.allow_git_writes()) {
      names.push_back(".git/config");
      names.push_back(".git/hooks");
    } else {
      names.push_back(name);
    }
  }
  return names;
}

}  // namespace

absl::StatusOr<std::string> CanonicalExistingPath(const std::string& path,
                                                  const std::string& what) {
  if (path.empty() || path[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " \"", path, "\" must be an absolute path"));
  }
  if (path.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(what, " contains a NUL byte"));
  }
  char resolved[PATH_MAX];
  if (realpath(path.c_str(), resolved) == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(what, " ", path, " cannot be used: ",
                                                   std::strerror(errno)));
  }
  return std::string(resolved);
}

absl::StatusOr<Policy> Policy::Create(const v1::SandboxPolicy& proto,
                                      const std::string& cwd, const Config& config) {
  Policy policy;
  absl::StatusOr<SandboxMode> mode = ToMode(proto.mode(), config);
  if (!mode.ok()) return mode.status();
  policy.mode_ = *mode;
  absl::StatusOr<NetworkMode> network = ToNetwork(proto.network());
  if (!network.ok()) return network.status();
  policy.network_ = *network;
  policy.private_tmp_ = config.private_tmp;
  policy.mount_proc_ = config.mount_proc;
  if (absl::Status s = policy.SetWritableRoots(proto, cwd, config); !s.ok()) return s;
  if (absl::Status s = policy.SetReadRules(proto, cwd, config); !s.ok()) return s;
  return policy;
}

absl::Status Policy::SetWritableRoots(const v1::SandboxPolicy& proto, const std::string& cwd,
                                      const Config& config) {
  if (mode_ != SandboxMode::kWorkspaceWrite) {
    if (!proto.writable_roots().empty() || proto.allow_git_writes()) {
      return absl::InvalidArgumentError(
          "policy.writable_roots and policy.allow_git_writes only apply to mode "
          "WORKSPACE_WRITE; set the mode or drop them");
    }
    return absl::OkStatus();
  }
  for (int i = 0; i < proto.writable_roots_size(); ++i) {
    absl::StatusOr<std::string> root = CanonicalExistingPath(
        proto.writable_roots(i), absl::StrCat("policy.writable_roots[", i, "]"));
    if (!root.ok()) return root.status();
    writable_roots_.push_back(*std::move(root));
  }
  if (!proto.exclude_cwd()) writable_roots_.push_back(cwd);
  for (const std::string& root : writable_roots_) {
    if (root == "/") {
      return absl::InvalidArgumentError(
          "a writable root of / would make everything writable; name narrower roots, "
          "set cwd to the workspace (or policy.exclude_cwd), or use DANGER_FULL_ACCESS");
    }
  }
  absl::StatusOr<std::vector<std::string>> names = ProtectedNames(proto, config);
  if (!names.ok()) return names.status();
  for (const std::string& root : writable_roots_) {
    absl::Status s = ProtectUnder(root, *names, read_only_subpaths_, placeholders_);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status Policy::SetReadRules(const v1::SandboxPolicy& proto, const std::string& cwd,
                                  const Config& config) {
  for (int i = 0; i < proto.readable_roots_size(); ++i) {
    absl::StatusOr<std::string> root = CanonicalExistingPath(
        proto.readable_roots(i), absl::StrCat("policy.readable_roots[", i, "]"));
    if (!root.ok()) return root.status();
    readable_roots_.push_back(*std::move(root));
  }
  if (!readable_roots_.empty()) readable_roots_.push_back(cwd);

  std::vector<std::string> denied = config.deny_read;
  denied.insert(denied.end(), proto.deny_read().begin(), proto.deny_read().end());
  for (const std::string& path : denied) {
    if (path.empty() || path[0] != '/') {
      return absl::InvalidArgumentError(
          absl::StrCat("deny_read path \"", path, "\" must be absolute"));
    }
    char resolved[PATH_MAX];
    struct stat st;
    if (realpath(path.c_str(), resolved) == nullptr || stat(resolved, &st) != 0) continue;
    (S_ISDIR(st.st_mode) ? hidden_dirs_ : hidden_files_).push_back(resolved);
  }
  return absl::OkStatus();
}

SeccompMode Policy::seccomp_mode() const {
  if (mode_ == SandboxMode::kDangerFullAccess) return SeccompMode::kNone;
  return network_ == NetworkMode::kDisabled ? SeccompMode::kRestricted
                                            : SeccompMode::kBaseline;
}

}  // namespace sandboxd

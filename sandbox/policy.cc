#include "sandbox/policy.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

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

// Finds the existing protected paths under `root`. Refuses a protected path that is a
// symlink: a bind mount onto it would follow the link, so it could not be kept in place.
absl::Status AddProtectedSubpaths(const std::string& root,
                                  const std::vector<std::string>& names,
                                  std::vector<std::string>& out) {
  for (const std::string& name : names) {
    std::string path = absl::StrCat(root == "/" ? "" : root, "/", name);
    struct stat st;
    if (lstat(path.c_str(), &st) != 0) continue;  // Absent: nothing to keep read-only.
    if (S_ISLNK(st.st_mode)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "protected path ", path, " is a symlink inside writable root ", root,
          "; it could be re-pointed, so the request is refused. Remove the symlink or "
          "do not make ", root, " writable"));
    }
    out.push_back(std::move(path));
  }
  return absl::OkStatus();
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

  if (policy.mode_ != SandboxMode::kWorkspaceWrite) {
    if (!proto.writable_roots().empty()) {
      return absl::InvalidArgumentError(
          "policy.writable_roots only apply to mode WORKSPACE_WRITE; set the mode or "
          "drop the roots");
    }
    return policy;
  }

  std::vector<std::string> roots;
  for (int i = 0; i < proto.writable_roots_size(); ++i) {
    absl::StatusOr<std::string> root = CanonicalExistingPath(
        proto.writable_roots(i), absl::StrCat("policy.writable_roots[", i, "]"));
    if (!root.ok()) return root.status();
    roots.push_back(*std::move(root));
  }
  if (!proto.exclude_cwd()) roots.push_back(cwd);
  for (const std::string& root : roots) {
    if (root == "/") {
      return absl::InvalidArgumentError(
          "a writable root of / would make everything writable; name narrower roots, "
          "set cwd to the workspace (or policy.exclude_cwd), or use DANGER_FULL_ACCESS");
    }
  }

  std::vector<std::string> names = config.protected_names;
  for (const std::string& name : proto.protected_names()) names.push_back(name);
  for (const std::string& name : names) {
    if (absl::Status s = CheckProtectedName(name); !s.ok()) return s;
  }
  for (const std::string& root : roots) {
    absl::Status s = AddProtectedSubpaths(root, names, policy.read_only_subpaths_);
    if (!s.ok()) return s;
  }
  policy.writable_roots_ = std::move(roots);
  return policy;
}

SeccompMode Policy::seccomp_mode() const {
  if (mode_ == SandboxMode::kDangerFullAccess) return SeccompMode::kNone;
  return network_ == NetworkMode::kDisabled ? SeccompMode::kRestricted
                                            : SeccompMode::kBaseline;
}

}  // namespace sandboxd

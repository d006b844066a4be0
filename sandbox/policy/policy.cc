#include "sandbox/policy/policy.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace sandboxd {
namespace {

namespace v1 = ::sandbox::v1;

absl::StatusOr<SandboxMode> ValidMode(v1::SandboxMode mode, const Config& config,
                                      const ClientGrant& grant) {
  switch (mode) {
    case v1::SANDBOX_MODE_UNSPECIFIED:
      return config.default_mode;
    case v1::READ_ONLY:
      return SandboxMode::READ_ONLY;
    case v1::WORKSPACE_WRITE:
      return SandboxMode::WORKSPACE_WRITE;
    case v1::DANGER_FULL_ACCESS:
      if (!config.allow_danger_full_access) {
        return absl::PermissionDeniedError(
            "policy.mode DANGER_FULL_ACCESS runs the command without any sandbox and is "
            "refused by this server; use WORKSPACE_WRITE, or start the server with "
            "--allow_danger_full_access");
      }
      if (!grant.allow_danger_full_access) {
        return absl::PermissionDeniedError(
            absl::StrCat(grant.rule, " does not allow DANGER_FULL_ACCESS"));
      }
      return SandboxMode::DANGER_FULL_ACCESS;
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          "policy.mode ", static_cast<int>(mode),
          " is unknown; use READ_ONLY, WORKSPACE_WRITE or DANGER_FULL_ACCESS"));
  }
}

absl::StatusOr<NetworkMode> ValidNetwork(v1::NetworkMode network, const Config& config,
                                         const ClientGrant& grant) {
  switch (network) {
    case v1::NETWORK_MODE_UNSPECIFIED:
    case v1::NETWORK_DISABLED:
      return NetworkMode::NETWORK_DISABLED;
    case v1::NETWORK_ENABLED:
      if (!config.host_network_risk.empty()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "policy.network NETWORK_ENABLED is refused by this server: ",
            config.host_network_risk));
      }
      if (!grant.allow_network) {
        return absl::PermissionDeniedError(
            absl::StrCat(grant.rule, " does not allow NETWORK_ENABLED"));
      }
      return NetworkMode::NETWORK_ENABLED;
    case v1::NETWORK_PROXY_ROUTED:
      if (!config.proxy_refused.empty()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "policy.network NETWORK_PROXY_ROUTED is refused by this server: ",
            config.proxy_refused));
      }
      if (!grant.allow_proxy) {
        return absl::PermissionDeniedError(
            absl::StrCat(grant.rule, " does not allow NETWORK_PROXY_ROUTED"));
      }
      return NetworkMode::NETWORK_PROXY_ROUTED;
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          "policy.network ", static_cast<int>(network),
          " is unknown; use NETWORK_DISABLED, NETWORK_ENABLED or NETWORK_PROXY_ROUTED"));
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

// "WHAT GIVEN" or, when the canonical path differs, "WHAT GIVEN (CANONICAL)".
std::string Named(const std::string& what, const std::string& given, const std::string& path) {
  return given == path ? absl::StrCat(what, " ", path)
                       : absl::StrCat(what, " ", given, " (", path, ")");
}

bool UnderAny(const std::string& path, const std::vector<std::string>& dirs) {
  for (const std::string& dir : dirs) {
    if (IsUnder(path, dir)) return true;
  }
  return false;
}

// The rules every writable root meets, checked on the canonical path of the directory
// that is held open and will be mounted: never the host's system directories (unless
// the operator names one), never the server's own files, and, under an operator rule,
// only below the client's prefixes.
absl::Status CheckWritable(const std::string& what, const std::string& given,
                           const std::string& path, const Config& config,
                           const ClientGrant& grant) {
  if (path == "/") {
    return absl::InvalidArgumentError(absl::StrCat(
        Named(what, given, path), ": a writable root of / would make everything writable; "
        "name narrower roots, set cwd to the workspace (or policy.exclude_cwd), or use "
        "DANGER_FULL_ACCESS"));
  }
  for (const std::string& server_path : config.server_paths) {
    if (IsUnder(path, server_path) || IsUnder(server_path, path)) {
      return absl::InvalidArgumentError(absl::StrCat(
          Named(what, given, path), " would make the server's own ", server_path,
          " writable, which no command may touch; name a directory that holds none of the "
          "server's files"));
    }
  }
  for (const char* place : kNeverWritable) {
    if (IsUnder(path, place) && !UnderAny(path, config.writable_system_paths)) {
      return absl::InvalidArgumentError(absl::StrCat(
          Named(what, given, path), " lies in ", place,
          ", which stays read-only for every command (system directories, the kernel's "
          "and the host's runtime state); name a workspace elsewhere (an operator can "
          "allow a directory there with --danger_writable_system_paths)"));
    }
  }
  if (grant.ruled && !UnderAny(path, grant.writable_prefixes)) {
    return absl::PermissionDeniedError(absl::StrCat(
        grant.rule, " does not allow writing ", path,
        grant.writable_prefixes.empty() ? " (it allows no writable roots)"
                                        : " (see its writable_root_prefixes)"));
  }
  return absl::OkStatus();
}

bool UnderAnyRoot(const std::string& path, const std::vector<OpenPath>& roots) {
  for (const OpenPath& root : roots) {
    if (IsUnder(path, root.path)) return true;
  }
  return false;
}

// Each directory is bound once: the sandbox checks, for every bind, that it is what is
// mounted at its path, which a second bind there would hide.
void AddRoot(std::vector<OpenPath>& roots, OpenPath root) {
  for (const OpenPath& known : roots) {
    if (known.path == root.path) return;
  }
  roots.push_back(std::move(root));
}

absl::StatusOr<OpenPath> OpenWritable(const std::string& what, const std::string& given,
                                      const Config& config, const ClientGrant& grant) {
  absl::StatusOr<OpenPath> root = OpenCanonical(given, what, /*directory=*/true);
  if (!root.ok()) return root.status();
  if (absl::Status s = CheckWritable(what, given, root->path, config, grant); !s.ok()) return s;
  return root;
}

// A readable root is none of the server's own (they are hidden), and under a rule that
// confines reads, what a request may read beyond the system directories lies under
// the client's prefixes.
absl::Status CheckReadable(const std::string& what, const std::string& path,
                           const Config& config, const ClientGrant& grant) {
  // The sandbox's own /proc and /dev are fresh; the host's would show the host's
  // processes (the server's own descriptors among them) and devices.
  for (const char* fresh : {"/proc", "/dev"}) {
    if (IsUnder(path, fresh)) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, " ", path, " lies in ", fresh, ", which every sandbox has a fresh one of; "
          "the host's is not for commands"));
    }
  }
  for (const std::string& server_path : config.server_paths) {
    if (IsUnder(path, server_path)) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, " ", path, " lies in the server's own ", server_path,
          ", which is hidden from every command"));
    }
  }
  if (!grant.confine_reads || UnderAny(path, grant.writable_prefixes) ||
      UnderAny(path, grant.readable_prefixes)) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(absl::StrCat(
      grant.rule, " confines reads to its writable_root_prefixes and "
      "readable_root_prefixes, and ", what, " ", path, " lies outside them"));
}

}  // namespace

absl::Status CheckConfinement(const v1::ExecRequest& request, const ClientGrant& grant) {
  if (!grant.confine_reads) return absl::OkStatus();
  auto usable = [&grant](const std::string& given, bool system_too) {
    std::string path = std::filesystem::path(given).lexically_normal().string();
    if (path.size() > 1 && path.back() == '/') path.pop_back();
    if (UnderAny(path, grant.writable_prefixes) || UnderAny(path, grant.readable_prefixes)) {
      return true;
    }
    if (!system_too) return false;
    for (const char* dir : kSystemRoots) {
      if (IsUnder(path, dir)) return true;
    }
    return path == "/";
  };
  auto refuse = [&grant](const std::string& what, const std::string& given) {
    return absl::PermissionDeniedError(absl::StrCat(
        grant.rule, " confines its client to its writable_root_prefixes and "
        "readable_root_prefixes, and ", what, " ", given, " lies outside them"));
  };
  const v1::SandboxPolicy& policy = request.policy();
  if (!request.cwd().empty() && request.cwd()[0] == '/' && !usable(request.cwd(), true)) {
    return refuse("cwd", request.cwd());
  }
  for (int i = 0; i < policy.writable_roots_size(); ++i) {
    const std::string& root = policy.writable_roots(i);
    if (!root.empty() && root[0] == '/' && !usable(root, false)) {
      return refuse(absl::StrCat("policy.writable_roots[", i, "]"), root);
    }
  }
  for (int i = 0; i < policy.readable_roots_size(); ++i) {
    const std::string& root = policy.readable_roots(i);
    if (!root.empty() && root[0] == '/' && !usable(root, false)) {
      return refuse(absl::StrCat("policy.readable_roots[", i, "]"), root);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Policy> Policy::Create(const v1::SandboxPolicy& proto,
                                      const std::string& cwd, const Config& config,
                                      const ClientGrant& grant) {
  Policy policy;
  absl::StatusOr<SandboxMode> mode = ValidMode(proto.mode(), config, grant);
  if (!mode.ok()) return mode.status();
  policy.mode_ = *mode;
  absl::StatusOr<NetworkMode> network = ValidNetwork(proto.network(), config, grant);
  if (!network.ok()) return network.status();
  policy.network_ = *network;
  if (absl::Status s = policy.SetProxyGrant(proto, config, grant); !s.ok()) return s;
  policy.private_tmp_ = config.private_tmp;
  policy.mount_proc_ = config.mount_proc;
  if (absl::Status s = policy.SetWritableRoots(proto, cwd, config, grant); !s.ok()) return s;
  if (absl::Status s = policy.SetReadRules(proto, cwd, config, grant); !s.ok()) return s;
  return policy;
}

// The ceiling is the client's rule where it names domains, else the server's; a
// rule's own list lies within the server's (checked when the policy file is read).
absl::Status Policy::SetProxyGrant(const v1::SandboxPolicy& proto, const Config& config,
                                   const ClientGrant& grant) {
  if (network_ == NetworkMode::NETWORK_PROXY_ROUTED && mode_ == SandboxMode::DANGER_FULL_ACCESS) {
    return absl::InvalidArgumentError(
        "policy.network NETWORK_PROXY_ROUTED needs a sandbox, and DANGER_FULL_ACCESS runs "
        "the command on the host's network; use WORKSPACE_WRITE");
  }
  if (network_ != NetworkMode::NETWORK_PROXY_ROUTED) {
    if (!proto.allow_domains().empty() || !proto.deny_domains().empty() ||
        proto.network_read_only()) {
      return absl::InvalidArgumentError(
          "policy.allow_domains, deny_domains and network_read_only only apply to network "
          "NETWORK_PROXY_ROUTED; set it or drop them");
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<HostPattern>> allow = ParsePatterns(
      {proto.allow_domains().begin(), proto.allow_domains().end()}, "policy.allow_domains");
  if (!allow.ok()) return allow.status();
  absl::StatusOr<std::vector<HostPattern>> deny = ParsePatterns(
      {proto.deny_domains().begin(), proto.deny_domains().end()}, "policy.deny_domains");
  if (!deny.ok()) return deny.status();
  RuleCeiling ceiling = config.proxy_rules;
  std::string owner = "this server";
  if (!grant.proxy_allow.empty()) {
    ceiling.allow = grant.proxy_allow;
    ceiling.any_domain = false;
    owner = grant.rule;
  }
  ceiling.deny.insert(ceiling.deny.end(), grant.proxy_deny.begin(), grant.proxy_deny.end());
  absl::StatusOr<DomainRules> rules = Narrow(ceiling, *allow, *deny, owner);
  if (!rules.ok()) return rules.status();
  proxy_grant_.emplace();
  for (const HostPattern& pattern : rules->allow) proxy_grant_->add_allow(pattern.ToString());
  for (const HostPattern& pattern : rules->deny) proxy_grant_->add_deny(pattern.ToString());
  proxy_grant_->set_read_only(proto.network_read_only());
  proxy_grant_->set_max_connections(config.proxy_max_connections);
  proxy_grant_->set_max_bytes(config.proxy_max_bytes);
  proxy_grant_->mutable_idle_timeout()->set_seconds(
      absl::ToInt64Seconds(config.proxy_idle_timeout));
  return absl::OkStatus();
}

absl::Status Policy::SetWritableRoots(const v1::SandboxPolicy& proto, const std::string& cwd,
                                      const Config& config, const ClientGrant& grant) {
  if (mode_ != SandboxMode::WORKSPACE_WRITE) {
    if (!proto.writable_roots().empty() || proto.allow_git_writes()) {
      return absl::InvalidArgumentError(
          "policy.writable_roots and policy.allow_git_writes only apply to mode "
          "WORKSPACE_WRITE; set the mode or drop them");
    }
    return absl::OkStatus();
  }
  for (int i = 0; i < proto.writable_roots_size(); ++i) {
    absl::StatusOr<OpenPath> root = OpenWritable(
        absl::StrCat("policy.writable_roots[", i, "]"), proto.writable_roots(i), config, grant);
    if (!root.ok()) return root.status();
    AddRoot(writable_roots_, *std::move(root));
  }
  if (!proto.exclude_cwd()) {
    if (cwd == "/") {
      return absl::InvalidArgumentError(
          "WORKSPACE_WRITE makes the cwd writable, and the cwd is / (what a request that sets "
          "none gets); set cwd to the workspace, or set policy.exclude_cwd and name "
          "policy.writable_roots");
    }
    absl::StatusOr<OpenPath> root = OpenWritable("cwd", cwd, config, grant);
    if (!root.ok()) return root.status();
    AddRoot(writable_roots_, *std::move(root));
  }
  absl::StatusOr<std::vector<std::string>> names = ProtectedNames(proto, config);
  if (!names.ok()) return names.status();
  protected_names_ = *std::move(names);
  return absl::OkStatus();
}

absl::Status Policy::SetReadRules(const v1::SandboxPolicy& proto, const std::string& cwd,
                                  const Config& config, const ClientGrant& grant) {
  restrict_reads_ = !proto.readable_roots().empty() || grant.confine_reads;
  for (int i = 0; i < proto.readable_roots_size(); ++i) {
    std::string what = absl::StrCat("policy.readable_roots[", i, "]");
    absl::StatusOr<OpenPath> root = OpenCanonical(proto.readable_roots(i), what, true);
    if (!root.ok()) return root.status();
    if (absl::Status s = CheckReadable(what, root->path, config, grant); !s.ok()) return s;
    // One under a writable root is visible already (and its bind would be covered).
    if (!UnderAnyRoot(root->path, writable_roots_)) AddRoot(readable_roots_, *std::move(root));
  }
  // The cwd stays visible (read-only where it is not writable), even below a private
  // /tmp or outside the readable roots.
  if (!Visible(cwd)) {
    if (absl::Status s = CheckReadable("cwd", cwd, config, grant); !s.ok()) return s;
    absl::StatusOr<OpenPath> root = OpenCanonical(cwd, "cwd", true);
    if (!root.ok()) return root.status();
    AddRoot(readable_roots_, *std::move(root));
  }

  std::vector<std::string> denied = config.deny_read;
  denied.insert(denied.end(), proto.deny_read().begin(), proto.deny_read().end());
  for (const std::string& path : denied) {
    if (path.empty() || path[0] != '/') {
      return absl::InvalidArgumentError(
          absl::StrCat("deny_read path \"", path, "\" must be absolute"));
    }
  }
  auto hide = [this](const std::string& path) {
    char resolved[PATH_MAX];
    struct stat st;
    if (realpath(path.c_str(), resolved) == nullptr || stat(resolved, &st) != 0) return;
    if (!Visible(resolved)) return;  // bwrap could not mount over what is absent.
    std::vector<std::string>& hidden = S_ISDIR(st.st_mode) ? hidden_dirs_ : hidden_files_;
    if (std::find(hidden.begin(), hidden.end(), resolved) == hidden.end()) {
      hidden.push_back(resolved);
    }
  };
  for (const std::string& path : denied) hide(path);
  hides_denied_paths_ = !hidden_dirs_.empty() || !hidden_files_.empty();
  // The server's own files go last, so that nothing of the request's can expose them.
  for (const std::string& path : config.hidden_server_paths) hide(path);
  // What lies in a hidden directory is hidden with it, and bwrap could not mount over
  // it anyway: the empty directory has no such path.
  auto in_hidden_dir = [this](const std::string& path) {
    for (const std::string& dir : hidden_dirs_) {
      if (path != dir && IsUnder(path, dir)) return true;
    }
    return false;
  };
  for (std::vector<std::string>* hidden : {&hidden_dirs_, &hidden_files_}) {
    hidden->erase(std::remove_if(hidden->begin(), hidden->end(), in_hidden_dir), hidden->end());
  }
  return absl::OkStatus();
}

bool Policy::Visible(const std::string& path) const {
  // A fresh /dev and /proc hold nothing of the host's, nor does a private /tmp but for
  // the roots bound into it.
  if (IsUnder(path, "/dev") || IsUnder(path, "/proc")) return false;
  bool in_tmp = private_tmp_ && IsUnder(path, "/tmp");
  if (!in_tmp) {
    if (!restrict_reads_ || path == "/") return true;
    for (const char* dir : kSystemRoots) {
      if (IsUnder(path, dir)) return true;
    }
  }
  for (const std::vector<OpenPath>* roots : {&readable_roots_, &writable_roots_}) {
    for (const OpenPath& root : *roots) {
      if (IsUnder(path, root.path)) return true;
    }
  }
  return false;
}

SeccompMode Policy::seccomp_mode() const {
  if (mode_ == SandboxMode::DANGER_FULL_ACCESS) return SeccompMode::SECCOMP_NONE;
  switch (network_) {
    case NetworkMode::NETWORK_DISABLED:
      return SeccompMode::SECCOMP_RESTRICTED;
    case NetworkMode::NETWORK_PROXY_ROUTED:
      return SeccompMode::SECCOMP_PROXY_ROUTED;
    default:
      return SeccompMode::SECCOMP_BASELINE;
  }
}

}  // namespace sandboxd

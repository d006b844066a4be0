#ifndef SANDBOXD_SANDBOX_CONFIG_H_
#define SANDBOXD_SANDBOX_CONFIG_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "sandbox/limits.h"

namespace sandboxd {

enum class SandboxMode { kReadOnly, kWorkspaceWrite, kDangerFullAccess };
enum class NetworkMode { kDisabled, kEnabled };
enum class SeccompMode { kNone, kBaseline, kRestricted, kProxyRouted };
enum class Backend { kNone, kBwrap, kLandlock };

// The operator's settings that every request is validated against and completed with.
// The server fills it from its flags; tests build it directly.
struct Config {
  // What enforces sandboxed policies: kBwrap where user namespaces work, else
  // kLandlock (see host_features.h).
  Backend backend = Backend::kBwrap;
  std::string bwrap_path = "/usr/bin/bwrap";
  std::string landlock_exec_path;
  // Whether sandboxes get a fresh /proc; hosts that refuse to mount one get an empty
  // /proc instead.
  bool mount_proc = true;
  // Landlock cannot keep a protected path inside a writable root read-only. Without
  // this, such requests are refused under the landlock backend.
  bool danger_landlock_unprotected_paths = false;
  // Mode of a request that names none.
  SandboxMode default_mode = SandboxMode::kReadOnly;
  // Whether a request may ask for no sandbox at all.
  bool allow_danger_full_access = false;
  // Names kept read-only under every writable root, besides those a request adds.
  std::vector<std::string> protected_names = {".git"};
  // Absolute paths no command may read (the server's own config and secrets, ...).
  std::vector<std::string> deny_read;
  // Whether each command gets an empty /tmp of its own (else the host's, read-only).
  bool private_tmp = true;
  absl::Duration default_timeout = absl::Seconds(60);
  absl::Duration max_timeout = absl::Hours(1);
  // Per stream (stdout and stderr each).
  size_t default_output_limit = size_t{1} << 20;
  size_t max_output_limit = size_t{64} << 20;
  // Ceilings of the limits, also their defaults; zero: no ceiling.
  Limits max_limits;
  // sandboxd-launch, which joins cgroups and sets rlimits before the sandbox starts.
  std::string launcher_path;
  // Whether to give each command a cgroup, where the host lets the server make them.
  bool use_cgroups = true;
  // With cgroups: how many launchers to keep started ahead of demand, each already in
  // a fresh cgroup (launcher_pool.h); 0 starts each with its request.
  int prestarted_launchers = 4;
};

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_CONFIG_H_

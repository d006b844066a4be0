#ifndef SANDBOXD_SANDBOX_POLICY_CONFIG_H_
#define SANDBOXD_SANDBOX_POLICY_CONFIG_H_

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "sandbox/policy/limits.h"
#include "sandbox/net/proxy_rules.h"
#include "sandbox/v1/sandbox.pb.h"

namespace sandboxd {

// The wire API's enums (sandbox.proto) are the ones the code uses: each exists once.
// What a request names is checked where it is validated (policy.h), so that a value
// this server does not know is refused there and nowhere else needs to expect one.
using ::sandbox::v1::Backend;
using ::sandbox::v1::NetworkMode;
using ::sandbox::v1::SandboxMode;
using ::sandbox::v1::SeccompMode;

// A host user that commands run as.
struct HostUser {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
};

// What the operator's rule for the calling client (--policy_file) lets its requests
// reach in the filesystem. The default, without a rule, bounds nothing.
struct ClientGrant {
  // Whether a rule applies at all.
  bool ruled = false;
  // Names the rule in messages: "the policy rule for client ci-runner".
  std::string rule;
  // With `ruled`: every writable root (the cwd included) lies under one of these
  // absolute prefixes; none: WORKSPACE_WRITE is refused.
  std::vector<std::string> writable_prefixes;
  // Reads are confined to the system directories, the writable roots and cwd, and
  // readable roots under `writable_prefixes` or `readable_prefixes`; the rest of the
  // host (other tenants' workspaces among it) is absent from the sandbox.
  bool confine_reads = false;
  std::vector<std::string> readable_prefixes;
  // Whether the rule lets requests have the host's network, and no sandbox at all
  // (both still need the server's flags to allow them).
  bool allow_network = true;
  bool allow_danger_full_access = true;
  // The rule's ceilings (zero: the server's alone), which are also the defaults of what
  // a request leaves unset.
  absl::Duration max_timeout = absl::ZeroDuration();
  Limits max_limits;
  // NETWORK_PROXY_ROUTED: whether the rule lets requests have it; the domains they may
  // allow (empty: the server's), each within the server's; domains refused besides
  // the server's.
  bool allow_proxy = true;
  std::vector<HostPattern> proxy_allow;
  std::vector<HostPattern> proxy_deny;
};

// The operator's settings that every request is validated against and completed with.
// The server fills it from its flags; tests build it directly.
struct Config {
  // What enforces sandboxed policies: BACKEND_BWRAP where user namespaces work, else
  // BACKEND_LANDLOCK (see host_features.h).
  Backend backend = Backend::BACKEND_BWRAP;
  std::string bwrap_path = "/usr/bin/bwrap";
  std::string landlock_exec_path;
  // Whether sandboxes get a fresh /proc; hosts that refuse to mount one get an empty
  // /proc instead.
  bool mount_proc = true;
  // Landlock cannot keep a protected path inside a writable root read-only. Without
  // this, such requests are refused under the landlock backend.
  bool danger_landlock_unprotected_paths = false;
  // Mode of a request that names none.
  SandboxMode default_mode = SandboxMode::READ_ONLY;
  // Whether a request may ask for no sandbox at all.
  bool allow_danger_full_access = false;
  // Names kept read-only under every writable root, besides those a request adds.
  std::vector<std::string> protected_names = {".git"};
  // Absolute paths no command may read (the server's own config and secrets, ...).
  std::vector<std::string> deny_read;
  // Whether each command gets an empty /tmp of its own (else the host's, read-only).
  bool private_tmp = true;
  // The server's own files and directories (tokens, TLS files, policy file, socket
  // and state directories), absolute: never writable, nor any directory holding one,
  // nor a readable root.
  std::vector<std::string> server_paths;
  // Those of them that the commands' user can reach: hidden from every command,
  // whatever its request says (bwrap, as that user, cannot even name the others to
  // mount over them, nor can the command).
  std::vector<std::string> hidden_server_paths;
  // Directories inside the never-writable system places (/etc, /usr, /run, ...) that
  // the operator lets requests make writable (--danger_writable_system_paths).
  std::vector<std::string> writable_system_paths;
  // Why a command with the host's network could call the server back with more
  // authority than its request had (an unauthenticated TCP listener, ...); empty when
  // it cannot. Non-empty: NETWORK_ENABLED is refused, saying this.
  std::string host_network_risk;
  // The user commands run as, when not the server's own: a server running as root
  // hands them to an unprivileged user (sandboxd-launch switches before the sandbox
  // starts). Empty: the server's user.
  std::optional<HostUser> command_user;
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
  // Whether process limits are enforced here: commands do get cgroups (Runner::Create
  // says). Without, no process ceiling is a default, as it would refuse everything.
  bool enforces_processes = false;
  // Where the server keeps what must outlive it (the journal of placeholders, see
  // protection.h); empty: nowhere.
  std::string state_dir;
  // An empty directory the commands' user may enter (below the state directory), on
  // which sandboxd-launch exposes a sandbox's descriptors in a mount namespace of its
  // own (BwrapOptions::exposed_at); empty: bwrap binds them itself.
  std::string bind_dir;
  // A copy of sandboxd-launch that the commands' user can reach (in the state
  // directory), which checks each bwrap sandbox's binds from inside it
  // (BwrapOptions::verifier); empty: no check.
  std::string verifier_path;
  // A copy of sandboxd-helper likewise, which terminals and file calls run inside
  // their sandboxes (sandbox/inside/); empty: neither is served.
  std::string helper_path;
  // With cgroups: how many launchers to keep started ahead of demand, each already in
  // a fresh cgroup (launcher_pool.h); 0 starts each with its request.
  int prestarted_launchers = 4;
  // NETWORK_PROXY_ROUTED: why this server cannot serve it (it runs no proxy, its
  // backend gives commands no network namespace), empty when it can; Runner::Create
  // says.
  std::string proxy_refused = "the server runs no proxy (--proxy=off)";
  // The domains requests may allow through the proxy (any_domain: whatever they
  // name), and those refused to all (--proxy_allow_domain, --proxy_deny_domain).
  RuleCeiling proxy_rules{{}, {}, /*any_domain=*/true};
  // Each proxy-routed request's bounds in the proxy: connections open at once, bytes
  // relayed, and how long a connection may pass nothing.
  uint32_t proxy_max_connections = 64;
  uint64_t proxy_max_bytes = uint64_t{4} << 30;
  absl::Duration proxy_idle_timeout = absl::Minutes(5);
};

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_POLICY_CONFIG_H_

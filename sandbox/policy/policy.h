#ifndef SANDBOXD_SANDBOX_POLICY_POLICY_H_
#define SANDBOXD_SANDBOX_POLICY_POLICY_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sandbox/policy/config.h"
#include "sandbox/policy/open_path.h"
#include "sandbox/v1/sandbox.pb.h"
#include "sandboxd/proxy/v1/proxy.pb.h"

namespace sandboxd {

using ::sandboxd::proxy::v1::Grant;

// Under a grant that confines reads: PERMISSION_DENIED for a cwd, writable root or
// readable root of `request` that lies, as written (`..` resolved, symlinks not),
// outside what the grant lets the client use. Checked before any path is looked up,
// so that the answer says nothing of what exists where the client may not look.
absl::Status CheckConfinement(const sandbox::v1::ExecRequest& request, const ClientGrant& grant);

// The system directories a program needs, readable even when a policy restricts reads
// to its readable roots.
inline constexpr const char* kSystemRoots[] = {"/usr",  "/bin",  "/sbin",   "/lib",
                                               "/lib32", "/lib64", "/libx32", "/etc"};

// Places no command may write, whatever its request says, unless the operator names a
// directory inside one (Config::writable_system_paths). "/" itself is refused as a
// writable root; what lies below it is not.
inline constexpr const char* kNeverWritable[] = {
    "/etc",  "/usr", "/bin",  "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
    "/boot", "/root", "/dev", "/proc", "/sys", "/run"};

// A sandbox policy that passed validation. It can only be made by Create(), so code
// that receives one may trust it: paths are absolute and canonical, and the roots it
// binds are held open as they were when checked (a rename or symlink swap afterwards
// cannot change what gets mounted); the mode is one the operator allows.
class Policy {
 public:
  // Validates `proto` for a command that will run in `cwd` (absolute and canonical),
  // filling defaults from `config`, within what `grant` lets the calling client reach.
  // Errors:
  //   INVALID_ARGUMENT     relative, missing or unusable paths; unknown enum values;
  //                        a writable root in a never-writable place or holding the
  //                        server's own files.
  //   PERMISSION_DENIED    DANGER_FULL_ACCESS without --allow_danger_full_access; a
  //                        root outside the client's prefixes.
  //   FAILED_PRECONDITION  a network mode this server cannot enforce, or
  //                        NETWORK_ENABLED where a command could call the server back.
  static absl::StatusOr<Policy> Create(const sandbox::v1::SandboxPolicy& proto,
                                       const std::string& cwd, const Config& config,
                                       const ClientGrant& grant = {});

  SandboxMode mode() const { return mode_; }
  NetworkMode network() const { return network_; }
  // The filter the command runs under, derived from mode and network.
  SeccompMode seccomp_mode() const;
  bool private_tmp() const { return private_tmp_; }
  // Whether the sandbox gets a fresh /proc (false on hosts that refuse to mount one).
  bool mount_proc() const { return mount_proc_; }
  // Whether the command sees only the system directories, the readable roots and the
  // writable roots, instead of the whole host filesystem.
  bool restrict_reads() const { return restrict_reads_; }
  // With restrict_reads: the directories bound read-only besides the system ones (the
  // cwd among them unless it is visible otherwise).
  const std::vector<OpenPath>& readable_roots() const { return readable_roots_; }
  // Directories bound writable, in the order given (cwd last unless excluded).
  const std::vector<OpenPath>& writable_roots() const { return writable_roots_; }
  // The relative names kept read-only under every writable root (see protection.h).
  const std::vector<std::string>& protected_names() const { return protected_names_; }
  // Paths hidden from the command that it could otherwise see: the request's and the
  // operator's deny_read, and the server's own files.
  const std::vector<std::string>& hidden_dirs() const { return hidden_dirs_; }
  const std::vector<std::string>& hidden_files() const { return hidden_files_; }
  // Whether any of them is a deny_read path, the request's or the operator's (the
  // server's own files lie where no command can move them; those may not).
  bool hides_denied_paths() const { return hides_denied_paths_; }
  // NETWORK_PROXY_ROUTED: what the command's connections may do in the proxy, the
  // request's domains narrowed by the operator's; unset otherwise.
  const std::optional<Grant>& proxy_grant() const { return proxy_grant_; }

 private:
  Policy() = default;
  absl::Status SetProxyGrant(const sandbox::v1::SandboxPolicy& proto, const Config& config,
                             const ClientGrant& grant);
  absl::Status SetWritableRoots(const sandbox::v1::SandboxPolicy& proto,
                                const std::string& cwd, const Config& config,
                                const ClientGrant& grant);
  absl::Status SetReadRules(const sandbox::v1::SandboxPolicy& proto, const std::string& cwd,
                            const Config& config, const ClientGrant& grant);
  // Whether the command can see `path` (canonical) in its sandbox, given the roots.
  bool Visible(const std::string& path) const;

  SandboxMode mode_ = SandboxMode::READ_ONLY;
  NetworkMode network_ = NetworkMode::NETWORK_DISABLED;
  bool private_tmp_ = true;
  bool mount_proc_ = true;
  bool restrict_reads_ = false;
  std::vector<OpenPath> readable_roots_;
  std::vector<OpenPath> writable_roots_;
  std::vector<std::string> protected_names_;
  std::vector<std::string> hidden_dirs_;
  std::vector<std::string> hidden_files_;
  bool hides_denied_paths_ = false;
  std::optional<Grant> proxy_grant_;
};

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_POLICY_POLICY_H_

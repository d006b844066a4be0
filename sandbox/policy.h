#ifndef SANDBOXD_SANDBOX_POLICY_H_
#define SANDBOXD_SANDBOX_POLICY_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sandbox/config.h"
#include "sandbox/v1/sandbox.pb.h"

namespace sandboxd {

// The system directories a program needs, readable even when a policy restricts reads
// to its readable roots.
inline constexpr const char* kSystemRoots[] = {"/usr",  "/bin",  "/sbin",   "/lib",
                                               "/lib32", "/lib64", "/libx32", "/etc"};

// A sandbox policy that passed validation. It can only be made by Create(), so code
// that receives one may trust it: paths are absolute, canonical and were checked
// against the filesystem at validation time, and the mode is one the operator allows.
class Policy {
 public:
  // Validates `proto` for a command that will run in `cwd` (absolute and canonical),
  // filling defaults from `config`. Errors:
  //   INVALID_ARGUMENT     relative, missing or unusable paths; unknown enum values;
  //                        a protected path that is a symlink.
  //   PERMISSION_DENIED    DANGER_FULL_ACCESS without --allow_danger_full_access.
  //   FAILED_PRECONDITION  a network mode this server cannot enforce.
  static absl::StatusOr<Policy> Create(const sandbox::v1::SandboxPolicy& proto,
                                       const std::string& cwd, const Config& config);

  SandboxMode mode() const { return mode_; }
  NetworkMode network() const { return network_; }
  // The filter the command runs under, derived from mode and network.
  SeccompMode seccomp_mode() const;
  bool private_tmp() const { return private_tmp_; }
  // Whether the sandbox gets a fresh /proc (false on hosts that refuse to mount one).
  bool mount_proc() const { return mount_proc_; }
  // Empty: the whole filesystem is readable. Otherwise the only readable directories
  // besides the system ones (the cwd included).
  const std::vector<std::string>& readable_roots() const { return readable_roots_; }
  // Directories bound writable, in the order given (cwd last unless excluded).
  const std::vector<std::string>& writable_roots() const { return writable_roots_; }
  // Existing protected paths under the writable roots, re-bound read-only.
  const std::vector<std::string>& read_only_subpaths() const { return read_only_subpaths_; }
  // The first missing component of each absent protected path: covered with /dev/null
  // while the command runs, so that it cannot be created.
  const std::vector<std::string>& placeholders() const { return placeholders_; }
  // Existing paths hidden from the command.
  const std::vector<std::string>& hidden_dirs() const { return hidden_dirs_; }
  const std::vector<std::string>& hidden_files() const { return hidden_files_; }

 private:
  Policy() = default;
  absl::Status SetWritableRoots(const sandbox::v1::SandboxPolicy& proto,
                                const std::string& cwd, const Config& config);
  absl::Status SetReadRules(const sandbox::v1::SandboxPolicy& proto, const std::string& cwd,
                            const Config& config);

  SandboxMode mode_ = SandboxMode::kReadOnly;
  NetworkMode network_ = NetworkMode::kDisabled;
  bool private_tmp_ = true;
  bool mount_proc_ = true;
  std::vector<std::string> readable_roots_;
  std::vector<std::string> writable_roots_;
  std::vector<std::string> read_only_subpaths_;
  std::vector<std::string> placeholders_;
  std::vector<std::string> hidden_dirs_;
  std::vector<std::string> hidden_files_;
};

// Resolves `path` to an absolute canonical path of something that exists.
// `what` names the field in error messages ("cwd", "writable_roots[2]").
absl::StatusOr<std::string> CanonicalExistingPath(const std::string& path,
                                                  const std::string& what);

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_POLICY_H_

#include "sandbox/plan/landlock_args.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/fd_layout.h"

namespace sandboxd {
namespace {

// Device files every command may write (the rest of /dev stays read-only).
constexpr const char* kWritableDevices[] = {"/dev/null", "/dev/zero", "/dev/full"};

constexpr char kNoUserNamespaces[] =
    " needs the bwrap backend, and this host cannot create user namespaces (see "
    "GetCapabilities); run the server where it can";

}  // namespace

absl::Status CheckLandlockEnforceable(const Policy& policy, bool allow_unprotected,
                                      const LandlockBase& base) {
  for (const std::vector<std::string>* hidden : {&policy.hidden_dirs(), &policy.hidden_files()}) {
    for (const std::string& path : *hidden) {
      if (std::find(base.hidden.begin(), base.hidden.end(), path) == base.hidden.end()) {
        return absl::FailedPreconditionError(absl::StrCat("deny_read", kNoUserNamespaces));
      }
    }
  }
  if (allow_unprotected || policy.writable_roots().empty() ||
      policy.protected_names().empty()) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "keeping protected paths (", policy.protected_names().front(), ", ...) read-only inside "
      "writable root ", policy.writable_roots().front().path, kNoUserNamespaces,
      ", or start it with --danger_landlock_unprotected_paths to accept the risk"));
}

namespace {

void AddFd(const char* option, const OpenPath& path, SandboxCommand& out) {
  out.argv.insert(out.argv.end(),
                  {option, std::to_string(kFirstPassedFd + out.fds.size())});
  out.fds.push_back(path.fd);
  out.fd_paths.push_back(path.path);
}

}  // namespace

SandboxCommand LandlockArgs(const std::string& helper_path, const Policy& policy,
                            const std::string& cwd, const LandlockBase& base,
                            const std::vector<std::string>& command,
                            const std::string& temp_dir) {
  SandboxCommand out;
  out.argv = {helper_path};
  if (!temp_dir.empty()) out.argv.insert(out.argv.end(), {"--write", temp_dir});
  for (const std::string& path : policy.restrict_reads() ? base.system : base.readable) {
    out.argv.insert(out.argv.end(), {"--read", path});
  }
  // The readable roots, and the cwd where it is not readable otherwise (below /tmp).
  for (const OpenPath& root : policy.readable_roots()) AddFd("--read-fd", root, out);
  for (const char* device : kWritableDevices) out.argv.insert(out.argv.end(), {"--write", device});
  for (const OpenPath& root : policy.writable_roots()) AddFd("--write-fd", root, out);
  if (policy.network() == NetworkMode::NETWORK_DISABLED) out.argv.push_back("--no-network");
  out.argv.insert(out.argv.end(),
                  {"--chdir", cwd, "--seccomp-fd", std::to_string(kSeccompFd), "--"});
  out.argv.insert(out.argv.end(), command.begin(), command.end());
  return out;
}

}  // namespace sandboxd

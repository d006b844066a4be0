#include "sandbox/landlock_args.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "sandbox/worker.h"

namespace sandboxd {
namespace {

// Device files every command may write (the rest of /dev stays read-only).
constexpr const char* kWritableDevices[] = {"/dev/null", "/dev/zero", "/dev/full"};

constexpr char kNoUserNamespaces[] =
    " needs the bwrap backend, and this host cannot create user namespaces (see "
    "GetCapabilities); run the server where it can";

absl::Status CheckEnforceable(const Policy& policy, bool allow_unprotected) {
  if (!policy.hidden_dirs().empty() || !policy.hidden_files().empty()) {
    return absl::FailedPreconditionError(absl::StrCat("deny_read", kNoUserNamespaces));
  }
  if (allow_unprotected) return absl::OkStatus();
  if (!policy.read_only_subpaths().empty() || !policy.placeholders().empty()) {
    const std::string& path = policy.read_only_subpaths().empty()
                                  ? policy.placeholders().front()
                                  : policy.read_only_subpaths().front();
    return absl::FailedPreconditionError(absl::StrCat(
        "keeping protected path ", path, " read-only inside a writable root",
        kNoUserNamespaces,
        ", or start it with --danger_landlock_unprotected_paths to accept the risk"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<std::string>> LandlockArgs(const std::string& helper_path,
                                                      const Policy& policy,
                                                      const std::string& cwd,
                                                      bool allow_unprotected,
                                                      const std::vector<std::string>& readable_base,
                                                      const std::vector<std::string>& command) {
  if (absl::Status s = CheckEnforceable(policy, allow_unprotected); !s.ok()) return s;
  std::vector<std::string> args = {helper_path};
  if (policy.readable_roots().empty()) {
    for (const std::string& path : readable_base) args.insert(args.end(), {"--read", path});
    // The base leaves /tmp out; a cwd below it stays readable, as under bwrap.
    if (cwd == "/tmp" || cwd.rfind("/tmp/", 0) == 0) args.insert(args.end(), {"--read", cwd});
  } else {
    for (const char* dir : kSystemRoots) args.insert(args.end(), {"--read", dir});
    for (const std::string& root : policy.readable_roots()) {
      args.insert(args.end(), {"--read", root});
    }
  }
  for (const char* device : kWritableDevices) args.insert(args.end(), {"--write", device});
  for (const std::string& root : policy.writable_roots()) {
    args.insert(args.end(), {"--write", root});
  }
  if (policy.network() == NetworkMode::kDisabled) args.push_back("--no-network");
  args.insert(args.end(), {"--chdir", cwd, "--seccomp-fd", std::to_string(kSeccompFd), "--"});
  args.insert(args.end(), command.begin(), command.end());
  return args;
}

}  // namespace sandboxd

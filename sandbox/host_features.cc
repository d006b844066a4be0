#include "sandbox/host_features.h"

#include <linux/landlock.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "sandbox/exec/worker.h"

namespace sandboxd {
namespace {

// Runs bwrap with `args` around /bin/true, behind `run_as`; true when it ran and
// exited 0.
bool BwrapRuns(const std::vector<std::string>& run_as, const std::string& bwrap_path,
               std::vector<std::string> args, std::string* output = nullptr) {
  Launch launch;
  launch.argv = run_as;
  launch.argv.push_back(bwrap_path);
  launch.argv.insert(launch.argv.end(), args.begin(), args.end());
  launch.env = {"PATH=/usr/bin:/bin"};
  launch.timeout = absl::Seconds(10);
  launch.output_limit = 4096;
  absl::StatusOr<RunResult> result = RunWorker(launch);
  if (!result.ok()) return false;
  if (output != nullptr) *output = result->stdout_data.Contents();
  return result->termination == Termination::EXITED && result->exit_code == 0;
}

}  // namespace

int LandlockAbi() {
  long abi = syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  return abi > 0 ? static_cast<int>(abi) : 0;
}

HostFeatures DetectHostFeatures(const std::string& bwrap_path,
                                const std::vector<std::string>& run_as) {
  HostFeatures features;
  std::string version;
  if (BwrapRuns(run_as, bwrap_path, {"--version"}, &version)) {
    features.bwrap_version = std::string(absl::StripAsciiWhitespace(version));
  } else {
    features.notes.push_back(absl::StrCat("bwrap does not run at ", bwrap_path,
                                          ": the bwrap backend is unavailable"));
  }
  if (!features.bwrap_version.empty()) {
    std::vector<std::string> args = {"--unshare-user", "--unshare-pid", "--ro-bind", "/", "/",
                                     "--dev", "/dev"};
    std::vector<std::string> with_proc = args;
    with_proc.insert(with_proc.end(), {"--proc", "/proc", "--", "/bin/true"});
    args.insert(args.end(), {"--", "/bin/true"});
    features.user_namespaces = BwrapRuns(run_as, bwrap_path, args);
    features.proc_mount = features.user_namespaces && BwrapRuns(run_as, bwrap_path, with_proc);
  }
  if (!features.bwrap_version.empty() && !features.user_namespaces) {
    features.notes.push_back(
        "bwrap cannot create user namespaces here (a container's seccomp profile or a "
        "kernel setting refuses them): the bwrap backend is unavailable");
  }
  if (features.user_namespaces && !features.proc_mount) {
    features.notes.push_back("a fresh /proc cannot be mounted here: sandboxes get an empty /proc");
  }
  features.landlock_abi = LandlockAbi();
  if (features.landlock_abi == 0) {
    features.notes.push_back("the kernel offers no Landlock: the landlock backend is unavailable");
  }
  features.seccomp = prctl(PR_GET_SECCOMP) >= 0;
  if (!features.seccomp) features.notes.push_back("the kernel has no seccomp");
  return features;
}

}  // namespace sandboxd

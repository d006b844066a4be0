#ifndef SANDBOXD_SANDBOX_HOST_FEATURES_H_
#define SANDBOXD_SANDBOX_HOST_FEATURES_H_

#include <string>
#include <vector>

namespace sandboxd {

// What the host lets a sandbox use, found by trying it at start-up.
struct HostFeatures {
  // bwrap could create its namespaces (Docker's default seccomp profile, for one,
  // refuses new user namespaces).
  bool user_namespaces = false;
  // bwrap could mount a fresh /proc (some containers refuse it).
  bool proc_mount = false;
  // The Landlock ABI version the kernel offers; 0 without Landlock.
  int landlock_abi = 0;
  // seccomp filters are available.
  bool seccomp = false;
  // What `bwrap --version` printed, or empty when bwrap does not run.
  std::string bwrap_version;
  // One sentence for each missing feature: what is missing and what follows.
  std::vector<std::string> notes;
};

// Probes the host by running bwrap at `bwrap_path` a few times, behind `run_as` (a
// sandboxd-launch command line up to "--" that makes it the commands' user, or
// nothing), asking the kernel for its Landlock ABI, and checking for seccomp. Takes
// tens of milliseconds.
HostFeatures DetectHostFeatures(const std::string& bwrap_path,
                                const std::vector<std::string>& run_as = {});

// The Landlock ABI version of this kernel, 0 when it has none.
int LandlockAbi();

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_HOST_FEATURES_H_

#ifndef SANDBOXD_SANDBOX_LAUNCHER_RLIMIT_FLAGS_H_
#define SANDBOXD_SANDBOX_LAUNCHER_RLIMIT_FLAGS_H_

#include <sys/resource.h>

#include "sandboxd/launch/v1/launch.pb.h"

namespace sandboxd {

// Each rlimit a LaunchOrder may set: sandboxd-launch's option for it (what
// LauncherArgs writes and launch_main.cc reads), the resource it sets, and what a
// failure to set it is called.
struct RlimitFlag {
  launch::v1::Resource resource;
  const char* flag;
  int which;
  const char* name;
};

inline constexpr RlimitFlag kRlimitFlags[] = {
    {launch::v1::CPU, "--cpu", RLIMIT_CPU, "setrlimit RLIMIT_CPU"},
    {launch::v1::AS, "--as", RLIMIT_AS, "setrlimit RLIMIT_AS"},
    {launch::v1::FSIZE, "--fsize", RLIMIT_FSIZE, "setrlimit RLIMIT_FSIZE"},
    {launch::v1::NOFILE, "--nofile", RLIMIT_NOFILE, "setrlimit RLIMIT_NOFILE"},
};

// The entry for `resource`; null for one it does not know.
inline const RlimitFlag* RlimitOf(launch::v1::Resource resource) {
  for (const RlimitFlag& flag : kRlimitFlags) {
    if (flag.resource == resource) return &flag;
  }
  return nullptr;
}

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_LAUNCHER_RLIMIT_FLAGS_H_

#ifndef SANDBOXD_SANDBOX_LAUNCHER_RLIMIT_FLAGS_H_
#define SANDBOXD_SANDBOX_LAUNCHER_RLIMIT_FLAGS_H_

#include "sandboxd/launch/v1/launch.pb.h"

namespace sandboxd {

// sandboxd-launch's option for each rlimit of a LaunchOrder: what LauncherArgs writes
// and launch_main.cc reads.
struct RlimitFlag {
  launch::v1::Resource resource;
  const char* flag;
};

inline constexpr RlimitFlag kRlimitFlags[] = {
    {launch::v1::CPU, "--cpu"},
    {launch::v1::AS, "--as"},
    {launch::v1::FSIZE, "--fsize"},
    {launch::v1::NOFILE, "--nofile"},
};

// The option for `resource`; null for one it does not know.
inline const char* FlagOf(launch::v1::Resource resource) {
  for (const RlimitFlag& flag : kRlimitFlags) {
    if (flag.resource == resource) return flag.flag;
  }
  return nullptr;
}

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_LAUNCHER_RLIMIT_FLAGS_H_

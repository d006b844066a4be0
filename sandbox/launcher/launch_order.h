#ifndef SANDBOXD_SANDBOX_LAUNCHER_LAUNCH_ORDER_H_
#define SANDBOXD_SANDBOX_LAUNCHER_LAUNCH_ORDER_H_

#include <string>
#include <vector>

#include "sandboxd/launch/v1/launch.pb.h"

namespace sandboxd {

using ::sandboxd::launch::v1::LaunchOrder;

// The command line that gives a spawned sandboxd-launch `order` (launch_main.cc reads
// it back into the same message): its options, "--", then the program and its
// arguments. The cwd and environment are left to the spawn. Pure.
std::vector<std::string> LauncherArgs(const LaunchOrder& order);

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_LAUNCHER_LAUNCH_ORDER_H_

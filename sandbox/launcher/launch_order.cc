#include "sandbox/launcher/launch_order.h"

#include "sandbox/launcher/rlimit_flags.h"

namespace sandboxd {
std::vector<std::string> LauncherArgs(const LaunchOrder& order) {
  std::vector<std::string> args;
  for (const std::string& procs : order.joins()) args.insert(args.end(), {"--join", procs});
  if (order.has_user()) {
    args.insert(args.end(), {"--user", std::to_string(order.user().uid()) + ":" +
                                           std::to_string(order.user().gid())});
  }
  for (const launch::v1::Rlimit& limit : order.rlimits()) {
    std::string value = std::to_string(limit.soft());
    if (limit.hard() != limit.soft()) value += ":" + std::to_string(limit.hard());
    const RlimitFlag* known = RlimitOf(limit.resource());
    args.insert(args.end(), {known != nullptr ? known->flag : "--unknown-rlimit", value});
  }
  if (order.exposed_fds() > 0) {
    args.insert(args.end(), {"--fds", std::to_string(order.exposed_fds()), "--expose",
                             order.expose_dir()});
  }
  if (order.proxy_channel_fd() > 0) {
    args.insert(args.end(), {"--proxy", std::to_string(order.proxy_channel_fd())});
  }
  args.push_back("--");
  args.insert(args.end(), order.argv().begin(), order.argv().end());
  return args;
}

}  // namespace sandboxd

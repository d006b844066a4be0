#include "sandbox/net/private_netns.h"

#include <linux/capability.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/own_userns.h"

namespace sandboxd {
namespace {

const char* BringLoopbackUp() {
  int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ifreq request{};
  std::strncpy(request.ifr_name, "lo", sizeof request.ifr_name - 1);
  if (sock < 0 || ioctl(sock, SIOCGIFFLAGS, &request) != 0) return "reading loopback's flags";
  request.ifr_flags |= IFF_UP;
  const char* failed = ioctl(sock, SIOCSIFFLAGS, &request) != 0 ? "bringing loopback up" : nullptr;
  close(sock);
  return failed;
}

// Gives up every capability, the bounding set included, so that no exec (even as uid
// 0) brings one back.
const char* DropCapabilities() {
  for (int cap = 0; prctl(PR_CAPBSET_READ, cap) >= 0; ++cap) {
    if (prctl(PR_CAPBSET_DROP, cap) != 0) return "dropping capabilities";
  }
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3] = {};
  return syscall(SYS_capset, &header, none) != 0 ? "dropping capabilities" : nullptr;
}

}  // namespace

// CAP_SYS_ADMIN makes the namespace directly. Without it, an ordinary user makes it in
// a user namespace of its own, in which it keeps its uid and gid, mapped to themselves,
// and has every capability until loopback is up; then it drops them all. The commands
// it starts live in that user namespace too, without capabilities, and bwrap makes its
// own, nested, as it would anywhere. Not so uid 0 without CAP_SYS_ADMIN (a container's
// root whose commands stay root, which takes --danger_commands_as_root): bwrap, run as
// uid 0 without capabilities, cannot write its user namespace's uid map (EPERM, checked
// with bwrap 0.8), so bwrap makes the network namespace per command there.
const char* EnterPrivateNetns() {
  if (unshare(CLONE_NEWNET) == 0) return BringLoopbackUp();
  if (errno != EPERM || getuid() == 0) return "making a network namespace";
  if (const char* failed =
          EnterOwnUserNamespace(CLONE_NEWNET, "making a user and a network namespace")) {
    return failed;
  }
  if (const char* failed = BringLoopbackUp()) return failed;
  return DropCapabilities();
}

}  // namespace sandboxd

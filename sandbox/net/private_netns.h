#ifndef SANDBOXD_SANDBOX_NET_PRIVATE_NETNS_H_
#define SANDBOXD_SANDBOX_NET_PRIVATE_NETNS_H_

namespace sandboxd {

// Moves the calling process into a network namespace of its own with loopback up, as
// bwrap's --unshare-net makes one; without CAP_SYS_ADMIN, inside a user namespace of
// its own that maps only its uid and gid, after which it holds no capability. System
// calls and the C library only: it runs in sandboxd-launch, a pre-started launcher whose
// commands take turns in the namespace. Null on success, else what failed, with errno
// set.
const char* EnterPrivateNetns();

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_NET_PRIVATE_NETNS_H_

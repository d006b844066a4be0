#ifndef SANDBOXD_SANDBOX_NET_NETNS_H_
#define SANDBOXD_SANDBOX_NET_NETNS_H_

#include <sys/types.h>

#include <string>

namespace sandboxd {

// Whether the network namespace of process `pid` (a pre-started launcher's, see
// private_netns.h) holds no socket at all, so that the next command to run in it can
// see nothing the last one left.
bool NetnsHoldsNoSocket(pid_t pid);

// Whether a sockstat file ("TCP: inuse 0 orphan 0 tw 0 ...") counts no socket of its
// namespace.
bool NoSocketCounted(const std::string& sockstat);

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_NET_NETNS_H_

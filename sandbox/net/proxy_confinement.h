#ifndef SANDBOXD_SANDBOX_NET_PROXY_CONFINEMENT_H_
#define SANDBOXD_SANDBOX_NET_PROXY_CONFINEMENT_H_

#include "absl/status/status.h"

namespace sandboxd {

// Confines the calling process (sandboxd-proxy, before it starts any thread) to what a
// proxy needs, so that a flaw in parsing what hostile commands send reaches nothing of
// the host's or the server's: Landlock lets it read only the system's libraries and
// the files name resolution reads (/etc/resolv.conf, /etc/hosts, ...) and write
// nothing, nor signal or reach abstract Unix sockets outside it (where the kernel has
// the ABI); a seccomp filter refuses sockets but inet and netlink ones (so no AF_UNIX:
// not the server's socket, nor a Docker socket), ptrace, new namespaces, BPF and the
// keyrings, and kills it on execve. Needs no_new_privs set.
// FAILED_PRECONDITION when the kernel has no Landlock (the filter is then in place);
// INTERNAL when a step failed.
absl::Status ConfineProxy();

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_NET_PROXY_CONFINEMENT_H_

#ifndef SANDBOXD_BASE_SCM_RIGHTS_H_
#define SANDBOXD_BASE_SCM_RIGHTS_H_

#include <sys/types.h>

#include <cstddef>

namespace sandboxd {

// Sends `size` bytes from `data` on the Unix socket `socket` as one message, with the
// descriptor `fd` attached when it is >= 0. `flags` go to sendmsg with MSG_NOSIGNAL;
// EINTR is retried. Returns what sendmsg returns. System calls only (the static
// launchers use it).
ssize_t SendWithFd(int socket, const void* data, size_t size, int fd, int flags = 0);

// Receives one message of at most `size` bytes into `data`, and the one descriptor
// attached to it, if any, into `*fd` (close-on-exec; -1 when none). `flags` go to
// recvmsg; EINTR is retried. Returns what recvmsg returns.
ssize_t ReceiveWithFd(int socket, void* data, size_t size, int* fd, int flags = 0);

}  // namespace sandboxd

#endif  // SANDBOXD_BASE_SCM_RIGHTS_H_

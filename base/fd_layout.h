#ifndef SANDBOXD_BASE_FD_LAYOUT_H_
#define SANDBOXD_BASE_FD_LAYOUT_H_

namespace sandboxd {

// The descriptors a sandbox program starts with, shared by the server and the
// launchers: 0, 1 and 2, then these.

// The seccomp filter (bwrap reads it with --seccomp).
inline constexpr int kSeccompFd = 3;
// The first of the descriptors passed beyond it (the directories the sandbox binds).
inline constexpr int kFirstPassedFd = kSeccompFd + 1;
// At most this many are passed: one message of descriptors between processes holds
// at most 253 (SCM_MAX_FD).
inline constexpr int kMaxPassedFds = 200;

}  // namespace sandboxd

#endif  // SANDBOXD_BASE_FD_LAYOUT_H_

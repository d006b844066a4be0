#ifndef SANDBOXD_BASE_OWN_USERNS_H_
#define SANDBOXD_BASE_OWN_USERNS_H_

namespace sandboxd {

// Moves the calling process into a new user namespace, together with the namespaces of
// `flags` (CLONE_NEWNS, CLONE_NEWNET), that maps only its own uid and gid, to
// themselves: it holds every capability there, over those namespaces only, until it
// execs or drops them. For an ordinary user without CAP_SYS_ADMIN. System calls and
// the C library only (the launchers run it). Null on success, else what failed (for
// the unshare: `unsharing`), with errno set.
const char* EnterOwnUserNamespace(int flags, const char* unsharing);

}  // namespace sandboxd

#endif  // SANDBOXD_BASE_OWN_USERNS_H_

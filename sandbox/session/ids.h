#ifndef SANDBOXD_SANDBOX_SESSION_IDS_H_
#define SANDBOXD_SANDBOX_SESSION_IDS_H_

#include <string>

#include "absl/status/status.h"

namespace sandboxd {

// A new id of `kind` ("p" for processes, "s" for sessions) on `replica`:
// "KIND-<32 hex digits>@REPLICA", the digits from the kernel's random source, so that
// an id cannot be guessed (ownership is checked besides).
std::string NewId(const char* kind, const std::string& replica);

// Whether `id` can be one of `kind` on `replica`: INVALID_ARGUMENT for an id that is
// malformed or empty, FAILED_PRECONDITION naming the replica that holds it when that
// is not `replica` (the caller's router sent the call to the wrong one).
absl::Status CheckId(const std::string& id, const char* kind, const std::string& replica);

// The replica a well-formed id names, or "" for one that is not (CheckId would refuse it).
std::string ReplicaOf(const std::string& id);

// Whether `name` can name a replica: 1 to 253 of A-Z a-z 0-9 . _ - (a pod's name, a
// host name), so that it can travel in an id and in metadata as it is.
bool IsReplicaName(const std::string& name);

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_SESSION_IDS_H_

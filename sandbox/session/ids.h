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

// The replica an id names, or "" for a malformed one.
std::string ReplicaOf(const std::string& id);

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_SESSION_IDS_H_

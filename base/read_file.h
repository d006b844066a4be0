#ifndef SANDBOXD_BASE_READ_FILE_H_
#define SANDBOXD_BASE_READ_FILE_H_

#include <string>

#include "absl/status/statusor.h"

namespace sandboxd {

// The whole of `path`, read with plain system calls, or why it could not be read
// (FAILED_PRECONDITION with the system's reason). Plain calls rather than a stream:
// on a request's path a stream's set-up costs more than the read itself, and
// libstdc++'s streams throw when the process a /proc file belongs to exits between the
// open and the read (ESRCH).
absl::StatusOr<std::string> ReadFile(const std::string& path);

// ReadFile, with "" for a file that cannot be read: for cgroup and /proc files.
std::string ReadFileOrEmpty(const std::string& path);

}  // namespace sandboxd

#endif  // SANDBOXD_BASE_READ_FILE_H_

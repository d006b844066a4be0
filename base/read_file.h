#ifndef SANDBOXD_BASE_READ_FILE_H_
#define SANDBOXD_BASE_READ_FILE_H_

#include <string>

namespace sandboxd {

// What can be read of `path`, with plain system calls: empty when it cannot be
// opened. Meant for cgroup and /proc files: on a request's path a stream's set-up
// costs more than the read itself, and libstdc++'s streams throw when the process a
// /proc file belongs to exits between the open and the read (ESRCH).
std::string ReadFileOrEmpty(const std::string& path);

}  // namespace sandboxd

#endif  // SANDBOXD_BASE_READ_FILE_H_

#include "base/read_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"

namespace sandboxd {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::FailedPreconditionError(std::strerror(errno));
  std::string content;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) content.append(buf, static_cast<size_t>(n));
  }
  int error = errno;
  close(fd);
  if (n < 0) return absl::FailedPreconditionError(std::strerror(error));
  return content;
}

std::string ReadFileOrEmpty(const std::string& path) { return ReadFile(path).value_or(""); }

}  // namespace sandboxd

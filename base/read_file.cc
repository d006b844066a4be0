#include "base/read_file.h"

#include <fcntl.h>
#include <unistd.h>

namespace sandboxd {

std::string ReadFileOrEmpty(const std::string& path) {
  std::string content;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return content;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) content.append(buf, static_cast<size_t>(n));
  close(fd);
  return content;
}

}  // namespace sandboxd

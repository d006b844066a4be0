#include "sandbox/policy/open_path.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace sandboxd {
namespace {

// openat2 without any symlink, magic ones (/proc/self/fd/N) included.
int OpenNoSymlinks(int dir, const char* path, uint64_t flags) {
  open_how how{};
  how.flags = flags | O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  long fd;
  do {
    fd = syscall(SYS_openat2, dir, path, &how, sizeof how);
  } while (fd < 0 && errno == EINTR);
  return fd < 0 ? -errno : static_cast<int>(fd);
}

}  // namespace

absl::StatusOr<std::string> CanonicalExistingPath(const std::string& path,
                                                  const std::string& what) {
  if (path.empty() || path[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " \"", path, "\" must be an absolute path"));
  }
  if (path.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(what, " contains a NUL byte"));
  }
  char resolved[PATH_MAX];
  if (realpath(path.c_str(), resolved) == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(what, " ", path, " cannot be used: ",
                                                   std::strerror(errno)));
  }
  return std::string(resolved);
}

absl::StatusOr<OpenPath> OpenCanonical(const std::string& path, const std::string& what,
                                       bool directory) {
  absl::StatusOr<std::string> canonical = CanonicalExistingPath(path, what);
  if (!canonical.ok()) return canonical.status();
  const char* resolved = canonical->c_str();
  // realpath followed the symlinks of that moment; the open follows none, so a
  // component replaced by a symlink since fails here rather than leading elsewhere.
  int fd = OpenNoSymlinks(AT_FDCWD, resolved, directory ? O_DIRECTORY : 0);
  if (fd == -ENOTDIR && directory) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " ", path, " is not a directory"));
  }
  if (fd < 0 && fd != -ELOOP) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " ", path, " cannot be opened: ", std::strerror(-fd)));
  }
  if (fd < 0 || FdPath(fd) != resolved) {
    if (fd >= 0) close(fd);
    return absl::InvalidArgumentError(absl::StrCat(
        what, " ", path, " changed while it was being checked (a component was renamed "
        "or replaced by a symlink); retry, and do not change it while the request starts"));
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    close(fd);
    return absl::InternalError(absl::StrCat("fstat ", resolved, ": ", std::strerror(errno)));
  }
  return OpenPath{*std::move(canonical), Share(UniqueFd(fd)), st.st_dev, st.st_ino};
}

int OpenChild(int dir, const std::string& name) {
  return OpenNoSymlinks(dir, name.c_str(), 0);
}

std::string FdPath(int fd) {
  char buf[PATH_MAX];
  ssize_t n = readlink(absl::StrCat("/proc/self/fd/", fd).c_str(), buf, sizeof buf);
  if (n <= 0 || n == sizeof buf) return "";
  return std::string(buf, static_cast<size_t>(n));
}

bool IsUnder(absl::string_view path, absl::string_view dir) {
  if (dir == "/") return absl::StartsWith(path, "/");
  return path == dir || (absl::StartsWith(path, dir) && path[dir.size()] == '/');
}

}  // namespace sandboxd

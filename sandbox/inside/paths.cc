#include "sandbox/inside/paths.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace sandboxd {

HelperStatus CheckPath(const std::string& path) {
  if (path.empty() || path[0] != '/') {
    return HelperError(kHelperInvalidArgument, "\"" + path + "\": the path must be absolute");
  }
  if (path == "/") return HelperOk();
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string component = path.substr(start, end - start);
    if (component.empty() || component == "." || component == "..") {
      return HelperError(kHelperInvalidArgument,
                         path + ": no empty, \".\" or \"..\" components (name the plain path)");
    }
    start = end + 1;
  }
  return HelperOk();
}

ParentAndName SplitPath(const std::string& path) {
  size_t slash = path.rfind('/');
  if (path == "/" || slash == std::string::npos) return {"/", ""};
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

std::string JoinPath(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

namespace {

// openat2 as a directory descriptor, with no symlink (nor /proc magic link) anywhere
// on the way, the last component included. glibc 2.36 has no wrapper.
int OpenNoSymlinks(int at, const char* path) {
  open_how how{};
  how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  int fd;
  do {
    fd = static_cast<int>(syscall(SYS_openat2, at, path, &how, sizeof how));
  } while (fd < 0 && errno == EINTR);
  return fd;
}

HelperStatus OpenError(const std::string& path, int err) {
  if (err == ENOSYS) {
    return HelperError(kHelperInternal, path + ": file calls need openat2 (Linux 5.6 or newer)");
  }
  if (err == ENOENT) {
    return HelperError(kHelperNotFound,
                       path +
                           ": a parent directory does not exist (make it first, or ask "
                           "for missing parents to be made)");
  }
  return ErrnoError(path, err);
}

}  // namespace

HelperStatus OpenDirectoryNoSymlinks(const std::string& dir, bool make_missing,
                                     const std::string& path, UniqueFd& fd) {
  fd.Reset(OpenNoSymlinks(AT_FDCWD, dir.c_str()));
  if (fd.valid()) return HelperOk();
  if (errno != ENOENT || !make_missing) return OpenError(path, errno);
  // Walk from the root, making what is missing. Each step opens one name relative to
  // the directory before it, so a symlink planted between two steps is refused too.
  fd.Reset(OpenNoSymlinks(AT_FDCWD, "/"));
  if (!fd.valid()) return OpenError(path, errno);
  size_t start = 1;
  while (start < dir.size()) {
    size_t end = dir.find('/', start);
    if (end == std::string::npos) end = dir.size();
    std::string component = dir.substr(start, end - start);
    UniqueFd next(OpenNoSymlinks(fd.get(), component.c_str()));
    if (!next.valid() && errno == ENOENT) {
      // EEXIST: someone else made it meanwhile; the open below judges what it is.
      if (mkdirat(fd.get(), component.c_str(), 0755) != 0 && errno != EEXIST) {
        return ErrnoError(JoinPath(dir.substr(0, start - 1), component), errno);
      }
      next.Reset(OpenNoSymlinks(fd.get(), component.c_str()));
    }
    if (!next.valid()) return OpenError(path, errno);
    fd = std::move(next);
    start = end + 1;
  }
  return HelperOk();
}

}  // namespace sandboxd

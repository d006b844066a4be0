#include "sandbox/inside/helper_status.h"

#include <cerrno>
#include <cstring>

namespace sandboxd {

HelperExit ExitForErrno(int err) {
  switch (err) {
    case ENOENT:
      return kHelperNotFound;
    case EEXIST:
      return kHelperAlreadyExists;
    case EACCES:
    case EPERM:
    case EROFS:
      return kHelperPermissionDenied;
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
      return kHelperResourceExhausted;
    case ELOOP:
    case ENOTDIR:
    case EISDIR:
    case ENOTEMPTY:
    case EXDEV:
    case EBUSY:
      return kHelperFailedPrecondition;
    case EINVAL:
    case ENAMETOOLONG:
      return kHelperInvalidArgument;
    default:
      return kHelperInternal;
  }
}

namespace {

// What `err` means to whoever called, and what they can do about it.
const char* Explain(int err) {
  switch (err) {
    case ENOENT:
      return "no such file or directory";
    case EEXIST:
      return "already exists";
    case EACCES:
      return "permission denied (the command's user may not do this)";
    case EPERM:
      return "operation not permitted (the command's user may not do this)";
    case EROFS:
      return "read-only file system (writes go only to the request's writable roots)";
    case ENOSPC:
      return "no space left on the device";
    case EDQUOT:
      return "disk quota exceeded";
    case EFBIG:
      return "file too large (past the sandbox's file size limit)";
    case ELOOP:
      return "a symlink on the way (file calls follow none); name the real path";
    case ENOTDIR:
      return "a component of the path is not a directory";
    case EISDIR:
      return "is a directory";
    case ENOTEMPTY:
      return "directory not empty (remove it recursively)";
    case EXDEV:
      return "on another file system than the other path (copy, then remove)";
    case EBUSY:
      return "busy (a mount point cannot be moved or removed)";
    case ENAMETOOLONG:
      return "name too long";
    case EPIPE:
      return "the reader went away";
    default:
      return nullptr;
  }
}

}  // namespace

HelperStatus ErrnoError(const std::string& path, int err) {
  const char* reason = Explain(err);
  return HelperError(ExitForErrno(err),
                     path + ": " + (reason != nullptr ? reason : std::strerror(err)));
}

}  // namespace sandboxd

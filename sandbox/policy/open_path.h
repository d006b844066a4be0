#ifndef SANDBOXD_SANDBOX_POLICY_OPEN_PATH_H_
#define SANDBOXD_SANDBOX_POLICY_OPEN_PATH_H_

#include <sys/stat.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/unique_fd.h"

namespace sandboxd {

// A directory or file held open (O_PATH), with the absolute path it had when it was
// opened and checked. Whatever happens to that path later, the descriptor still names
// what was checked: it is what gets mounted.
struct OpenPath {
  std::string path;
  SharedFd fd;
  // What it is: the sandbox checks that this is what got mounted at `path`.
  dev_t dev = 0;
  ino_t ino = 0;
};

// Resolves `path` to an absolute canonical path of something that exists (symlinks
// followed, as realpath does). `what` names the field in error messages ("cwd",
// "writable_roots[2]"): INVALID_ARGUMENT for a relative or missing path.
absl::StatusOr<std::string> CanonicalExistingPath(const std::string& path,
                                                  const std::string& what);

// Resolves `path` to its canonical form (symlinks followed, as realpath does), then
// opens that form without following any symlink and checks that the descriptor's own
// path is the canonical one: a component swapped for a symlink in between is caught
// instead of followed. `what` names the field in messages ("policy.writable_roots[1]").
// INVALID_ARGUMENT for a relative, missing or changing path, or (with `directory`)
// one that is not a directory.
absl::StatusOr<OpenPath> OpenCanonical(const std::string& path, const std::string& what,
                                       bool directory);

// Opens the single component `name` in the directory `dir` without following a
// symlink (O_PATH). Returns the descriptor, or -errno: -ELOOP for a symlink, -ENOENT
// when it is absent.
int OpenChild(int dir, const std::string& name);

// The path the kernel has for `fd` now (readlink of /proc/self/fd/N); empty when it
// has none.
std::string FdPath(int fd);

// Whether `path` is `dir` or lies below it. Both absolute and canonical.
bool IsUnder(absl::string_view path, absl::string_view dir);

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_POLICY_OPEN_PATH_H_

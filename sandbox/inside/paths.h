#ifndef SANDBOXD_SANDBOX_INSIDE_PATHS_H_
#define SANDBOXD_SANDBOX_INSIDE_PATHS_H_

#include <string>

#include "base/unique_fd.h"
#include "sandbox/inside/helper_status.h"

// The paths of file calls, and the directories they act in. The tree inside a sandbox
// is the command's to make: any component may be a symlink it planted, swapped in at
// any moment. What changes the tree therefore resolves its parent directory once,
// refusing every symlink on the way, and acts relative to that descriptor.

namespace sandboxd {

// Ok when `path` is absolute with no empty, "." or ".." component ("/" is fine);
// else kHelperInvalidArgument, saying so.
HelperStatus CheckPath(const std::string& path);

// A checked path cut before its last component: "/a/b" is "/a" and "b"; "/a" is "/"
// and "a"; "/" is "/" and "" (the root has no name in a parent).
struct ParentAndName {
  std::string parent;
  std::string name;
};
ParentAndName SplitPath(const std::string& path);

// `dir` and `name` joined by one slash ("/" and "a" make "/a").
std::string JoinPath(const std::string& dir, const std::string& name);

// Opens the checked directory path `dir` as an O_PATH descriptor into `fd`, following
// no symlink on the way (openat2 RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS: one gives
// ELOOP, so kHelperFailedPrecondition). With `make_missing`, a missing component is
// made (mode 0755) and opened the same way, one at a time, each relative to the last.
// Failures name `path`, the path the caller was given.
HelperStatus OpenDirectoryNoSymlinks(const std::string& dir, bool make_missing,
                                     const std::string& path, UniqueFd& fd);

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_INSIDE_PATHS_H_

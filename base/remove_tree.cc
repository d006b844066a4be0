#include "base/remove_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/unique_fd.h"

namespace sandboxd {
namespace {

// Up to `most` entries of `dir` other than "." and "..": none when it is empty.
std::vector<std::string> SomeEntries(int dir, size_t most) {
  std::vector<std::string> names;
  int fd = dup(dir);
  if (fd < 0) return names;
  DIR* entries = fdopendir(fd);
  if (entries == nullptr) {
    close(fd);
    return names;
  }
  rewinddir(entries);
  while (names.size() < most) {
    dirent* entry = readdir(entries);
    if (entry == nullptr) break;
    if (std::strcmp(entry->d_name, ".") != 0 && std::strcmp(entry->d_name, "..") != 0) {
      names.push_back(entry->d_name);
    }
  }
  closedir(entries);
  return names;
}

// The directory `name` in `dir`, opened to be emptied, without following a symlink;
// one the command left unreadable (mode 000) is made readable first, through a
// descriptor of its own, so that no path it could change is followed.
UniqueFd OpenLevel(int dir, const std::string& name) {
  UniqueFd level(openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (level.valid() || errno != EACCES) return level;
  UniqueFd path(openat(dir, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!path.valid() || chmod(absl::StrCat("/proc/self/fd/", path.get()).c_str(), 0700) != 0) {
    return level;
  }
  return UniqueFd(openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
}

struct Level {
  std::string name;
  dev_t dev;
  ino_t ino;
};

}  // namespace

// A command decides the tree's shape: it may be 100,000 levels deep. So the walk holds
// two descriptors at most and no recursion, climbing back through ".." and checking
// that it reached the very directory it came down from (dev and inode), so that a tree
// changed meanwhile is left alone rather than followed. Each level is opened without
// following a symlink, so nothing in it leads the server, which may be root, anywhere
// else.
void RemoveTree(int dir, const std::string& name) {
  if (unlinkat(dir, name.c_str(), 0) == 0 || errno == ENOENT) return;
  UniqueFd here = OpenLevel(dir, name);
  struct stat st {};
  if (!here.valid() || fstat(here.get(), &st) != 0) return;
  std::vector<Level> path = {{name, st.st_dev, st.st_ino}};
  while (true) {
    // Files go at once; the first directory is entered.
    std::string directory;
    std::vector<std::string> entries = SomeEntries(here.get(), 1024);
    for (const std::string& entry : entries) {
      if (unlinkat(here.get(), entry.c_str(), 0) == 0 || errno == ENOENT) continue;
      // A directory the command made unwritable (a server that is not root runs
      // commands as itself, and so owns it): made writable again.
      if (errno == EACCES && fchmod(here.get(), 0700) == 0 &&
          unlinkat(here.get(), entry.c_str(), 0) == 0) {
        continue;
      }
      if (directory.empty()) directory = entry;
    }
    if (!directory.empty()) {
      UniqueFd below = OpenLevel(here.get(), directory);
      if (!below.valid() || fstat(below.get(), &st) != 0) return;  // Cannot be removed.
      path.push_back({directory, st.st_dev, st.st_ino});
      here = std::move(below);
      continue;
    }
    if (!entries.empty()) continue;  // A full batch of files went: there may be more.
    // Empty: remove it from its parent, which is where the walk goes next.
    if (path.size() == 1) break;
    UniqueFd up(openat(here.get(), "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    const Level& parent = path[path.size() - 2];
    if (!up.valid() || fstat(up.get(), &st) != 0 || st.st_dev != parent.dev ||
        st.st_ino != parent.ino) {
      return;  // Moved while it was being removed: leave it.
    }
    if (unlinkat(up.get(), path.back().name.c_str(), AT_REMOVEDIR) != 0) return;
    path.pop_back();
    here = std::move(up);
  }
  here.Reset();
  unlinkat(dir, name.c_str(), AT_REMOVEDIR);
}

}  // namespace sandboxd

#include "sandbox/placeholders.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sandboxd {

Placeholders::Lease Placeholders::Acquire(const std::vector<std::string>& paths) {
  absl::MutexLock lock(&mu_);
  for (const std::string& path : paths) {
    Entry& entry = entries_[path];
    if (entry.users++ > 0) continue;
    // O_EXCL|O_NOFOLLOW: never reuse or follow what someone else put there.
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
    entry.created = fd >= 0;
    if (fd >= 0) close(fd);
  }
  return Lease(*this, paths);
}

void Placeholders::Release(const std::vector<std::string>& paths) {
  absl::MutexLock lock(&mu_);
  for (const std::string& path : paths) {
    auto it = entries_.find(path);
    if (it == entries_.end() || --it->second.users > 0) continue;
    struct stat st;
    if (it->second.created && lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        st.st_size == 0) {
      unlink(path.c_str());
    }
    entries_.erase(it);
  }
}

}  // namespace sandboxd

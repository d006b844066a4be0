#ifndef SANDBOXD_SANDBOX_PLACEHOLDERS_H_
#define SANDBOXD_SANDBOX_PLACEHOLDERS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace sandboxd {

// The empty files that absent protected paths are covered at while commands run.
//
// bwrap can only mount over something that exists, so covering ".git" in a workspace
// that has none creates an empty file there, on the host. This registry creates those
// files itself, counts the commands that need each, and removes a file when the last
// of them ends, if it is still the empty file it made. Thread-safe.
class Placeholders {
 public:
  // Holds `paths` for as long as it lives.
  class Lease {
   public:
    Lease(Placeholders& owner, std::vector<std::string> paths)
        : owner_(owner), paths_(std::move(paths)) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { owner_.Release(paths_); }

   private:
    Placeholders& owner_;
    std::vector<std::string> paths_;
  };

  // Creates each missing path as an empty file. A path that exists already is used as
  // it is and never removed.
  Lease Acquire(const std::vector<std::string>& paths);

 private:
  struct Entry {
    int users = 0;
    bool created = false;
  };

  void Release(const std::vector<std::string>& paths);

  absl::Mutex mu_;
  std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_PLACEHOLDERS_H_

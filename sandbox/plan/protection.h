#ifndef SANDBOXD_SANDBOX_PLAN_PROTECTION_H_
#define SANDBOXD_SANDBOX_PLAN_PROTECTION_H_

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "sandbox/policy/open_path.h"
#include "sandbox/policy/policy.h"

namespace sandboxd {

class Placeholders;

// What keeps one run's protected paths (.git, ...) read-only inside its writable
// roots: each held open as it was found, so that what gets mounted is what was found.
struct Protection {
  // Directories on the way to a nested protected name (.git for .git/hooks), bound
  // writable onto themselves: a mount point cannot be renamed, so the command cannot
  // move the directory aside and rebuild it without its read-only parts.
  std::vector<OpenPath> pinned;
  // Bound read-only onto themselves: the protected paths that exist, and placeholders
  // for those that do not. Without `create` (see Protect), placeholders still to be
  // made have no descriptor.
  std::vector<OpenPath> read_only;
  // Holds the placeholders among them; they go when the last run holding them does.
  std::shared_ptr<const void> lease;
};

// The empty directories that absent protected paths are covered at while commands run.
//
// bwrap can only mount over something that exists, so covering ".git" in a workspace
// that has none needs a directory there, on the host: an empty one, mode 0555, which
// git outside takes for no repository at all (an empty file would break git there).
// This registry makes them, counts the runs that hold each, and removes one when the
// last of them ends. A run that finds another run's placeholder holds it too, rather
// than taking it for a real .git that nobody would keep. Each placeholder is written
// to a journal in the server's state directory first, so that the next server removes
// what a SIGKILLed one left. Thread-safe.
class Placeholders {
 public:
  // With a journal in `state_dir` (created 0700 if missing; empty: no journal),
  // after removing the placeholders that an earlier server left, if they are still the
  // empty directories it made. FAILED_PRECONDITION when another running server holds
  // `state_dir`.
  static absl::StatusOr<std::unique_ptr<Placeholders>> Open(const std::string& state_dir);
  ~Placeholders();

  // Finds `policy`'s protected names under each of its writable roots, without
  // following symlinks. With `create`, an absent one gets a placeholder at its first
  // missing component, held by the returned Protection; without (for Explain),
  // nothing is made. INVALID_ARGUMENT for a protected path that is a symlink (it
  // could be re-pointed) or cannot be opened.
  absl::StatusOr<Protection> Protect(const Policy& policy, bool create);

 private:
  using Key = std::pair<dev_t, ino_t>;
  struct Entry {
    int users = 0;
    SharedFd parent;
    std::string name;
    std::string path;
    // Its device, inode and modification time, as the journal has them.
    std::string identity;
  };
  class Lease;

  explicit Placeholders(std::string journal_path) : journal_path_(std::move(journal_path)) {}
  absl::Status OpenJournal() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The cover for `path`, absent in `parent` as `name`.
  absl::StatusOr<OpenPath> Cover(const SharedFd& parent, const std::string& name,
                                 const std::string& path, bool create, std::vector<Key>& held)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Notes a placeholder in the journal, rewriting it with only the live ones when it
  // has grown well beyond them.
  void Journal(const std::string& identity, const std::string& path)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Walks one protected name below `root`, adding what covers it to `protection`.
  absl::Status ProtectName(const Policy& policy, const OpenPath& root, const std::string& name,
                           bool create, Protection& protection, std::vector<Key>& held)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Release(const std::vector<Key>& keys);

  const std::string journal_path_;
  // Held (flock) while this server uses the state directory.
  UniqueFd lock_;
  absl::Mutex mu_;
  std::map<Key, Entry> entries_ ABSL_GUARDED_BY(mu_);
  UniqueFd journal_ ABSL_GUARDED_BY(mu_);
  int journal_lines_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_PLAN_PROTECTION_H_

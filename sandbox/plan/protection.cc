#include "sandbox/plan/protection.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/read_file.h"

namespace sandboxd {
namespace {

// What tells a placeholder from a directory made later at the same place: its device,
// inode and modification time (a file system may hand a freed inode out again).
std::string Identity(const struct stat& st) {
  return absl::StrCat(st.st_dev, " ", st.st_ino, " ", st.st_mtim.tv_sec, ".",
                      st.st_mtim.tv_nsec);
}

// A journal line: "DEV INO MTIME PATH", PATH C-escaped (it may hold any byte but NUL).
std::string JournalLine(const std::string& identity, const std::string& path) {
  return absl::StrCat(identity, " ", absl::CEscape(path), "\n");
}

// Removes what an earlier server noted in `journal`, where it is still the empty
// directory it made: rmdir refuses one that got content, and its identity tells ours
// from a directory made since at the same place.
void RemoveLeftovers(const std::string& journal) {
  absl::StatusOr<std::string> text = ReadFile(journal);
  if (!text.ok()) return;
  for (absl::string_view line : absl::StrSplit(*text, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> fields = absl::StrSplit(line, absl::MaxSplits(' ', 3));
    std::string path;
    if (fields.size() != 4 || !absl::CUnescape(fields[3], &path)) continue;
    struct stat st;
    if (lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode) &&
        Identity(st) == absl::StrCat(fields[0], " ", fields[1], " ", fields[2])) {
      rmdir(path.c_str());
    }
  }
}

// Reads the `gitdir: PATH` line of a worktree's .git file, held open as `dot_git`: a
// bounded read, since the file is the command's to make (a sparse 2 GiB one once held
// every other run for seconds behind the lock this runs under).
std::string WorktreeGitDir(const std::string& root, const UniqueFd& dot_git) {
  UniqueFd file(open(absl::StrCat("/proc/self/fd/", dot_git.get()).c_str(),
                     O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  char buf[PATH_MAX + 16];
  ssize_t n = file.valid() ? read(file.get(), buf, sizeof buf) : -1;
  if (n <= 0) return "";
  absl::string_view target(buf, static_cast<size_t>(n));
  target = target.substr(0, target.find('\n'));
  if (!absl::ConsumePrefix(&target, "gitdir: ") || target.empty()) return "";
  return target[0] == '/' ? std::string(target) : absl::StrCat(root, "/", target);
}

// The git directory a worktree's .git file names, when it lies in one of `policy`'s
// writable roots: kept read-only there, as .git itself would be. One elsewhere is
// left alone: the command sees it already, read-only, or must not see it at all (the
// file is the command's to write, so its line may name any directory).
std::optional<OpenPath> ProtectedGitDir(const Policy& policy, const std::string& root,
                                        const UniqueFd& dot_git) {
  std::string named = WorktreeGitDir(root, dot_git);
  if (named.empty()) return std::nullopt;
  absl::StatusOr<OpenPath> git_dir = OpenCanonical(named, "the worktree's git dir", true);
  if (!git_dir.ok()) return std::nullopt;
  for (const OpenPath& writable : policy.writable_roots()) {
    if (IsUnder(git_dir->path, writable.path)) return *std::move(git_dir);
  }
  return std::nullopt;
}

void AddOnce(std::vector<OpenPath>& paths, OpenPath path) {
  for (const OpenPath& known : paths) {
    if (known.path == path.path) return;
  }
  paths.push_back(std::move(path));
}

}  // namespace

class Placeholders::Lease {
 public:
  Lease(Placeholders& owner, std::vector<Key> keys) : owner_(owner), keys_(std::move(keys)) {}
  ~Lease() { owner_.Release(keys_); }

 private:
  Placeholders& owner_;
  std::vector<Key> keys_;
};

absl::StatusOr<std::unique_ptr<Placeholders>> Placeholders::Open(const std::string& state_dir) {
  std::string journal;
  UniqueFd state_lock;
  if (!state_dir.empty()) {
    if (mkdir(state_dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot create the state directory ", state_dir, ": ", std::strerror(errno)));
    }
    // One server a state directory: the next one removes what the journal lists.
    state_lock = UniqueFd(open((state_dir + "/lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!state_lock.valid() || flock(state_lock.get(), LOCK_EX | LOCK_NB) != 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the state directory ", state_dir, " is another running server's (",
          std::strerror(errno), "); give each server its own --state_dir"));
    }
    journal = state_dir + "/placeholders";
    RemoveLeftovers(journal);
  }
  std::unique_ptr<Placeholders> placeholders(new Placeholders(journal));
  placeholders->lock_ = std::move(state_lock);
  absl::MutexLock lock(&placeholders->mu_);
  if (absl::Status s = placeholders->OpenJournal(); !s.ok()) return s;
  return placeholders;
}

Placeholders::~Placeholders() {
  // Every lease is gone by now (runs end before the runner), and with them the
  // placeholders: nothing is left for the next server to remove.
  if (!journal_path_.empty()) unlink(journal_path_.c_str());
}

absl::Status Placeholders::OpenJournal() {
  if (journal_path_.empty()) return absl::OkStatus();
  std::string fresh = journal_path_ + ".new";
  UniqueFd fd(open(fresh.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot write ", fresh, ": ", std::strerror(errno)));
  }
  std::string live;
  for (const auto& [key, entry] : entries_) live += JournalLine(entry.identity, entry.path);
  if (write(fd.get(), live.data(), live.size()) != static_cast<ssize_t>(live.size()) ||
      rename(fresh.c_str(), journal_path_.c_str()) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot write ", journal_path_, ": ", std::strerror(errno)));
  }
  journal_ = std::move(fd);
  journal_lines_ = static_cast<int>(entries_.size());
  return absl::OkStatus();
}

void Placeholders::Journal(const std::string& identity, const std::string& path) {
  if (!journal_.valid()) return;
  // Written before the placeholder is used: a SIGKILL from here on leaves it noted.
  std::string line = JournalLine(identity, path);
  ssize_t ignored = write(journal_.get(), line.data(), line.size());
  (void)ignored;
  if (++journal_lines_ > 64 + 2 * static_cast<int>(entries_.size())) {
    OpenJournal().IgnoreError();  // The old journal stays if it fails: it still holds all.
  }
}

absl::StatusOr<Protection> Placeholders::Protect(const Policy& policy, bool create) {
  Protection protection;
  std::vector<Key> held;
  absl::Status status;
  {
    // One lock over finding and making: a run cannot take another's placeholder for a
    // real path, nor make a second one beside it.
    absl::MutexLock lock(&mu_);
    for (const OpenPath& root : policy.writable_roots()) {
      for (const std::string& name : policy.protected_names()) {
        if (status.ok()) status = ProtectName(policy, root, name, create, protection, held);
      }
    }
  }
  if (!status.ok()) {
    Release(held);
    return status;
  }
  if (!held.empty()) protection.lease = std::make_shared<const Lease>(*this, std::move(held));
  return protection;
}

absl::Status Placeholders::ProtectName(const Policy& policy, const OpenPath& root,
                                       const std::string& name, bool create,
                                       Protection& protection, std::vector<Key>& held) {
  SharedFd dir = root.fd;
  std::string path = root.path;
  std::vector<std::string> parts = absl::StrSplit(name, '/');
  for (size_t i = 0; i < parts.size(); ++i) {
    absl::StrAppend(&path, "/", parts[i]);
    int fd = OpenChild(dir->get(), parts[i]);
    if (fd == -ENOENT) {
      absl::StatusOr<OpenPath> cover = Cover(dir, parts[i], path, create, held);
      if (!cover.ok()) return cover.status();
      AddOnce(protection.read_only, *std::move(cover));
      return absl::OkStatus();
    }
    if (fd == -ELOOP) {
      return absl::InvalidArgumentError(absl::StrCat(
          "protected path ", path, " is a symlink inside writable root ", root.path,
          "; it could be re-pointed, so the request is refused. Remove the symlink or do "
          "not make ", root.path, " writable"));
    }
    if (fd == -ENOTDIR) return absl::OkStatus();  // Below a file nothing can be created.
    if (fd < 0) {
      return absl::InvalidArgumentError(absl::StrCat("cannot open protected path ", path,
                                                     ": ", std::strerror(-fd)));
    }
    SharedFd opened = Share(UniqueFd(fd));
    struct stat st;
    if (fstat(fd, &st) != 0) {
      return absl::InternalError(absl::StrCat("fstat ", path, ": ", std::strerror(errno)));
    }
    // Another run's placeholder covers everything below it already.
    auto ours = entries_.find({st.st_dev, st.st_ino});
    if (ours != entries_.end() || i + 1 == parts.size()) {
      if (ours != entries_.end() && create) {
        ++ours->second.users;
        held.push_back(ours->first);
      }
      if (name == ".git" && S_ISREG(st.st_mode)) {
        if (std::optional<OpenPath> git_dir = ProtectedGitDir(policy, root.path, *opened)) {
          AddOnce(protection.read_only, *std::move(git_dir));
        }
      }
      AddOnce(protection.read_only, OpenPath{path, std::move(opened), st.st_dev, st.st_ino});
      return absl::OkStatus();
    }
    if (!S_ISDIR(st.st_mode)) return absl::OkStatus();
    AddOnce(protection.pinned, OpenPath{path, opened, st.st_dev, st.st_ino});
    dir = std::move(opened);
  }
  return absl::OkStatus();
}

absl::StatusOr<OpenPath> Placeholders::Cover(const SharedFd& parent, const std::string& name,
                                             const std::string& path, bool create,
                                             std::vector<Key>& held) {
  if (!create) return OpenPath{path, nullptr};
  bool made = mkdirat(parent->get(), name.c_str(), 0555) == 0;
  if (!made && errno != EEXIST) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot cover the absent protected path ", path, ": ", std::strerror(errno)));
  }
  int fd = OpenChild(parent->get(), name);
  if (fd < 0) {
    // Swapped or removed in the instant since: refuse rather than leave it uncovered.
    return absl::InvalidArgumentError(absl::StrCat(
        "protected path ", path, " changed while the request was starting (",
        std::strerror(-fd), "); retry"));
  }
  SharedFd opened = Share(UniqueFd(fd));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    return absl::InternalError(absl::StrCat("fstat ", path, ": ", std::strerror(errno)));
  }
  Key key{st.st_dev, st.st_ino};
  if (made) {
    entries_[key] = Entry{0, parent, name, path, Identity(st)};
    Journal(Identity(st), path);
  }
  // Made just now by someone else: one of ours (a run that raced ahead), or theirs.
  auto ours = entries_.find(key);
  if (ours != entries_.end()) {
    ++ours->second.users;
    held.push_back(key);
  }
  return OpenPath{path, std::move(opened), st.st_dev, st.st_ino};
}

void Placeholders::Release(const std::vector<Key>& keys) {
  absl::MutexLock lock(&mu_);
  for (const Key& key : keys) {
    auto it = entries_.find(key);
    if (it == entries_.end() || --it->second.users > 0) continue;
    const Entry& entry = it->second;
    struct stat st;
    if (fstatat(entry.parent->get(), entry.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        st.st_dev == key.first && st.st_ino == key.second) {
      // Fails, and leaves it, if someone wrote into it from outside a sandbox.
      unlinkat(entry.parent->get(), entry.name.c_str(), AT_REMOVEDIR);
    }
    entries_.erase(it);
  }
}

}  // namespace sandboxd

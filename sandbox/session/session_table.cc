#include "sandbox/session/session_table.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/remove_tree.h"
#include "base/unique_fd.h"
#include "sandbox/session/ids.h"

namespace sandboxd {
namespace {

// How long closing a session waits for the runs in it to be killed.
constexpr absl::Duration kEndWait = absl::Seconds(15);

// The directory name of a session's /tmp: its id's random digits.
std::string DirName(const std::string& id) { return id.substr(2, id.find('@') - 2); }

}  // namespace

void Session::Touch() {
  absl::MutexLock lock(&mu_);
  last_used_ = absl::Now();
}

absl::Time Session::last_used() const {
  absl::MutexLock lock(&mu_);
  return last_used_;
}

bool Session::Enter() {
  absl::MutexLock lock(&mu_);
  if (ended_.load()) return false;
  ++leases_;
  return true;
}

void Session::Leave() {
  absl::MutexLock lock(&mu_);
  --leases_;
}

void Session::End(absl::Time deadline) {
  ended_ = true;
  absl::MutexLock lock(&mu_);
  auto free = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return leases_ == 0; };
  mu_.AwaitWithDeadline(absl::Condition(&free), deadline);
}

absl::Status LeaseFor(const std::shared_ptr<Session>& session, std::shared_ptr<void>& lease,
                      std::function<bool()>& ended) {
  if (!session->Enter()) {
    return absl::NotFoundError(absl::StrCat("session ", session->id(), " has been closed"));
  }
  lease = std::shared_ptr<void>(nullptr, [session](void*) { session->Leave(); });
  ended = [session] { return session->ended(); };
  return absl::OkStatus();
}


absl::StatusOr<std::unique_ptr<SessionTable>> SessionTable::Create(
    std::string dir, std::optional<HostUser> user, ProcessTable& processes,
    SessionBounds bounds) {
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create the sessions' directory ", dir, ": ", std::strerror(errno)));
  }
  {
    UniqueFd parent(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!parent.valid()) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot open ", dir, ": ", std::strerror(errno)));
    }
    // The sandboxes' binds of it are made through exposed descriptors; nothing needs
    // to reach it by name but the server.
    fchmod(parent.get(), user.has_value() ? 0711 : 0700);
    std::vector<std::string> stale;
    if (DIR* entries = opendir(dir.c_str())) {
      while (dirent* entry = readdir(entries)) {
        std::string name = entry->d_name;
        if (name != "." && name != "..") stale.push_back(name);
      }
      closedir(entries);
    }
    for (const std::string& name : stale) {
      // A server that died left its sessions' tmpfs mounted.
      umount2(absl::StrCat(dir, "/", name).c_str(), MNT_DETACH | UMOUNT_NOFOLLOW);
      RemoveTree(parent.get(), name);
    }
  }
  std::unique_ptr<SessionTable> table(
      new SessionTable(std::move(dir), std::move(user), processes, bounds));
  table->mounts_ = bounds.tmp_bytes > 0;
  // A sandbox binds the session's /tmp, then hides the state directory: below /tmp, it
  // would be hidden inside the session's /tmp, which that changes under the verifier.
  char* real = realpath(table->dir_.c_str(), nullptr);
  std::string canonical = real != nullptr ? real : table->dir_;
  free(real);
  if (canonical == "/tmp" || absl::StartsWith(canonical, "/tmp/")) {
    table->refused_ = absl::StrCat("sessions need the server's state directory outside "
                                   "/tmp, and it is ", table->dir_, " (--state_dir)");
  }
  absl::MutexLock lock(&table->mu_);
  table->tmp_note_ = bounds.tmp_bytes > 0
                         ? absl::StrCat("a tmpfs of ", bounds.tmp_bytes, " bytes where the "
                                        "server may mount one, else a directory")
                         : "a directory (--session_tmp_bytes=0)";
  table->reaper_ = std::thread([raw = table.get()] { raw->Reap(); });
  return table;
}

std::string SessionTable::tmp_note() const {
  if (!refused_.empty()) return absl::StrCat("none: ", refused_);
  absl::MutexLock lock(&mu_);
  return tmp_note_;
}

SessionTable::~SessionTable() {
  stop_.Notify();
  if (reaper_.joinable()) reaper_.join();
  CloseAll();
}

absl::StatusOr<std::shared_ptr<Session>> SessionTable::Open(const std::string& owner,
                                                            sandbox::v1::ExecRequest defaults,
                                                            absl::Duration idle_timeout) {
  if (!refused_.empty()) return absl::FailedPreconditionError(refused_);
  {
    absl::MutexLock lock(&mu_);
    int owned = 0;
    for (const auto& [_, session] : sessions_) owned += session->owner() == owner;
    // Those being made, and those still being removed, count too.
    owned += opening_by_[owner] + closing_by_[owner];
    int closing = 0;
    for (const auto& [_, n] : closing_by_) closing += n;
    if (owned >= bounds_.max_per_owner) {
      return absl::ResourceExhaustedError(absl::StrCat(
          owner, " has ", owned, " sessions on this replica, its limit "
          "(--max_sessions_per_client); close one first (CloseSession)"));
    }
    if (static_cast<int>(sessions_.size()) + opening_ + closing >= bounds_.max_total) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "this replica has ", sessions_.size() + opening_ + closing, " sessions, its limit "
          "(--max_sessions); retry later, or elsewhere"));
    }
    // Counted from now on, so that concurrent calls cannot pass the bounds together.
    ++opening_;
    ++opening_by_[owner];
  }
  absl::StatusOr<std::shared_ptr<Session>> session = Make(owner, std::move(defaults), idle_timeout);
  absl::MutexLock lock(&mu_);
  --opening_;
  if (--opening_by_[owner] == 0) opening_by_.erase(owner);
  if (session.ok()) sessions_[(*session)->id()] = *session;
  return session;
}

absl::StatusOr<std::shared_ptr<Session>> SessionTable::Make(const std::string& owner,
                                                            sandbox::v1::ExecRequest defaults,
                                                            absl::Duration idle_timeout) {
  std::string id = NewId("s", processes_.replica());
  std::string path = absl::StrCat(dir_, "/", DirName(id));
  if (mkdir(path.c_str(), 0700) != 0) {
    return absl::InternalError(absl::StrCat("cannot create ", path, ": ", std::strerror(errno)));
  }
  if (user_.has_value() && chown(path.c_str(), user_->uid, user_->gid) != 0) {
    rmdir(path.c_str());
    return absl::InternalError(absl::StrCat("cannot give ", path, " to ", user_->name));
  }
  MountTmpfs(path);
  absl::StatusOr<OpenPath> tmp = OpenCanonical(path, "the session's /tmp", true);
  if (!tmp.ok()) {
    rmdir(path.c_str());
    return tmp.status();
  }
  return std::make_shared<Session>(id, owner, std::move(defaults), idle_timeout,
                                   *std::move(tmp));
}

absl::StatusOr<std::shared_ptr<Session>> SessionTable::Find(const std::string& owner,
                                                            const std::string& id) {
  if (absl::Status s = CheckId(id, "s", processes_.replica()); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  auto found = sessions_.find(id);
  if (found == sessions_.end() || found->second->owner() != owner) {
    return absl::NotFoundError(absl::StrCat(
        "no session ", id, " of yours here: it was closed, or closed after its idle "
        "time, or never was"));
  }
  found->second->Touch();
  return found->second;
}

absl::Status SessionTable::Close(const std::string& owner, const std::string& id) {
  absl::StatusOr<std::shared_ptr<Session>> session = Find(owner, id);
  if (!session.ok()) return session.status();
  {
    absl::MutexLock lock(&mu_);
    // Whoever takes it out ends it (the reaper may have, meanwhile).
    if (sessions_.erase(id) == 0) return absl::OkStatus();
    ++closing_by_[owner];
  }
  End(*session);
  return absl::OkStatus();
}

std::vector<std::shared_ptr<Session>> SessionTable::List(const std::string& owner) const {
  std::vector<std::shared_ptr<Session>> out;
  absl::MutexLock lock(&mu_);
  for (const auto& [_, session] : sessions_) {
    if (session->owner() == owner) out.push_back(session);
  }
  return out;
}

void SessionTable::CloseAll() {
  std::map<std::string, std::shared_ptr<Session>> all;
  {
    absl::MutexLock lock(&mu_);
    all.swap(sessions_);
    for (const auto& [_, session] : all) ++closing_by_[session->owner()];
  }
  for (const auto& [_, session] : all) End(session);
}

// Its runs first: nothing may write in its /tmp while it is removed. Marked ended, it
// lets no run start; its processes are killed, and the runs of other calls in it
// (Exec, file calls) see it end within a fraction of a second and are killed too.
void SessionTable::End(const std::shared_ptr<Session>& session) {
  session->Touch();
  absl::Time deadline = absl::Now() + kEndWait;
  session->End(absl::InfinitePast());
  processes_.EndSession(session->id());
  session->End(deadline);
  std::string path = absl::StrCat(dir_, "/", DirName(session->id()));
  // A tmpfs goes with everything in it at once; a command that still holds it open
  // keeps its pages until it lets go, no longer.
  umount2(path.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW);
  UniqueFd parent(open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (parent.valid()) RemoveTree(parent.get(), DirName(session->id()));
  absl::MutexLock lock(&mu_);
  auto closing = closing_by_.find(session->owner());
  if (closing != closing_by_.end() && --closing->second == 0) closing_by_.erase(closing);
}

// A tmpfs bounds what a session's /tmp may hold, as the fresh /tmp of a command is
// bounded; its pages are charged to the memory cgroup of whoever writes them, so a
// command's memory limit covers what it puts there too.
void SessionTable::MountTmpfs(const std::string& path) {
  if (!mounts_.load()) return;
  std::string options = absl::StrCat("size=", bounds_.tmp_bytes, ",mode=0700");
  if (user_.has_value()) absl::StrAppend(&options, ",uid=", user_->uid, ",gid=", user_->gid);
  if (mount("tmpfs", path.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0) {
    // Not root, or no CAP_SYS_ADMIN (a container): directories from now on.
    mounts_ = false;
    absl::MutexLock lock(&mu_);
    tmp_note_ = absl::StrCat("a directory: the server may not mount a tmpfs (",
                             std::strerror(errno), "), so a session's /tmp is bounded only "
                             "by the disk and limits.file_size_bytes");
  }
}

void SessionTable::Reap() {
  while (!stop_.WaitForNotificationWithTimeout(bounds_.reap_interval)) {
    absl::Time now = absl::Now();
    processes_.ReapIdle(now);
    std::vector<std::shared_ptr<Session>> idle;
    {
      absl::MutexLock lock(&mu_);
      for (auto it = sessions_.begin(); it != sessions_.end();) {
        const Session& session = *it->second;
        // A call about one of its processes counts as one about the session.
        absl::Time used = std::max(session.last_used(), processes_.LastUsedIn(session.id()));
        if (now - used > session.idle_timeout()) {
          ++closing_by_[session.owner()];
          idle.push_back(std::move(it->second));
          it = sessions_.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (const auto& session : idle) End(session);
  }
}

}  // namespace sandboxd

#ifndef SANDBOXD_SANDBOX_SESSION_SESSION_TABLE_H_
#define SANDBOXD_SANDBOX_SESSION_SESSION_TABLE_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "sandbox/policy/open_path.h"
#include "sandbox/policy/config.h"
#include "sandbox/session/process_table.h"
#include "sandbox/v1/sandbox.pb.h"

namespace sandboxd {

// A session: a /tmp of its own that every call naming it shares, and the request
// fields its calls default to.
class Session {
 public:
  Session(std::string id, std::string owner, sandbox::v1::ExecRequest defaults,
          absl::Duration idle_timeout, OpenPath tmp)
      : id_(std::move(id)), owner_(std::move(owner)), defaults_(std::move(defaults)),
        idle_timeout_(idle_timeout), tmp_(std::move(tmp)) {}

  const std::string& id() const { return id_; }
  const std::string& owner() const { return owner_; }
  // Its policy, cwd and env, for calls that set none.
  const sandbox::v1::ExecRequest& defaults() const { return defaults_; }
  absl::Duration idle_timeout() const { return idle_timeout_; }
  absl::Time created() const { return created_; }
  // Its /tmp on the host, held open (what a sandbox binds at /tmp).
  const OpenPath& tmp() const { return tmp_; }
  void Touch();
  absl::Time last_used() const;

  // Holds the session for a run (false once it has ended); Leave gives it back.
  bool Enter();
  void Leave();
  bool ended() const { return ended_.load(); }
  // Marks it ended, so that runs in it are cancelled and none starts, and waits up to
  // `deadline` for the runs that hold it to give it back.
  void End(absl::Time deadline);

 private:
  const std::string id_;
  const std::string owner_;
  const sandbox::v1::ExecRequest defaults_;
  const absl::Duration idle_timeout_;
  const absl::Time created_ = absl::Now();
  const OpenPath tmp_;
  mutable absl::Mutex mu_;
  absl::Time last_used_ ABSL_GUARDED_BY(mu_) = absl::Now();
  int leases_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<bool> ended_{false};
};

// Holds `session` for a run until the last copy of the result goes (Plan::lease), and
// says when it has ended (Plan::ended). NOT_FOUND once it has.
absl::Status LeaseFor(const std::shared_ptr<Session>& session, std::shared_ptr<void>& lease,
                      std::function<bool()>& ended);

struct SessionBounds {
  int max_per_owner = 8;
  int max_total = 64;
  // The size of a session's /tmp: a tmpfs of this size where the server may mount one
  // (root with CAP_SYS_ADMIN), its pages charged to the commands that write them; 0,
  // or a server that may not mount: a plain directory, bounded only by the disk and
  // each command's limits.file_size_bytes.
  uint64_t tmp_bytes = uint64_t{1} << 30;
  // How often idle processes and sessions are looked for.
  absl::Duration reap_interval = absl::Seconds(1);
};

// The sessions of this replica, each its owner's alone (another identity's id is
// NOT_FOUND), and the reaper of idle ones (no call named them or their processes for
// their idle time) and of idle processes. A session's /tmp is a
// directory below `dir` (which commands never see: the server's state directory),
// owned by the commands' user; it goes when the session closes, after its processes.
// Thread-safe.
class SessionTable {
 public:
  // Removes what a previous server left in `dir` (sessions do not outlive their
  // server), and starts reaping.
  static absl::StatusOr<std::unique_ptr<SessionTable>> Create(
      std::string dir, std::optional<HostUser> user, ProcessTable& processes,
      SessionBounds bounds);
  // Closes every session.
  ~SessionTable();

  // A new session of `owner`'s. RESOURCE_EXHAUSTED past max_per_owner.
  absl::StatusOr<std::shared_ptr<Session>> Open(const std::string& owner,
                                                sandbox::v1::ExecRequest defaults,
                                                absl::Duration idle_timeout);
  // The owner's session `id`, marked used: INVALID_ARGUMENT, FAILED_PRECONDITION
  // (another replica's, see CheckId) or NOT_FOUND.
  absl::StatusOr<std::shared_ptr<Session>> Find(const std::string& owner, const std::string& id);
  // Ends the owner's session `id`: its processes, then its /tmp.
  absl::Status Close(const std::string& owner, const std::string& id);
  std::vector<std::shared_ptr<Session>> List(const std::string& owner) const;
  // Ends every session.
  void CloseAll();
  // What a session's /tmp is ("a tmpfs of 1073741824 bytes", or why a directory).
  std::string tmp_note() const;

 private:
  SessionTable(std::string dir, std::optional<HostUser> user, ProcessTable& processes,
               SessionBounds bounds)
      : dir_(std::move(dir)), user_(std::move(user)), processes_(processes), bounds_(bounds) {}
  void End(const std::shared_ptr<Session>& session);
  // Makes the session's /tmp, and the session.
  absl::StatusOr<std::shared_ptr<Session>> Make(const std::string& owner,
                                                sandbox::v1::ExecRequest defaults,
                                                absl::Duration idle_timeout);
  void Reap();
  // Mounts a tmpfs of bounds_.tmp_bytes on `path` for `user`, where the server may.
  void MountTmpfs(const std::string& path);

  const std::string dir_;
  const std::optional<HostUser> user_;
  ProcessTable& processes_;
  const SessionBounds bounds_;
  mutable absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<Session>> sessions_ ABSL_GUARDED_BY(mu_);
  // Why this server makes no sessions, or empty.
  std::string refused_;
  // Sessions being made (counted against the bounds before they are in sessions_).
  int opening_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, int> opening_by_ ABSL_GUARDED_BY(mu_);
  // Sessions taken out of sessions_ whose End has not finished, per owner: still
  // counted against the bounds.
  std::map<std::string, int> closing_by_ ABSL_GUARDED_BY(mu_);
  // Whether sessions get a tmpfs (the first mount decides), and what it is.
  std::atomic<bool> mounts_{true};
  std::string tmp_note_ ABSL_GUARDED_BY(mu_);
  absl::Notification stop_;
  std::thread reaper_;
};

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_SESSION_SESSION_TABLE_H_

#ifndef SANDBOXD_SANDBOX_SESSION_PROCESS_TABLE_H_
#define SANDBOXD_SANDBOX_SESSION_PROCESS_TABLE_H_

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/unique_fd.h"
#include "sandbox/runner.h"
#include "sandbox/session/output_ring.h"

namespace sandboxd {

// What a process is started with.
struct ProcessSpec {
  // The identity that starts it, and so owns it.
  std::string owner;
  // Its session's id, or empty.
  std::string session_id;
  // The command as asked, for listings.
  std::vector<std::string> argv;
  // Planned as Exec would plan it; a terminal's through UseHelper.
  Plan plan;
  bool terminal = false;
  std::string initial_stdin;
  // How long it may go without a call about it.
  absl::Duration idle_timeout = absl::Minutes(10);
};

// What processes may cost.
struct ProcessBounds {
  // Processes kept (running, or exited and not yet forgotten), per owner and in all.
  int max_per_owner = 16;
  int max_total = 64;
  // Bytes of each output stream kept for reading again.
  size_t output_bytes = size_t{1} << 20;
  // Reads waiting for output at once, per owner (each holds a thread of the server's).
  int max_waiting_per_owner = 16;
};

// One process started by id: it runs on a thread of its own through the Runner, under
// its plan (policy, limits, cgroup, seccomp, as Exec), with its stdin a pipe that calls
// write into, its output kept in rings that calls read from. Thread-safe.
class Process {
 public:
  Process(std::string id, ProcessSpec spec, size_t output_bytes);
  // Kills it if it still runs, and waits for its thread.
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  // Makes its pipes: once they exist, Kill works, even before Begin.
  absl::Status Prepare();
  // Starts it on its own thread; its stdin gets spec.initial_stdin first.
  absl::Status Begin(const Runner& runner);

  // What a read sees.
  struct Output {
    OutputRing::Slice out, err;
    uint64_t out_total = 0, err_total = 0;
    bool running = true;
    // Once it has exited: how (or why it could not run).
    std::optional<absl::StatusOr<RunResult>> outcome;
  };
  // Output from the offsets, up to `max_bytes` of each stream; until `deadline`, waits
  // for output past them or for the exit (with `until_exit`, for the exit only), unless
  // `gone` (asked a few times a second) says the reader went away.
  Output Read(uint64_t out_offset, uint64_t err_offset, size_t max_bytes, absl::Time deadline,
              bool until_exit, const std::function<bool()>& gone = nullptr);
  // Writes `data` to its stdin (its terminal's input), then closes it if `close`.
  // Returns the bytes written: all, or those that fit before `deadline` (a command
  // that does not read); DEADLINE_EXCEEDED when none did. FAILED_PRECONDITION once
  // stdin is closed or the process has exited.
  absl::StatusOr<size_t> Write(absl::string_view data, bool close, absl::Time deadline);
  // Delivers `number` to its process group (on a terminal, the helper hands it to the
  // foreground job). FAILED_PRECONDITION once it has exited.
  absl::Status Signal(int number);
  // FAILED_PRECONDITION without a terminal, or once it has exited.
  absl::Status Resize(uint16_t rows, uint16_t cols, absl::Time deadline);
  // Kills its whole tree and waits (up to `deadline`) for it to be gone.
  void Kill(absl::Time deadline);

  const std::string& id() const { return id_; }
  const std::string& owner() const { return spec_.owner; }
  const std::string& session_id() const { return spec_.session_id; }
  const std::vector<std::string>& argv() const { return spec_.argv; }
  bool terminal() const { return spec_.terminal; }
  const Plan& plan() const { return spec_.plan; }
  absl::Time started() const { return started_; }
  bool running() const;
  // Marks it used now; and whether it has gone unused past its idle timeout.
  void Touch();
  absl::Time last_used() const;
  bool IdleAt(absl::Time now) const;

 private:
  void Run(const Runner& runner);
  void Append(int fd, absl::string_view data);
  // Writes some of `bytes` to stdin, waiting up to `deadline` for room.
  absl::StatusOr<size_t> WriteSome(absl::string_view bytes, absl::Time deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Writes a terminal's `frame` whole (a frame cut short would corrupt what follows):
  // it waits up to `deadline` for room for all of it before it begins.
  absl::Status WriteWhole(absl::string_view frame, absl::Time deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);

  const std::string id_;
  const ProcessSpec spec_;
  const absl::Time started_ = absl::Now();
  UniqueFd stdin_read_, stdin_write_ ABSL_GUARDED_BY(write_mu_);
  UniqueFd signal_read_, signal_write_;
  UniqueFd cancel_read_, cancel_write_;
  std::thread thread_;
  std::atomic<bool> begun_{false};

  // Writers queue here, so that frames and writes never interleave.
  absl::Mutex write_mu_;
  mutable absl::Mutex mu_;
  absl::CondVar changed_;
  OutputRing out_ ABSL_GUARDED_BY(mu_);
  OutputRing err_ ABSL_GUARDED_BY(mu_);
  std::optional<absl::StatusOr<RunResult>> outcome_ ABSL_GUARDED_BY(mu_);
  absl::Time last_used_ ABSL_GUARDED_BY(mu_) = absl::Now();
};

// The processes started by id on this replica, each its owner's alone: another
// identity's id is NOT_FOUND, as an unknown one is. Thread-safe.
class ProcessTable {
 public:
  ProcessTable(const Runner& runner, ProcessBounds bounds, std::string replica)
      : runner_(runner), bounds_(bounds), replica_(std::move(replica)) {}
  // Kills every process and waits for them.
  ~ProcessTable() { KillAll(); }

  // Starts `spec` and keeps it by its new id. RESOURCE_EXHAUSTED past the bounds.
  absl::StatusOr<std::shared_ptr<Process>> Start(ProcessSpec spec);
  // The owner's process `id`, marked used. INVALID_ARGUMENT, FAILED_PRECONDITION (another
  // replica's id, see CheckId) or NOT_FOUND.
  absl::StatusOr<std::shared_ptr<Process>> Find(const std::string& owner, const std::string& id);
  // Kills the owner's process `id` and forgets it.
  absl::StatusOr<std::shared_ptr<Process>> Remove(const std::string& owner, const std::string& id);
  // The owner's processes (of `session_id` only, unless empty), oldest first.
  std::vector<std::shared_ptr<Process>> List(const std::string& owner,
                                             const std::string& session_id) const;
  // Kills and forgets the processes of a session (when it closes).
  void EndSession(const std::string& session_id);
  // How many of the session's processes run.
  int RunningIn(const std::string& session_id) const;
  // When a call last named one of the session's processes (InfinitePast: none did).
  absl::Time LastUsedIn(const std::string& session_id) const;
  // Kills running processes idle past their timeout, and forgets exited ones likewise.
  void ReapIdle(absl::Time now);
  // Kills and forgets every process (for shutdown).
  void KillAll();

  // Holds one of the owner's waiting reads until destroyed.
  class Waiter {
   public:
    Waiter(ProcessTable* table, std::string owner) : table_(table), owner_(std::move(owner)) {}
    Waiter(Waiter&& other) noexcept : table_(other.table_), owner_(std::move(other.owner_)) {
      other.table_ = nullptr;
    }
    ~Waiter();

   private:
    ProcessTable* table_;
    std::string owner_;
  };
  // RESOURCE_EXHAUSTED when the owner has max_waiting_per_owner reads waiting.
  absl::StatusOr<Waiter> Wait(const std::string& owner);

  const std::string& replica() const { return replica_; }
  const ProcessBounds& bounds() const { return bounds_; }

 private:
  // Takes out, under the lock, the processes `pick` chooses; they are killed outside it.
  template <typename Pick>
  std::vector<std::shared_ptr<Process>> TakeIf(Pick pick);

  const Runner& runner_;
  const ProcessBounds bounds_;
  const std::string replica_;
  mutable absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<Process>> processes_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int> waiting_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_SESSION_PROCESS_TABLE_H_

#ifndef SANDBOXD_SANDBOX_EXEC_WORKER_H_
#define SANDBOXD_SANDBOX_EXEC_WORKER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sandbox/v1/sandbox.pb.h"
#include "sandbox/exec/output_buffer.h"
#include "sandbox/exec/spawn.h"
#include "sandboxd/launch/v1/launch.pb.h"
#include "base/unique_fd.h"

namespace sandboxd {

class ProcessStarter;
using ::sandboxd::launch::v1::LaunchOrder;

// The process to start, as a plan renders it (plan.h).
struct LaunchCommand {
  // argv[0] is the absolute path of the program to execute (bwrap, or the command
  // itself with no sandbox).
  std::vector<std::string> argv;
  // The directory the process starts in.
  std::string cwd = "/";
  // The complete environment, "NAME=value" entries.
  std::vector<std::string> env;
  // A BPF program handed to the process on fd kSeccompFd; empty for none.
  std::string seccomp_bpf;
  // Descriptors handed to the process from kFirstPassedFd on (the directories bwrap
  // binds); they need a seccomp filter before them.
  std::vector<SharedFd> passed_fds;
  // What each of them is (a path), for Explain.
  std::vector<std::string> passed_fd_paths;
  // With sandboxd-launch in front: what it is asked, of which argv (from argv[1]) is
  // the command line. A pre-started launcher gets the order itself.
  std::optional<LaunchOrder> order;
  // Optional: what starts the process instead of a fresh spawn, such as a
  // sandboxd-launch already started (argv[0] then names it, and it execs the rest of
  // argv). Not owned.
  ProcessStarter* starter = nullptr;
  // The process is bwrap with a pid namespace of its own. Signals then go two
  // generations down (bwrap, its init, the command). And once bwrap has exited, the
  // namespace is being torn down with everything in it, so the output is what the
  // pipes hold then (its init can keep them open a fraction of a millisecond longer
  // while it exits; waiting for that EOF cost every request about 0.2 ms).
  bool bwrap_pid_namespace = false;
};

// The run's input, output and bounds: what the caller (the gRPC edge) owns.
struct RunIo {
  std::string stdin_data;
  absl::Duration timeout;
  // Bytes kept of each of stdout and stderr.
  size_t output_limit = 0;
  // Optional: when this fd becomes readable or hangs up, the process tree is killed
  // and the result says CANCELLED. Not owned.
  int cancel_fd = -1;
  // Optional: polled a few times a second; when it says true, the tree is killed and
  // the result says CANCELLED (a gRPC client that went away).
  std::function<bool()> is_cancelled;

  // Streaming. The command's stdin when set, instead of stdin_data: the caller writes
  // into the pipe's other end. Not owned.
  int stdin_fd = -1;
  // Streaming. Each byte read from it is a signal number to deliver to the command's
  // process group. Not owned.
  int signal_fd = -1;
  // Streaming. Receives output as it arrives, up to output_limit bytes per stream, on
  // the calling thread; RunResult's buffers then only count.
  std::function<void(int fd, uint64_t offset, absl::string_view data)> on_output;
};

// Both, for callers that make a process and its run together (tests, host probes).
struct Launch : LaunchCommand, RunIo {};

// What starts a process instead of SpawnChild: a launcher already running
// (launcher/prestarted_launcher.h), or a test's fake.
class ProcessStarter {
 public:
  virtual ~ProcessStarter() = default;
  // Starts `command` as SpawnChild would, with `fds` as its 0, 1, 2 and onwards, and
  // returns its pid, a child of the caller.
  virtual absl::StatusOr<pid_t> Exec(const LaunchCommand& command, const ChildFds& fds) = 0;
};

// How a run ended: the wire API's enum (sandbox.proto).
using ::sandbox::v1::Termination;

// What happened to a worker that ran.
struct RunResult {
  explicit RunResult(size_t output_limit) : stdout_data(output_limit), stderr_data(output_limit) {}

  Termination termination = Termination::EXITED;
  int exit_code = 0;
  // The signal that ended the worker (SIGNALED, TIMED_OUT, CANCELLED).
  int signal = 0;
  OutputBuffer stdout_data;
  OutputBuffer stderr_data;
  absl::Duration wall_time;
  absl::Duration user_cpu;
  absl::Duration system_cpu;
  uint64_t max_rss_bytes = 0;
  // The first kStderrHeadBytes of stderr, kept even when it streams: where bwrap and
  // the launchers say why a sandbox could not be set up.
  std::string stderr_head;
  // What the command's cgroup saw: the kernel's OOM killer, forks refused at pids.max.
  bool oom_killed = false;
  bool forks_refused = false;
  // How it ended, in a sentence for the client (see outcome.h).
  std::string message;
  // NETWORK_PROXY_ROUTED: what the proxy refused the command.
  std::vector<sandbox::v1::NetworkDenial> network_denials;
};

inline constexpr size_t kStderrHeadBytes = 1024;

// Starts `command` as a new process in its own session, feeds its stdin, collects stdout
// and stderr concurrently (a command that fills one pipe cannot stall on the other), and
// waits for it. Past the timeout, or when cancelled, it kills the process with SIGKILL;
// bwrap's --die-with-parent and its pid namespace take the rest of the tree with it.
// Its process group is killed as well. on_output is called with fd 1 or 2.
//
// Safe to call from any thread of a multithreaded process: the process is started with
// SpawnChild (spawn.h) or handed to a launcher that is already running. The calling
// process must ignore SIGPIPE (a command may close its stdin early). Returns
// FAILED_PRECONDITION when the program cannot be started, INTERNAL when the kernel
// refuses pipes or process handles.
absl::StatusOr<RunResult> RunWorker(const LaunchCommand& command, const RunIo& io);
inline absl::StatusOr<RunResult> RunWorker(const Launch& launch) { return RunWorker(launch, launch); }

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_EXEC_WORKER_H_

#ifndef SANDBOXD_SANDBOX_WORKER_H_
#define SANDBOXD_SANDBOX_WORKER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sandbox/output_buffer.h"

namespace sandboxd {

// The file descriptor on which the worker hands Launch::seccomp_bpf to its program
// (bwrap reads it with --seccomp).
inline constexpr int kSeccompFd = 3;

// Everything needed to start one worker process, decided before it starts.
struct Launch {
  // argv[0] is the absolute path of the program to execute (bwrap, or the command
  // itself with no sandbox).
  std::vector<std::string> argv;
  // The directory the process starts in.
  std::string cwd = "/";
  // The complete environment, "NAME=value" entries.
  std::vector<std::string> env;
  std::string stdin_data;
  // A BPF program handed to the process on fd kSeccompFd; empty for none.
  std::string seccomp_bpf;
  absl::Duration timeout;
  // Bytes kept of each of stdout and stderr.
  size_t output_limit = 0;
  // Optional: when this fd becomes readable or hangs up, the process tree is killed
  // and the result says kCancelled. Not owned.
  int cancel_fd = -1;
};

enum class Termination { kExited, kSignaled, kTimedOut, kCancelled };

// What happened to a worker that ran.
struct RunResult {
  explicit RunResult(size_t output_limit) : stdout_data(output_limit), stderr_data(output_limit) {}

  Termination termination = Termination::kExited;
  int exit_code = 0;
  // The signal that ended the worker (kSignaled, kTimedOut, kCancelled).
  int signal = 0;
  OutputBuffer stdout_data;
  OutputBuffer stderr_data;
  absl::Duration wall_time;
  absl::Duration user_cpu;
  absl::Duration system_cpu;
  uint64_t max_rss_bytes = 0;
};

// Starts `launch` as a new process in its own session, feeds its stdin, collects stdout
// and stderr concurrently (a command that fills one pipe cannot stall on the other), and
// waits for it. Past the timeout, or on cancel_fd, it kills the process with SIGKILL; bwrap's
// --die-with-parent and its pid namespace take the rest of the tree with it. With no
// sandbox, the process group is killed as well.
//
// Safe to call from any thread of a multithreaded process: the process is started with
// posix_spawn (clone with CLONE_VFORK), so nothing but fd set-up and exec runs in the
// child. The calling process must ignore SIGPIPE (a command may close its stdin early).
// Returns FAILED_PRECONDITION when the program cannot be started, INTERNAL when the
// kernel refuses pipes or process handles.
absl::StatusOr<RunResult> RunWorker(const Launch& launch);

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_WORKER_H_

#ifndef SANDBOXD_SANDBOX_EXEC_OUTCOME_H_
#define SANDBOXD_SANDBOX_EXEC_OUTCOME_H_

#include "absl/time/time.h"
#include "sandbox/policy/limits.h"
#include "sandbox/exec/worker.h"

namespace sandboxd {

// What bounded a run, for telling how it ended.
struct RunBounds {
  Limits limits;
  absl::Duration timeout;
  size_t output_limit = 0;
  // The command ran under bwrap, which reports a command killed by signal N as exiting
  // with 128 + N.
  bool under_bwrap = false;
};

// Tells how a run ended, the way a client can act on it without reading stderr: sets
// `result`'s termination, exit_code, signal and message from what the worker saw (an
// exit status, a signal, its own kill), what the cgroup saw (an OOM kill, forks
// refused), and what bwrap or the launchers said when they failed before the command
// ran.
//  - Death by a signal is reported one way, whoever sent it (the client, a limit, the
//    OOM killer, the command itself): `signal` is its number and exit_code 128 + it, as
//    shells report it. Under bwrap an exit with 128 + N (N at most 64) is taken as
//    death by signal N; bwrap reports both alike.
//  - A limit that ended the command names the termination: MEMORY_LIMIT, CPU_LIMIT,
//    FILE_SIZE_LIMIT, PROCESS_LIMIT (a fork refused, then a failure), TIMED_OUT.
//  - When stderr holds nothing but one line from bwrap or a launcher, the sandbox or
//    the program's exec failed: EXEC_FAILED (127 when the program does not exist, 126
//    otherwise) or SETUP_FAILED, with that line in the message.
void ConcludeRun(const RunBounds& bounds, RunResult& result);

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_EXEC_OUTCOME_H_

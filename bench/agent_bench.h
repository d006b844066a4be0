#ifndef SANDBOXD_BENCH_AGENT_BENCH_H_
#define SANDBOXD_BENCH_AGENT_BENCH_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sandbox/v1/sandbox.grpc.pb.h"

namespace sandboxd::bench {

// What an agent's calls cost: moving a file through WriteFile and ReadFile against
// `cat FILE` on the host into a pipe, and a line's round trip through a terminal
// process (StartProcess, WriteProcess, ReadProcess) against a local pty.
struct AgentFigures {
  // Medians of `file_runs` transfers of `file_bytes` each, in 1 MiB chunks; the
  // baseline reads the same file, as the download does, from a warm page cache.
  uint64_t file_bytes = 0;
  int file_runs = 0;
  double upload_mib_s = 0;
  double download_mib_s = 0;
  double cat_pipe_mib_s = 0;
  // A line written to `cat` on a terminal until cat's copy of it comes back (after the
  // terminal's own echo), `echo_samples` times: through the server, and through a pty
  // on the host without it.
  int echo_samples = 0;
  absl::Duration echo_p50, echo_p90;
  absl::Duration local_echo_p50, local_echo_p90;
};

// `workspace` is a directory that the server's commands may write (the file goes
// there, and is removed afterwards).
absl::StatusOr<AgentFigures> MeasureAgent(::sandbox::v1::SandboxService::Stub& stub,
                                          const std::string& workspace, uint64_t file_bytes,
                                          int echo_samples);

}  // namespace sandboxd::bench

#endif  // SANDBOXD_BENCH_AGENT_BENCH_H_

#ifndef SANDBOXD_CLIENT_PROCESS_OUTPUT_H_
#define SANDBOXD_CLIENT_PROCESS_OUTPUT_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/connection.h"
#include "sandbox/v1/sandbox.grpc.pb.h"

// Reading a process's output by offsets, as `sandboxctl read` and `exec -t` do.

namespace sandboxd {

// How far a reader has read each stream of a process.
struct OutputOffsets {
  uint64_t out = 0;
  uint64_t err = 0;
};

// The longest one ReadProcess may wait (the server's bound).
inline constexpr absl::Duration kMaxPoll = absl::Seconds(60);

// Whether `output` says the process has exited and holds the last of its output.
bool Finished(const sandbox::v1::ProcessOutput& output);

// Reads process `id`'s output from `offsets` (which it advances), calling `on_output`
// with every answer: once, or with `follow`, again and again until the process has
// exited and all of its output has been read, `deadline` has passed, or `on_output`
// returns false. Each call waits up to `poll` (at most kMaxPoll) for output or the
// exit, and no later than `deadline`. Returns the last answer, or the call's error.
absl::StatusOr<sandbox::v1::ProcessOutput> ReadOutput(
    sandbox::v1::SandboxService::Stub& stub, const Connection& connection,
    const std::string& id, OutputOffsets& offsets, absl::Duration poll, absl::Time deadline,
    bool follow, const std::function<bool(const sandbox::v1::ProcessOutput&)>& on_output);

// Writes the bytes of `output`: stdout's to fd 1, stderr's to fd 2. False once a write
// fails.
bool WriteOutput(const sandbox::v1::ProcessOutput& output);

// One line for stderr after a read: where to read from next, bytes no longer kept, and
// whether the process runs or how it ended, e.g.
// "next: --stdout-offset=12 --stderr-offset=0; exited with 0".
std::string FormatReadStatus(const sandbox::v1::ProcessOutput& output);

}  // namespace sandboxd

#endif  // SANDBOXD_CLIENT_PROCESS_OUTPUT_H_

#ifndef SANDBOXD_CLIENT_STREAM_EXEC_H_
#define SANDBOXD_CLIENT_STREAM_EXEC_H_

#include <signal.h>

#include "absl/status/statusor.h"
#include "client/connection.h"
#include "sandbox/v1/sandbox.grpc.pb.h"

namespace sandboxd {

// The signals `sandboxctl exec` forwards to the command. Block them in every thread
// (before any gRPC object exists) and hand the set to StreamExec.
sigset_t ForwardedSignals();

// Runs `request` through ExecStream: prints output as it arrives (or, with `collect`,
// gathers it into the result's stdout and stderr instead), passes this program's stdin
// on (unless `pass_stdin` is false; EOF closes the command's stdin), and forwards the
// signals in `signals` to the command. Returns the final result, or the call's error.
absl::StatusOr<sandbox::v1::ExecResponse> StreamExec(const Connection& connection,
                                                     const sandbox::v1::ExecRequest& request,
                                                     bool pass_stdin, const sigset_t& signals,
                                                     bool collect = false);

}  // namespace sandboxd

#endif  // SANDBOXD_CLIENT_STREAM_EXEC_H_

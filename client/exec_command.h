#ifndef SANDBOXD_CLIENT_EXEC_COMMAND_H_
#define SANDBOXD_CLIENT_EXEC_COMMAND_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/args.h"
#include "sandbox/v1/sandbox.pb.h"

namespace sandboxd {

// Exit codes of `sandboxctl exec` besides the command's own.
inline constexpr int kExitTimedOut = 124;     // As timeout(1).
inline constexpr int kExitClientError = 125;  // Bad usage, server unreachable, refused.

// The options of `sandboxctl exec`.
const std::vector<OptionSpec>& ExecOptions();

// Builds the request for `sandboxctl exec` from its parsed options and command.
// `cwd` is used when --cwd is absent. INVALID_ARGUMENT for unusable option values.
absl::StatusOr<sandbox::v1::ExecRequest> BuildExecRequest(const ParsedArgs& args,
                                                          const std::string& cwd);

// `response` for people: backend, seccomp mode, cwd, timeout, environment, and the
// argv as one shell-quoted command line.
std::string FormatExplanation(const sandbox::v1::ExplainResponse& response);

// `response` for people, one fact a line, then the notes.
std::string FormatCapabilities(const sandbox::v1::GetCapabilitiesResponse& response);

// What `sandboxctl exec` exits with: the command's exit code (128 + signal when a
// signal or a limit killed it, 127 or 126 when its program could not be executed),
// kExitTimedOut when it timed out, kExitClientError when it was cancelled or its
// sandbox could not be set up.
int ExitCodeFor(const sandbox::v1::ExecResponse& response);

// What the proxy refused the command (response.network_denials), a line each:
// "sandboxctl: the proxy refused evil.test:443 (connect, domain_not_allowed): ...".
std::string FormatDenials(const sandbox::v1::ExecResponse& response);

// For --json: output that is valid UTF-8 moves to stdout_text and stderr_text, where
// JSON shows it as text; the rest stays in the bytes fields (base64 in JSON).
void PreferText(sandbox::v1::ExecResponse& response);

}  // namespace sandboxd

#endif  // SANDBOXD_CLIENT_EXEC_COMMAND_H_

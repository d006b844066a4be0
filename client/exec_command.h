#ifndef SANDBOXD_CLIENT_EXEC_COMMAND_H_
#define SANDBOXD_CLIENT_EXEC_COMMAND_H_

#include <string>
#include <vector>

#include <google/protobuf/duration.pb.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/args.h"
#include "sandbox/v1/sandbox.pb.h"

namespace sandboxd {

// Exit codes of `sandboxctl exec` besides the command's own.
inline constexpr int kExitTimedOut = 124;     // As timeout(1).
inline constexpr int kExitClientError = 125;  // Bad usage, server unreachable, refused.

// The options of `sandboxctl exec`.
const std::vector<OptionSpec>& ExecOptions();

// Builds the request for `sandboxctl exec` from its parsed options and command.
// `cwd` is used when --cwd is absent. With --session, the request names the session
// and leaves to it what no option names: the policy (unless a policy option is given,
// which then replaces the session's whole policy) and the cwd (unless --cwd).
// INVALID_ARGUMENT for unusable option values.
absl::StatusOr<sandbox::v1::ExecRequest> BuildExecRequest(const ParsedArgs& args,
                                                          const std::string& cwd);

// All of exec's options but the command and --session: policy, cwd (`cwd` without
// --cwd), environment, timeout and output limit. A session's defaults.
absl::StatusOr<sandbox::v1::ExecRequest> BuildExecDefaults(const ParsedArgs& args,
                                                           const std::string& cwd);

// Whether any option of the sandbox policy is given (--mode, --writable, --network,
// the limits, ...).
bool NamesPolicy(const ParsedArgs& args);

// The sandbox policy the policy options (of ExecOptions) describe.
absl::StatusOr<sandbox::v1::SandboxPolicy> BuildPolicy(const ParsedArgs& args);

// The value of --`option` (`fallback` when absent): a duration such as 500ms, 30s or
// 5m, or whole seconds; 0 allowed. INVALID_ARGUMENT otherwise.
absl::StatusOr<absl::Duration> DurationOption(const ParsedArgs& args, const std::string& option,
                                              absl::Duration fallback);

// `duration` as a protobuf Duration.
void SetDuration(absl::Duration duration, google::protobuf::Duration& out);

// `word` quoted for a POSIX shell when it needs it.
std::string ShellQuote(const std::string& word);

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

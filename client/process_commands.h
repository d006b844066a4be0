#ifndef SANDBOXD_CLIENT_PROCESS_COMMANDS_H_
#define SANDBOXD_CLIENT_PROCESS_COMMANDS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/cli.h"
#include "sandbox/v1/sandbox.pb.h"

// sandboxctl's commands about processes by id: start, read, write, signal, resize, ps
// and kill.

namespace sandboxd {

const std::vector<Subcommand>& ProcessCommands();

// INT, TERM, KILL, HUP or QUIT, in any case, with or without SIG.
absl::StatusOr<sandbox::v1::Signal> ParseSignalName(const std::string& name);

// "ROWSxCOLS" (30x100) as a terminal's size: each between 1 and 10000.
absl::StatusOr<std::pair<uint32_t, uint32_t>> ParseTerminalSize(const std::string& text);

// A table for people: a header, then one process a line (id, state, terminal, session,
// start, command line).
std::string FormatProcesses(const sandbox::v1::ListProcessesResponse& response);

}  // namespace sandboxd

#endif  // SANDBOXD_CLIENT_PROCESS_COMMANDS_H_

#ifndef SANDBOXD_CLIENT_SESSION_COMMANDS_H_
#define SANDBOXD_CLIENT_SESSION_COMMANDS_H_

#include <string>
#include <vector>

#include "client/cli.h"
#include "sandbox/v1/sandbox.pb.h"

// sandboxctl session create|close|ls.

namespace sandboxd {

const std::vector<Subcommand>& SessionCommands();

// A table for people: a header, then one session a line.
std::string FormatSessions(const sandbox::v1::ListSessionsResponse& response);

}  // namespace sandboxd

#endif  // SANDBOXD_CLIENT_SESSION_COMMANDS_H_

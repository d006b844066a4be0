#ifndef SANDBOXD_CLIENT_CLI_H_
#define SANDBOXD_CLIENT_CLI_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <google/protobuf/message.h>
#include <google/protobuf/timestamp.pb.h>
#include <grpcpp/client_context.h>
#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "client/args.h"
#include "client/connection.h"

// What every sandboxctl subcommand shares: its entry in the command table, parsing its
// words with --help, and how it reports a failure.

namespace sandboxd {

struct Subcommand;

// How a subcommand runs: as `self`, with the connection, the words after its name, and
// whether --json was given. Returns the exit code.
using SubcommandMain = int (*)(const Subcommand& self, const Connection& connection,
                               const std::vector<std::string>& words, bool json);

struct Subcommand {
  const char* name;      // "read", or "session create".
  const char* synopsis;  // What follows the name in usage: "ID [options]".
  const char* summary;   // One line for the command list.
  SubcommandMain run;
};

// Prints "sandboxctl: MESSAGE" to stderr and returns kExitClientError (125).
int Fail(const std::string& message);

// Fail for a call that failed: the server's message, and for UNAVAILABLE how to reach
// a server.
int RpcFailure(const Connection& connection, const grpc::Status& status);
int RpcFailure(const Connection& connection, const absl::Status& status);

// `message` as one line of JSON on stdout, field names as in the proto.
void PrintJson(const google::protobuf::Message& message);

// `specs` without the options named in `names`.
std::vector<OptionSpec> Without(std::vector<OptionSpec> specs,
                                const std::vector<std::string>& names);

// The time `timestamp` says, as 2024-05-01T12:00:00Z.
std::string FormatTimestamp(const google::protobuf::Timestamp& timestamp);

// Parses `command`'s words against `specs` (plus --help). When --help is asked for it
// prints the usage and the options and sets `exit_code` to 0; on a parse error, or
// when the words after the options are fewer than `min_words` or more than
// `max_words` (-1: any), it reports the error and sets it to 125. Returns nullopt in
// those cases.
std::optional<ParsedArgs> ParseCommand(const Subcommand& command, std::vector<OptionSpec> specs,
                                       const std::vector<std::string>& words, bool interspersed,
                                       int min_words, int max_words, int& exit_code);

// A context for one call: with the connection's token, and a deadline `timeout` from
// now (none when it is infinite).
std::unique_ptr<grpc::ClientContext> NewContext(const Connection& connection,
                                                absl::Duration timeout);

// How long sandboxctl waits for a call that does not wait itself.
inline constexpr absl::Duration kCallTimeout = absl::Seconds(60);

}  // namespace sandboxd

#endif  // SANDBOXD_CLIENT_CLI_H_

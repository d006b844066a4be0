#include "client/cli.h"

#include <algorithm>
#include <iostream>

#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/exec_command.h"

namespace sandboxd {

int Fail(const std::string& message) {
  std::cerr << "sandboxctl: " << message << "\n";
  return kExitClientError;
}

int RpcFailure(const Connection& connection, const grpc::Status& status) {
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    return Fail(absl::StrCat("cannot reach sandboxd at ", connection.address(), ": ",
                             status.error_message(),
                             "\nIs the server running? Start it with tools/serve, or point "
                             "--server or $SANDBOXD_ADDRESS at it."));
  }
  return Fail(status.error_message());
}

int RpcFailure(const Connection& connection, const absl::Status& status) {
  return RpcFailure(connection, grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                                             std::string(status.message())));
}

void PrintJson(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  if (!google::protobuf::util::MessageToJsonString(message, &json, options).ok()) return;
  std::cout << json << "\n";
}

std::vector<OptionSpec> Without(std::vector<OptionSpec> specs,
                                const std::vector<std::string>& names) {
  specs.erase(std::remove_if(specs.begin(), specs.end(),
                             [&](const OptionSpec& spec) {
                               return std::find(names.begin(), names.end(), spec.name) !=
                                      names.end();
                             }),
              specs.end());
  return specs;
}

std::string FormatTimestamp(const google::protobuf::Timestamp& timestamp) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(timestamp.seconds()),
                          absl::UTCTimeZone());
}

std::optional<ParsedArgs> ParseCommand(const Subcommand& command, std::vector<OptionSpec> specs,
                                       const std::vector<std::string>& words, bool interspersed,
                                       int min_words, int max_words, int& exit_code) {
  bool has_help = false;
  for (const OptionSpec& spec : specs) has_help = has_help || spec.name == "help";
  if (!has_help) specs.push_back({"help", "", "show this help"});
  absl::StatusOr<ParsedArgs> args = ParseArgs(words, specs, interspersed);
  if (!args.ok()) {
    exit_code = Fail(absl::StrCat(args.status().message(), " (see sandboxctl ", command.name,
                                  " --help)"));
    return std::nullopt;
  }
  if (args->Has("help")) {
    std::cout << "Usage: sandboxctl " << command.name << " " << command.synopsis << "\n\n"
              << command.summary << "\n\nOptions:\n"
              << OptionsHelp(specs);
    exit_code = 0;
    return std::nullopt;
  }
  int count = static_cast<int>(args->rest.size());
  if (count < min_words || (max_words >= 0 && count > max_words)) {
    exit_code = Fail(absl::StrCat("usage: sandboxctl ", command.name, " ", command.synopsis,
                                  " (see sandboxctl ", command.name, " --help)"));
    return std::nullopt;
  }
  return *std::move(args);
}

std::unique_ptr<grpc::ClientContext> NewContext(const Connection& connection,
                                                absl::Duration timeout) {
  auto context = std::make_unique<grpc::ClientContext>();
  connection.Prepare(*context);
  if (timeout != absl::InfiniteDuration()) {
    context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  }
  return context;
}

}  // namespace sandboxd

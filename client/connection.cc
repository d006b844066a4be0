#include "client/connection.h"

#include <cstdlib>

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/read_file.h"
#include "base/listen.h"

namespace sandboxd {
namespace {

// The option's value, else the environment variable's, else "".
std::string OptionOrEnv(const ParsedArgs& args, const std::string& option, const char* env) {
  if (args.Has(option)) return args.Get(option);
  const char* value = std::getenv(env);
  return value != nullptr ? value : "";
}

absl::Status ReadOption(const std::string& path, const std::string& what, std::string& out) {
  if (path.empty()) return absl::OkStatus();
  absl::StatusOr<std::string> content = ReadFile(path);
  if (!content.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read ", what, " ", path, ": ", content.status().message()));
  }
  out = *std::move(content);
  return absl::OkStatus();
}

}  // namespace

const std::vector<OptionSpec>& Connection::Options() {
  static const auto* options = new std::vector<OptionSpec>{
      {"server", "ADDR",
       "sandboxd's address: unix:/path (or just /path) or HOST:PORT (default: "
       "$SANDBOXD_ADDRESS, else the server's default socket)"},
      {"token-file", "FILE", "file holding the bearer token (default: $SANDBOXD_TOKEN)"},
      {"tls-ca", "FILE", "PEM CA that signed the server's certificate: turns on TLS "
                         "($SANDBOXD_TLS_CA)"},
      {"tls-cert", "FILE", "PEM client certificate, for mutual TLS ($SANDBOXD_TLS_CERT)"},
      {"tls-key", "FILE", "PEM client key, for mutual TLS ($SANDBOXD_TLS_KEY)"},
      {"json", "", "print results as JSON (exec: the whole result, output included, at the end)"},
      {"help", "", "show this help"},
  };
  return *options;
}

absl::StatusOr<Connection> Connection::FromArgs(const ParsedArgs& global) {
  Connection connection;
  connection.address_ = OptionOrEnv(global, "server", "SANDBOXD_ADDRESS");
  if (connection.address_.empty()) connection.address_ = DefaultListenAddress();
  // A socket's path alone, as people paste it: gRPC would look it up as a host name.
  if (connection.address_[0] == '/') connection.address_ = "unix:" + connection.address_;
  if (global.Has("token-file")) {
    absl::Status s = ReadOption(global.Get("token-file"), "--token-file", connection.token_);
    if (!s.ok()) return s;
    connection.token_ = std::string(absl::StripAsciiWhitespace(connection.token_));
  } else if (const char* token = std::getenv("SANDBOXD_TOKEN"); token != nullptr) {
    connection.token_ = token;
  }
  for (auto [option, env, out] :
       {std::tuple{"tls-ca", "SANDBOXD_TLS_CA", &connection.tls_ca_},
        std::tuple{"tls-cert", "SANDBOXD_TLS_CERT", &connection.tls_cert_},
        std::tuple{"tls-key", "SANDBOXD_TLS_KEY", &connection.tls_key_}}) {
    absl::Status s = ReadOption(OptionOrEnv(global, option, env), absl::StrCat("--", option), *out);
    if (!s.ok()) return s;
  }
  return connection;
}

std::shared_ptr<grpc::Channel> Connection::NewChannel() const {
  if (tls_ca_.empty()) return grpc::CreateChannel(address_, grpc::InsecureChannelCredentials());
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = tls_ca_;
  options.pem_cert_chain = tls_cert_;
  options.pem_private_key = tls_key_;
  return grpc::CreateChannel(address_, grpc::SslCredentials(options));
}

void Connection::Prepare(grpc::ClientContext& context) const {
  if (!token_.empty()) context.AddMetadata("authorization", "Bearer " + token_);
}

}  // namespace sandboxd

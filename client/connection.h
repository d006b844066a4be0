#ifndef SANDBOXD_CLIENT_CONNECTION_H_
#define SANDBOXD_CLIENT_CONNECTION_H_

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include "absl/status/statusor.h"
#include "client/args.h"

namespace sandboxd {

// How sandboxctl reaches sandboxd: address, transport security and token.
class Connection {
 public:
  // The global options that configure it.
  static const std::vector<OptionSpec>& Options();

  // From the global options, falling back to the environment: $SANDBOXD_ADDRESS,
  // $SANDBOXD_TOKEN, $SANDBOXD_TLS_CA, $SANDBOXD_TLS_CERT, $SANDBOXD_TLS_KEY.
  // INVALID_ARGUMENT when a file cannot be read.
  static absl::StatusOr<Connection> FromArgs(const ParsedArgs& global);

  const std::string& address() const { return address_; }
  std::shared_ptr<grpc::Channel> NewChannel() const;
  // Adds the token to a call, when there is one.
  void Prepare(grpc::ClientContext& context) const;

 private:
  std::string address_;
  std::string token_;
  std::string tls_ca_, tls_cert_, tls_key_;  // PEM contents.
};

}  // namespace sandboxd

#endif  // SANDBOXD_CLIENT_CONNECTION_H_

#ifndef SANDBOXD_SERVER_AUTH_H_
#define SANDBOXD_SERVER_AUTH_H_

#include <string>
#include <utility>
#include <vector>

#include <grpcpp/server_context.h>

#include "absl/status/statusor.h"

namespace sandboxd {

// Who is calling. With a tokens file, every call must carry "authorization: Bearer
// TOKEN" for one of its tokens, and is that token's identity. Without one, the caller
// is the verified client certificate's common name under mutual TLS, else "local" (the
// server then listens only on an owner-only socket or on loopback).
class Authenticator {
 public:
  // Reads `tokens_file` ("" for none): one "IDENTITY TOKEN" pair a line; blank lines
  // and lines starting with '#' are skipped. INVALID_ARGUMENT for a malformed line or
  // an unreadable file.
  static absl::StatusOr<Authenticator> Create(const std::string& tokens_file, bool mutual_tls);

  // The caller's identity, or UNAUTHENTICATED saying what is missing.
  absl::StatusOr<std::string> Authenticate(const grpc::ServerContextBase& context) const;

 private:
  Authenticator() = default;

  std::vector<std::pair<std::string, std::string>> tokens_;  // identity, token
  bool mutual_tls_ = false;
};

}  // namespace sandboxd

#endif  // SANDBOXD_SERVER_AUTH_H_

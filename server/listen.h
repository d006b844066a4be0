#ifndef SANDBOXD_SERVER_LISTEN_H_
#define SANDBOXD_SERVER_LISTEN_H_

#include <string>

#include "absl/status/statusor.h"

namespace sandboxd {

// Where the server listens, after checking that the address is safe without TLS.
struct ListenAddress {
  // What grpc::ServerBuilder::AddListeningPort takes ("unix:/run/...", "127.0.0.1:5051").
  std::string uri;
  // The socket's path for a Unix socket, empty for TCP.
  std::string unix_path;
};

// Parses --listen. Accepts "unix:/absolute/path", and "HOST:PORT" where HOST is a
// loopback address (127.0.0.0/8, [::1], localhost) or, with `tls`, any address.
// Anything else is INVALID_ARGUMENT: without TLS, anyone who reaches the port could
// run commands.
absl::StatusOr<ListenAddress> ParseListenAddress(const std::string& flag, bool tls = false);

// The safe default: a Unix socket in an owner-only directory,
// $XDG_RUNTIME_DIR/sandboxd/sandboxd.sock, else /run/sandboxd/sandboxd.sock for root,
// else /tmp/sandboxd-UID/sandboxd.sock.
std::string DefaultListenAddress();

// Creates the socket's directory with mode 0700 when missing, removes a stale socket
// (never anything else), and refuses a directory that is not the server's own or that
// others may enter.
absl::Status PrepareUnixSocket(const std::string& path);

}  // namespace sandboxd

#endif  // SANDBOXD_SERVER_LISTEN_H_

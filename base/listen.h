#ifndef SANDBOXD_BASE_LISTEN_H_
#define SANDBOXD_BASE_LISTEN_H_

#include <sys/types.h>

#include <optional>
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

// Who besides the server's user may connect to its Unix socket: nobody, or the members
// of one group (the socket then has mode 0660, its directory 0710, both of that group).
struct SocketAccess {
  std::optional<gid_t> group;
};

// Parses --socket_group: a group name or number; "" for none.
absl::StatusOr<SocketAccess> ParseSocketAccess(const std::string& group);

// Creates the socket's directory when missing (mode 0700, or 0710 with the group's
// search right), removes a stale socket (never anything else), and refuses a directory
// that is not the server's own or that others (other groups) may enter.
absl::Status PrepareUnixSocket(const std::string& path, const SocketAccess& access = {});

// Once the server listens: gives the group its read and write right on the socket.
absl::Status ShareUnixSocket(const std::string& path, const SocketAccess& access);

}  // namespace sandboxd

#endif  // SANDBOXD_BASE_LISTEN_H_

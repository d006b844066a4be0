#include "base/listen.h"

#include <arpa/inet.h>
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace sandboxd {
namespace {

bool IsLoopbackHost(absl::string_view host) {
  if (host == "localhost" || host == "[::1]") return true;
  in_addr addr;
  std::string h(host);
  return inet_pton(AF_INET, h.c_str(), &addr) == 1 && (ntohl(addr.s_addr) >> 24) == 127;
}

absl::Status NotSafe(const std::string& flag, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(
      "--listen=", flag, " ", why,
      "; use unix:/path/to/socket or a loopback address such as 127.0.0.1:50051"));
}

}  // namespace

absl::StatusOr<ListenAddress> ParseListenAddress(const std::string& flag, bool tls) {
  absl::string_view rest = flag;
  if (absl::ConsumePrefix(&rest, "unix:")) {
    if (!absl::StartsWith(rest, "/")) return NotSafe(flag, "needs an absolute socket path");
    return ListenAddress{flag, std::string(rest)};
  }
  size_t colon = rest.rfind(':');
  int port = 0;
  if (colon == absl::string_view::npos || !absl::SimpleAtoi(rest.substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    return NotSafe(flag, "is not unix:PATH or HOST:PORT");
  }
  if (!tls && !IsLoopbackHost(rest.substr(0, colon))) {
    return NotSafe(flag, "is not a loopback address, and the server has no TLS (--tls_cert, "
                         "--tls_key): anyone who can reach it could run commands");
  }
  return ListenAddress{flag, ""};
}

std::string DefaultListenAddress() {
  const char* runtime_dir = std::getenv("XDG_RUNTIME_DIR");
  if (runtime_dir != nullptr && runtime_dir[0] == '/') {
    return absl::StrCat("unix:", runtime_dir, "/sandboxd/sandboxd.sock");
  }
  if (geteuid() == 0) return "unix:/run/sandboxd/sandboxd.sock";
  return absl::StrCat("unix:/tmp/sandboxd-", geteuid(), "/sandboxd.sock");
}

absl::StatusOr<SocketAccess> ParseSocketAccess(const std::string& group) {
  SocketAccess access;
  if (group.empty()) return access;
  gid_t gid = 0;
  if (absl::SimpleAtoi(group, &gid)) {
    access.group = gid;
  } else if (const struct group* entry = getgrnam(group.c_str()); entry != nullptr) {
    access.group = entry->gr_gid;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--socket_group=", group, " names no group (see getent group)"));
  }
  return access;
}

absl::Status PrepareUnixSocket(const std::string& path, const SocketAccess& access) {
  std::string dir = path.substr(0, path.rfind('/'));
  if (dir.empty()) dir = "/";
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create socket directory ", dir, ": ", std::strerror(errno)));
  }
  struct stat st;
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(dir, " is not a directory"));
  }
  bool group_ok = (st.st_mode & 0070) == 0 ||
                  (access.group.has_value() && st.st_gid == *access.group &&
                   (st.st_mode & 0020) == 0);
  if (st.st_uid != geteuid() || (st.st_mode & 0007) != 0 || !group_ok) {
    return absl::FailedPreconditionError(absl::StrCat(
        "socket directory ", dir, " must belong to this user with mode 0700 (or 0710 and "
        "the group of --socket_group), so that only this user (and that group) can reach "
        "the socket; choose another --listen path or fix it with chmod 700 ", dir));
  }
  // The group may pass through to the socket, and do nothing else there.
  if (access.group.has_value() &&
      (chown(dir.c_str(), -1, *access.group) != 0 || chmod(dir.c_str(), 0710) != 0)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot give socket directory ", dir, " to group ", *access.group, ": ",
        std::strerror(errno), " (the server must be a member of --socket_group, or root)"));
  }
  if (lstat(path.c_str(), &st) != 0) return absl::OkStatus();
  if (!S_ISSOCK(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " exists and is not a socket; choose another --listen path"));
  }
  if (unlink(path.c_str()) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot remove stale socket ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status ShareUnixSocket(const std::string& path, const SocketAccess& access) {
  if (!access.group.has_value()) return absl::OkStatus();
  if (chown(path.c_str(), -1, *access.group) != 0 || chmod(path.c_str(), 0660) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot give socket ", path, " to group ", *access.group, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace sandboxd

#include "sandbox/net/bridge.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/scm_rights.h"

namespace sandboxd {

const char* SendProxyListener(int channel) {
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener < 0) return "making the proxy's listener";
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(kProxyPort);
  inet_pton(AF_INET, kProxyAddress, &address.sin_addr);
  // A command's connections to the proxy may linger in TIME_WAIT; they must not keep
  // a listener from binding (two listeners on one port stay impossible).
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const char* failed = nullptr;
  if (bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      listen(listener, SOMAXCONN) != 0) {
    failed = "listening for the proxy on 127.0.0.1:3128";
  } else if (SendWithFd(channel, "L", 1, listener) != 1) {
    failed = "sending the proxy its listener";
  }
  int saved = errno;
  close(listener);
  close(channel);
  errno = saved;
  return failed;
}

}  // namespace sandboxd

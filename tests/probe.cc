// probe: tries one thing a sandbox may forbid, and says whether it worked.
//
//   probe tcp-connect HOST PORT   connect a TCP socket
//   probe write FILE              create FILE and write to it
//   probe env NAME                print the variable, fail when unset
//
// Prints "succeeded" and exits 0, or prints "failed: <reason>" and exits 1. Usage
// errors exit 2. Tests run it inside the sandbox and check the verdict.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

int Verdict(bool ok, const char* what) {
  if (ok) {
    std::printf("succeeded\n");
    return 0;
  }
  std::printf("failed: %s: %s\n", what, std::strerror(errno));
  return 1;
}

int TcpConnect(const char* host, const char* port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return Verdict(false, "socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::atoi(port)));
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) return 2;
  return Verdict(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0, "connect");
}

int Write(const char* path) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return Verdict(false, "open");
  return Verdict(write(fd, "probe\n", 6) == 6, "write");
}

int Env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr) {
    errno = ENOENT;
    return Verdict(false, name);
  }
  std::printf("%s\n", value);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string command = argc > 1 ? argv[1] : "";
  if (command == "tcp-connect" && argc == 4) return TcpConnect(argv[2], argv[3]);
  if (command == "write" && argc == 3) return Write(argv[2]);
  if (command == "env" && argc == 3) return Env(argv[2]);
  std::fprintf(stderr, "usage: probe tcp-connect HOST PORT | write FILE | env NAME\n");
  return 2;
}

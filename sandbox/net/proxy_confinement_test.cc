#include "sandbox/net/proxy_confinement.h"

#include <fcntl.h>
#include <netdb.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace sandboxd {
namespace {

// What a child could still do, one bit each.
enum : int {
  kReadsAFileOfTheServersUser = 1,
  kMakesAUnixSocket = 2,
  kMakesAnInetSocket = 4,
  kResolvesLocalhost = 8,
};

// In a child (confined first when `confine`), what it can do.
int Abilities(bool confine, const std::string& secret) {
  pid_t child = fork();
  if (child == 0) {
    if (confine && (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || !ConfineProxy().ok())) {
      _exit(255);
    }
    int can = 0;
    int fd = open(secret.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) can |= kReadsAFileOfTheServersUser;
    int unix_socket = socket(AF_UNIX, SOCK_STREAM, 0);
    if (unix_socket >= 0) can |= kMakesAUnixSocket;
    int inet_socket = socket(AF_INET, SOCK_STREAM, 0);
    if (inet_socket >= 0) can |= kMakesAnInetSocket;
    addrinfo* found = nullptr;
    if (getaddrinfo("localhost", "80", nullptr, &found) == 0) can |= kResolvesLocalhost;
    _exit(can);
  }
  int status = 0;
  waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

class ProxyConfinementTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    secret_ = std::string(tmp != nullptr ? tmp : "/tmp") + "/server-secret";
    std::ofstream(secret_) << "token";
  }
  std::string secret_;
};

// The control: unconfined, the same process reads the server's user's file and makes
// an AF_UNIX socket.
TEST_F(ProxyConfinementTest, WithoutItEverythingWorks) {
  EXPECT_EQ(Abilities(false, secret_), kReadsAFileOfTheServersUser | kMakesAUnixSocket |
                                            kMakesAnInetSocket | kResolvesLocalhost);
}

// Confined, it keeps what a proxy needs (inet sockets, name resolution) and nothing else.
TEST_F(ProxyConfinementTest, LeavesOnlyWhatAProxyNeeds) {
  EXPECT_EQ(Abilities(true, secret_), kMakesAnInetSocket | kResolvesLocalhost);
}

}  // namespace
}  // namespace sandboxd

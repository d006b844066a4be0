#include "sandbox/net/netns.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "sandbox/net/private_netns.h"

namespace sandboxd {
namespace {

TEST(NoSocketCountedTest, ReadsThisNamespacesCountsOnly) {
  EXPECT_TRUE(NoSocketCounted("sockets: used 812\nTCP: inuse 0 orphan 0 tw 0 alloc 7 mem 3\n"
                              "UDP: inuse 0 mem 4\n"));
  // alloc and mem are host-wide; inuse and tw are the namespace's.
  EXPECT_FALSE(NoSocketCounted("TCP: inuse 1 orphan 0 tw 0 alloc 7 mem 3\n"));
  EXPECT_FALSE(NoSocketCounted("TCP: inuse 0 orphan 0 tw 2 alloc 7 mem 3\n"));
  EXPECT_FALSE(NoSocketCounted("TCP6: inuse 0\nUDP6: inuse 3\n"));
}

// In a child: a namespace of its own, seen empty from outside; then, with a socket
// made in it, not (the control).
TEST(PrivateNetnsTest, AFreshNamespaceHoldsNothingUntilASocketIsMade) {
  int ready[2], go[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(go), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    char byte = EnterPrivateNetns() == nullptr ? 'y' : 'n';
    if (write(ready[1], &byte, 1) != 1 || read(go[0], &byte, 1) != 1) _exit(1);
    // A listener on the namespace's own loopback, which the loopback being up allows.
    int s = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool listening = s >= 0 && bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                     listen(s, 1) == 0;
    byte = listening ? 'y' : 'n';
    if (write(ready[1], &byte, 1) != 1 || read(go[0], &byte, 1) != 1) _exit(1);
    _exit(0);
  }
  char byte = 0;
  ASSERT_EQ(read(ready[0], &byte, 1), 1);
  ASSERT_EQ(byte, 'y') << "the child could not make a network namespace";
  EXPECT_TRUE(NetnsHoldsNoSocket(child));
  ASSERT_EQ(write(go[1], "x", 1), 1);
  ASSERT_EQ(read(ready[0], &byte, 1), 1);
  ASSERT_EQ(byte, 'y');
  EXPECT_FALSE(NetnsHoldsNoSocket(child));
  ASSERT_EQ(write(go[1], "x", 1), 1);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_EQ(status, 0);
  for (int fd : {ready[0], ready[1], go[0], go[1]}) close(fd);
}

}  // namespace
}  // namespace sandboxd

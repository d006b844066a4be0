// The seed's network cases: common clients cannot reach a listener on the host's
// loopback when the network is disabled; the controls show that the same commands,
// answered by the same listener, reach it when the network is enabled.

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <grpcpp/client_context.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "sandbox/v1/sandbox.grpc.pb.h"
#include "tests/sandboxd_process.h"
#include "tests/test_util.h"

namespace sandboxd::testing {
namespace {

namespace v1 = ::sandbox::v1;

struct Client {
  std::string name;
  // A shell command; {port} and {port6} are the listener's ports on 127.0.0.1 and ::1.
  std::string command;
  // Whether it exits 0 once it reached the listener (ssh does not: the listener only
  // says hello).
  bool exits_zero_when_reached = true;
};

void PrintTo(const Client& c, std::ostream* os) { *os << c.name; }

// Every client the seed names, each of which the listener below answers: ping is not
// among them, since without capabilities (and with the host's ping_group_range closed)
// it fails with the network on too, which would prove nothing.
const Client kClients[] = {
    {"Curl", "curl -sS --max-time 3 http://127.0.0.1:{port}/"},
    {"Wget", "wget -q -T 3 -t 1 -O- http://127.0.0.1:{port}/"},
    {"Netcat", "nc -z -w 3 127.0.0.1 {port}"},
    {"NetcatIpv6", "nc -z -w 3 ::1 {port6}"},
    {"Ssh", "ssh -o BatchMode=yes -o ConnectTimeout=3 -p {port} 127.0.0.1 true", false},
    {"BashDevTcp", "exec 3<>/dev/tcp/127.0.0.1/{port}"},
};

// Listens on 127.0.0.1 and ::1 and answers each connection as its client expects: an
// SSH banner to ssh, a small HTTP response to anything else; counts the connections.
class AnsweringListener {
 public:
  AnsweringListener() : v4_(AF_INET), v6_(AF_INET6) {
    EXPECT_EQ(pipe2(stop_, O_CLOEXEC), 0);
    thread_ = std::thread([this] { Serve(); });
  }
  ~AnsweringListener() {
    char byte = 0;
    EXPECT_EQ(write(stop_[1], &byte, 1), 1);
    thread_.join();
    for (int fd : stop_) close(fd);
  }

  int port() const { return v4_.port(); }
  int port6() const { return v6_.port(); }
  int connections() const { return connections_.load(); }

 private:
  void Serve() {
    for (;;) {
      pollfd fds[] = {{stop_[0], POLLIN, 0}, {v4_.fd(), POLLIN, 0}, {v6_.fd(), POLLIN, 0}};
      if (poll(fds, 3, -1) < 0 && errno != EINTR) return;
      if (fds[0].revents != 0) return;
      for (int i : {1, 2}) {
        if ((fds[i].revents & POLLIN) == 0) continue;
        Answer(accept4(fds[i].fd, nullptr, nullptr, SOCK_CLOEXEC));
      }
    }
  }

  void Answer(int fd) {
    if (fd < 0) return;
    connections_.fetch_add(1);
    pollfd wait{fd, POLLIN, 0};
    char hello[256] = {};
    ssize_t n = poll(&wait, 1, 500) == 1 ? read(fd, hello, sizeof hello - 1) : 0;
    std::string reply = n > 4 && std::string(hello, 4) == "SSH-"
                            ? "SSH-2.0-sandboxd-test\r\n"
                            : "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n";
    ssize_t unused = write(fd, reply.data(), reply.size());
    (void)unused;
    // Closing with what the client sent after its hello still unread would reset the
    // connection (ssh then says "reset", not "closed"): end our side, and take the
    // rest until the client goes.
    shutdown(fd, SHUT_WR);
    char rest[4096];
    while (poll(&wait, 1, 500) == 1 && read(fd, rest, sizeof rest) > 0) {
    }
    close(fd);
  }

  LoopbackListener v4_, v6_;
  int stop_[2] = {-1, -1};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

class NetworkTest : public SharedServerTest, public ::testing::WithParamInterface<Client> {
 protected:
  static void SetUpTestSuite() { StartServer(); }

  void SetUp() override { ASSERT_NE(server_, nullptr); }

  v1::ExecResponse Run(v1::NetworkMode network) {
    v1::ExecRequest request = Command(
        {"bash", "-c",
         absl::StrReplaceAll(GetParam().command, {{"{port}", std::to_string(listener_.port())},
                                                  {"{port6}", std::to_string(listener_.port6())}})});
    request.mutable_policy()->set_network(network);
    request.mutable_timeout()->set_seconds(20);
    return ExecChecked(*v1::SandboxService::NewStub(server_->channel()), request);
  }

  AnsweringListener listener_;
};

// The client fails, and nothing reached the listener.
class BlockedTest : public NetworkTest {};

TEST_P(BlockedTest, WhenTheNetworkIsDisabled) {
  v1::ExecResponse response = Run(v1::NETWORK_DISABLED);
  EXPECT_EQ(response.termination(), v1::EXITED);
  EXPECT_NE(response.exit_code(), 0) << response.stdout() << response.stderr();
  EXPECT_EQ(listener_.connections(), 0);
}

INSTANTIATE_TEST_SUITE_P(Clients, BlockedTest, ::testing::ValuesIn(kClients),
                         [](const ::testing::TestParamInfo<Client>& info) {
                           return info.param.name;
                         });

// The controls: the same clients, the same listener, with the network on, reach it.
class ReachableTest : public NetworkTest {};

TEST_P(ReachableTest, WhenTheNetworkIsEnabled) {
  v1::ExecResponse response = Run(v1::NETWORK_ENABLED);
  EXPECT_GE(listener_.connections(), 1) << response.stderr();
  if (GetParam().exits_zero_when_reached) {
    EXPECT_EQ(response.exit_code(), 0) << response.stderr();
  } else {
    EXPECT_THAT(response.stderr(), ::testing::HasSubstr("Connection closed by"));
  }
}

INSTANTIATE_TEST_SUITE_P(Clients, ReachableTest, ::testing::ValuesIn(kClients),
                         [](const ::testing::TestParamInfo<Client>& info) {
                           return info.param.name;
                         });

// Commands without network each have a network namespace of their own, holding only
// loopback: not the server's, and not one another's while they run side by side
// (pre-started launchers each keep one for their commands). With the network, the
// server's.
class NetnsTest : public SharedServerTest {
 protected:
  static void SetUpTestSuite() { StartServer(); }

  // The network namespace and interfaces that a command sees.
  std::string Netns(v1::NetworkMode network) {
    v1::ExecRequest request = Command({"sh", "-c", absl::StrCat(kShowNetns, "; sleep 1")});
    request.mutable_policy()->set_network(network);
    return ExecChecked(*v1::SandboxService::NewStub(server_->channel()), request).stdout();
  }
};

TEST_F(NetnsTest, EachCommandWithoutNetworkHasOneOfItsOwn) {
  ASSERT_NE(server_, nullptr);
  char ours[64] = {};
  ASSERT_GT(readlink("/proc/self/ns/net", ours, sizeof ours - 1), 0);
  std::vector<std::string> seen(3);
  std::vector<std::thread> callers;
  for (std::string& netns : seen) {
    callers.emplace_back([&] { netns = Netns(v1::NETWORK_DISABLED); });
  }
  for (std::thread& caller : callers) caller.join();
  std::set<std::string> distinct;
  for (const std::string& netns : seen) {
    EXPECT_THAT(netns, ::testing::StartsWith("net:["));
    EXPECT_THAT(netns, ::testing::EndsWith("]\nlo\n"));
    EXPECT_NE(netns.substr(0, netns.find('\n')), ours);
    distinct.insert(netns);
  }
  EXPECT_EQ(distinct.size(), seen.size());
  std::string enabled = Netns(v1::NETWORK_ENABLED);
  EXPECT_EQ(enabled.substr(0, enabled.find('\n')), ours);
}

}  // namespace
}  // namespace sandboxd::testing

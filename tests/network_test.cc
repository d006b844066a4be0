// The seed's network cases: common clients cannot reach a listener on the host's
// loopback when the network is disabled; the controls show that the same commands
// reach it when the network is enabled.

#include <unistd.h>

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
  // A shell command; {port} is the listener's port on 127.0.0.1.
  std::string command;
};

void PrintTo(const Client& c, std::ostream* os) { *os << c.name; }

class NetworkTest : public SharedServerTest, public ::testing::WithParamInterface<Client> {
 protected:
  static void SetUpTestSuite() { StartServer(); }

  void SetUp() override { ASSERT_NE(server_, nullptr); }

  v1::ExecResponse Run(v1::NetworkMode network) {
    v1::ExecRequest request = Command(
        {"bash", "-c",
         absl::StrReplaceAll(GetParam().command, {{"{port}", std::to_string(listener_.port())}})});
    request.mutable_policy()->set_network(network);
    request.mutable_timeout()->set_seconds(20);
    return ExecChecked(*v1::SandboxService::NewStub(server_->channel()), request);
  }

  LoopbackListener listener_;
};

class BlockedTest : public NetworkTest {};

TEST_P(BlockedTest, WhenTheNetworkIsDisabled) {
  v1::ExecResponse response = Run(v1::NETWORK_DISABLED);
  EXPECT_EQ(response.termination(), v1::EXITED);
  EXPECT_NE(response.exit_code(), 0) << response.stdout() << response.stderr();
}

INSTANTIATE_TEST_SUITE_P(
    Clients, BlockedTest,
    ::testing::Values(
        Client{"Curl", "curl -sS --max-time 3 http://127.0.0.1:{port}/"},
        Client{"Wget", "wget -q -T 3 -t 1 -O- http://127.0.0.1:{port}/"},
        Client{"Ping", "ping -c 1 -W 1 127.0.0.1"},
        Client{"Netcat", "nc -z -w 3 127.0.0.1 {port}"},
        Client{"NetcatIpv6", "nc -z -w 3 ::1 {port}"},
        Client{"Ssh", "ssh -o BatchMode=yes -o ConnectTimeout=3 -p {port} 127.0.0.1 true"},
        Client{"BashDevTcp", "exec 3<>/dev/tcp/127.0.0.1/{port}"}),
    [](const ::testing::TestParamInfo<Client>& info) { return info.param.name; });

// The controls: clients whose exit code tells a made connection from a refused one
// (curl, wget and ssh wait for a reply that the silent listener never sends).
class ReachableTest : public NetworkTest {};

TEST_P(ReachableTest, WhenTheNetworkIsEnabled) {
  v1::ExecResponse response = Run(v1::NETWORK_ENABLED);
  EXPECT_EQ(response.exit_code(), 0) << response.stderr();
}

INSTANTIATE_TEST_SUITE_P(
    Clients, ReachableTest,
    ::testing::Values(Client{"Netcat", "nc -z -w 3 127.0.0.1 {port}"},
                      Client{"BashDevTcp", "exec 3<>/dev/tcp/127.0.0.1/{port}"}),
    [](const ::testing::TestParamInfo<Client>& info) { return info.param.name; });

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

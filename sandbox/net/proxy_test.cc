#include "sandbox/net/proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>

#include <boost/asio.hpp>
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "base/unique_fd.h"
#include "sandbox/net/bridge.h"
#include "sandbox/net/private_netns.h"
#include "sandbox/net/test_origin.h"

namespace sandboxd {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// A connection to the proxy's listener, as a command in the namespace makes one.
UniqueFd ConnectToProxy() {
  UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(kProxyPort);
  inet_pton(AF_INET, kProxyAddress, &address.sin_addr);
  timeval timeout{10, 0};
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    return UniqueFd();
  }
  return fd;
}

void Send(int fd, const std::string& text) {
  ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
}

// Everything until EOF (or `limit` bytes, or a read that times out).
std::string ReadAll(int fd, size_t limit = 16 << 20) {
  std::string out;
  char buffer[65536];
  while (out.size() < limit) {
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n <= 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  return out;
}

// One request through the proxy, answered in full.
std::string Ask(const std::string& request) {
  UniqueFd fd = ConnectToProxy();
  if (!fd.valid()) return "no connection";
  Send(fd.get(), request);
  return ReadAll(fd.get());
}

class ProxyTest : public ::testing::Test {
 protected:
  // The whole test runs in a network namespace of its own, as a command does, so that
  // the bridge's fixed port is free.
  static void SetUpTestSuite() {
    signal(SIGPIPE, SIG_IGN);
    netns_failed_ = EnterPrivateNetns();
  }

  void SetUp() override {
    ASSERT_EQ(netns_failed_, nullptr) << netns_failed_;
    Start({"127.0.0.1/32"});
  }
  void TearDown() override {
    if (proxy_ != nullptr && share_ != 0) proxy_->Close(share_);
  }

  // A proxy allowing `destinations`, with the names the tests use in its hosts.
  void Start(std::vector<std::string> destinations) {
    if (proxy_ != nullptr && share_ != 0) proxy_->Close(share_);
    share_ = 0;
    proxy_.reset();
    ProxySettings settings;
    for (const std::string& text : destinations) settings.allowed_destinations.push_back(*Cidr::Parse(text));
    settings.hosts = {{"origin.test", {"127.0.0.1"}},
                      {"sub.origin.test", {"127.0.0.1"}},
                      {"rebind.test", {"127.0.0.2"}},
                      {"metadata.test", {"169.254.169.254"}}};
    proxy_ = *Proxy::Start(std::move(settings));
  }

  // A share under `grant`, its listener sent by the launcher's own code.
  void Open(Grant grant) {
    if (share_ != 0) proxy_->Close(share_);
    int pair[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair), 0);
    absl::StatusOr<uint64_t> id = proxy_->Open(grant, UniqueFd(pair[0]));
    ASSERT_TRUE(id.ok()) << id.status();
    share_ = *id;
    ASSERT_EQ(SendProxyListener(pair[1]), nullptr);
  }
  static Grant Allowing(std::vector<std::string> allow) {
    Grant grant;
    for (const std::string& pattern : allow) grant.add_allow(pattern);
    return grant;
  }

  std::string Connect(const std::string& authority) {
    return Ask(absl::StrCat("CONNECT ", authority, " HTTP/1.1\r\nHost: ", authority, "\r\n\r\n"));
  }
  std::string Get(const std::string& url, const std::string& extra = "") {
    return Ask(absl::StrCat("GET ", url, " HTTP/1.1\r\nHost: wrong.example\r\n", extra, "\r\n"));
  }

  static inline const char* netns_failed_ = nullptr;
  TestOrigin origin_{"127.0.0.1"};
  std::unique_ptr<Proxy> proxy_;
  uint64_t share_ = 0;
};

TEST_F(ProxyTest, ForwardsAnAllowedRequestInOriginFormToTheCheckedHost) {
  Open(Allowing({"origin.test"}));
  std::string reply = Get(absl::StrCat("http://origin.test:", origin_.port(), "/path?q=1"),
                          "Proxy-Authorization: Basic c2VjcmV0\r\n");
  EXPECT_TRUE(absl::StartsWith(reply, "HTTP/1.1 200")) << reply;
  // The Host header names the host that was checked, and the proxy's own header stays.
  EXPECT_TRUE(absl::EndsWith(
      reply, absl::StrCat("GET /path?q=1 host=origin.test:", origin_.port(), " proxy-auth=")))
      << reply;
}

TEST_F(ProxyTest, TunnelsAnAllowedConnect) {
  Open(Allowing({"origin.test"}));
  UniqueFd fd = ConnectToProxy();
  ASSERT_TRUE(fd.valid());
  std::string authority = absl::StrCat("origin.test:", origin_.port());
  // The request inside the tunnel goes in the same write as CONNECT, as TLS clients
  // send their hello early.
  Send(fd.get(), absl::StrCat("CONNECT ", authority, " HTTP/1.1\r\n\r\nGET /inside HTTP/1.1\r\n"
                              "Host: x\r\n\r\n"));
  std::string reply = ReadAll(fd.get());
  EXPECT_TRUE(absl::StartsWith(reply, "HTTP/1.1 200 Connection established\r\n\r\n")) << reply;
  EXPECT_TRUE(absl::StrContains(reply, "GET /inside host=x")) << reply;
  Report report = proxy_->Close(share_);
  share_ = 0;
  EXPECT_EQ(report.denials_size(), 0);
  EXPECT_EQ(report.connections(), 1u);
  EXPECT_GT(report.bytes_in(), 0u);
}

TEST_F(ProxyTest, RefusesAHostNoRuleAllowsWithALineAndADenial) {
  Open(Allowing({"origin.test"}));
  std::string reply = Connect("other.test:443");
  EXPECT_TRUE(absl::StartsWith(reply, "HTTP/1.1 403")) << reply;
  EXPECT_TRUE(absl::StrContains(reply, "X-Sandboxd-Denial: domain_not_allowed")) << reply;
  EXPECT_TRUE(absl::EndsWith(reply, "sandboxd proxy: CONNECT other.test:443 refused: other.test:443 "
                                    "matches none of the allowed domains (origin.test)\n"))
      << reply;
  Connect("other.test:443");
  Report report = proxy_->Close(share_);
  share_ = 0;
  ASSERT_EQ(report.denials_size(), 1);
  EXPECT_EQ(report.denials(0).host(), "other.test");
  EXPECT_EQ(report.denials(0).port(), 443u);
  EXPECT_EQ(report.denials(0).protocol(), "connect");
  EXPECT_EQ(report.denials(0).reason(), sandbox::v1::DOMAIN_NOT_ALLOWED);
  EXPECT_EQ(report.denials(0).count(), 2u);
}

TEST_F(ProxyTest, DenyBeatsAllowAndWildcardsMatchOnlySubdomains) {
  Grant grant = Allowing({"*.origin.test", "origin.test"});
  grant.add_deny(absl::StrCat("origin.test:", origin_.port()));
  Open(grant);
  std::string port = absl::StrCat(origin_.port());
  EXPECT_TRUE(absl::StartsWith(Get("http://origin.test:" + port + "/"), "HTTP/1.1 403"));
  EXPECT_TRUE(absl::StartsWith(Get("http://sub.origin.test:" + port + "/"), "HTTP/1.1 200"));
  Open(Allowing({"*.origin.test"}));
  EXPECT_TRUE(absl::StrContains(Get("http://origin.test:" + port + "/"), "domain_not_allowed"));
  EXPECT_TRUE(absl::StartsWith(Get("http://sub.origin.test:" + port + "/"), "HTTP/1.1 200"));
}

TEST_F(ProxyTest, APortRuleHolds) {
  Open(Allowing({absl::StrCat("origin.test:", origin_.port() + 1)}));
  EXPECT_TRUE(absl::StrContains(Get(absl::StrCat("http://origin.test:", origin_.port(), "/")),
                                "domain_not_allowed"));
  Open(Allowing({absl::StrCat("origin.test:", origin_.port())}));
  EXPECT_TRUE(absl::StartsWith(Get(absl::StrCat("http://origin.test:", origin_.port(), "/")),
                               "HTTP/1.1 200"));
}

// A name allowed by the rules, resolving to an address the operator did not allow, and
// the address itself, are refused; allowing the address lets both through.
TEST_F(ProxyTest, ChecksTheAddressItConnectsToNotTheName) {
  TestOrigin second("127.0.0.2");
  std::string port = absl::StrCat(second.port());
  Open(Allowing({"rebind.test", "127.0.0.2", "metadata.test"}));
  std::string reply = Connect("rebind.test:" + port);
  EXPECT_TRUE(absl::StrContains(reply, "X-Sandboxd-Denial: destination_not_allowed")) << reply;
  EXPECT_TRUE(absl::StrContains(reply, "rebind.test resolves to 127.0.0.2, a loopback address"))
      << reply;
  EXPECT_TRUE(absl::StrContains(Connect("127.0.0.2:" + port), "destination_not_allowed"));
  EXPECT_TRUE(absl::StrContains(Connect("metadata.test:80"), "the cloud metadata address"));
  Start({"127.0.0.0/8"});
  Open(Allowing({"rebind.test", "127.0.0.2"}));
  EXPECT_TRUE(absl::StartsWith(Get("http://rebind.test:" + port + "/"), "HTTP/1.1 200"));
  EXPECT_TRUE(absl::StartsWith(Get("http://127.0.0.2:" + port + "/"), "HTTP/1.1 200"));
}

TEST_F(ProxyTest, ReadOnlyAllowsOnlyGetHeadAndOptions) {
  Grant grant = Allowing({"origin.test"});
  grant.set_read_only(true);
  Open(grant);
  std::string url = absl::StrCat("http://origin.test:", origin_.port(), "/");
  EXPECT_TRUE(absl::StartsWith(Get(url), "HTTP/1.1 200"));
  std::string post = Ask(absl::StrCat("POST ", url, " HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi"));
  EXPECT_TRUE(absl::StrContains(post, "method_not_allowed")) << post;
  EXPECT_TRUE(absl::StrContains(Connect(absl::StrCat("origin.test:", origin_.port())),
                                "allows no tunnel"));
  // The control: the same POST without read-only.
  Open(Allowing({"origin.test"}));
  EXPECT_TRUE(absl::StartsWith(
      Ask(absl::StrCat("POST ", url, " HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi")), "HTTP/1.1 200"));
}

TEST_F(ProxyTest, ClosingAShareEndsItsTunnels) {
  Open(Allowing({"origin.test"}));
  UniqueFd fd = ConnectToProxy();
  Send(fd.get(), absl::StrCat("CONNECT origin.test:", origin_.port(),
                              " HTTP/1.1\r\n\r\nGET /hold HTTP/1.1\r\n\r\n"));
  std::string first = ReadAll(fd.get(), 64);
  ASSERT_TRUE(absl::StrContains(first, "holding")) << first;
  absl::Time closed = absl::Now();
  proxy_->Close(share_);
  share_ = 0;
  char byte;
  EXPECT_EQ(read(fd.get(), &byte, 1), 0);  // EOF, not the 10 s timeout.
  EXPECT_LT(absl::Now() - closed, absl::Seconds(2));
  for (int i = 0; i < 200 && origin_.holds_ended() == 0; ++i) usleep(10000);
  EXPECT_EQ(origin_.holds_ended(), 1);
}

TEST_F(ProxyTest, BoundsConnectionsAndBytes) {
  Grant grant = Allowing({"origin.test"});
  grant.set_max_connections(1);
  grant.set_max_bytes(1 << 20);
  Open(grant);
  UniqueFd held = ConnectToProxy();
  std::string second = Get(absl::StrCat("http://origin.test:", origin_.port(), "/"));
  EXPECT_TRUE(absl::StartsWith(second, "HTTP/1.1 429")) << second;
  held.Reset();
  usleep(100000);
  std::string big = Get(absl::StrCat("http://origin.test:", origin_.port(), "/bytes/", 4 << 20));
  EXPECT_LT(big.size(), size_t{2} << 20);
  Report report = proxy_->Close(share_);
  share_ = 0;
  ASSERT_EQ(report.denials_size(), 2);
  EXPECT_EQ(report.denials(0).reason(), sandbox::v1::PROXY_LIMIT);
  EXPECT_EQ(report.denials(1).reason(), sandbox::v1::PROXY_LIMIT);
  // The control: without the bounds, the same download arrives whole.
  Open(Allowing({"origin.test"}));
  EXPECT_GT(Get(absl::StrCat("http://origin.test:", origin_.port(), "/bytes/", 4 << 20)).size(),
            size_t{4} << 20);
}

TEST_F(ProxyTest, EndsAnIdleConnection) {
  Grant grant = Allowing({"origin.test"});
  grant.mutable_idle_timeout()->set_nanos(400 * 1000 * 1000);
  Open(grant);
  UniqueFd fd = ConnectToProxy();
  absl::Time start = absl::Now();
  char byte;
  EXPECT_EQ(read(fd.get(), &byte, 1), 0);  // EOF, not the 10 s timeout.
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));  // Between one and two idle times.
  // The control: a tunnel that keeps passing bytes outlives the idle time.
  UniqueFd busy = ConnectToProxy();
  Send(busy.get(), absl::StrCat("CONNECT origin.test:", origin_.port(), " HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(absl::StartsWith(ReadAll(busy.get(), 39), "HTTP/1.1 200"));
  Send(busy.get(), "GET /slow HTTP/1.1\r\nX-Slow: ");
  for (int i = 0; i < 12; ++i) {
    usleep(100000);
    Send(busy.get(), "a");
  }
  pollfd wait{busy.get(), POLLIN, 0};
  EXPECT_EQ(poll(&wait, 1, 0), 0);  // Still open after 1.2 s, three idle times.
}

// The server's own ports on this host stay closed whatever the operator allows, and an
// address of this host is this host's however it is written.
TEST(MayConnectTest, NeverTheServerAndThisHostOnlyWhereAllowed) {
  auto at = [](const char* text, int port) {
    return tcp::endpoint(asio::ip::make_address(text), static_cast<uint16_t>(port));
  };
  ProxySettings settings;
  settings.own_ports = {50051};
  EXPECT_TRUE(MayConnect(at("8.8.8.8", 443).data(), 443, settings));
  for (const char* local : {"127.0.0.1", "::1", "0.0.0.0", "::", "::ffff:127.0.0.1",
                            "64:ff9b::7f00:1", "2002:7f00:1::1"}) {
    EXPECT_FALSE(MayConnect(at(local, 80).data(), 80, settings)) << local;
  }
  settings.allowed_destinations = {*Cidr::Parse("127.0.0.0/8"), *Cidr::Parse("0.0.0.0/0")};
  EXPECT_TRUE(MayConnect(at("127.0.0.1", 80).data(), 80, settings));  // The control.
  EXPECT_TRUE(MayConnect(at("::ffff:127.0.0.1", 80).data(), 80, settings));
  for (const char* local : {"127.0.0.1", "::ffff:127.0.0.1", "0.0.0.0", "64:ff9b::7f00:1"}) {
    EXPECT_FALSE(MayConnect(at(local, 50051).data(), 50051, settings)) << local;
  }
}

// A request Beast will not forward (TRACE with a body) is refused, and the proxy goes
// on serving.
TEST_F(ProxyTest, ARequestItCannotForwardIsRefusedAndTheProxyLives) {
  Open(Allowing({"origin.test"}));
  std::string url = absl::StrCat("http://origin.test:", origin_.port(), "/");
  std::string trace = Ask(absl::StrCat("TRACE ", url, " HTTP/1.1\r\nContent-Length: 1\r\n\r\nx"));
  EXPECT_TRUE(absl::StartsWith(trace, "HTTP/1.1 400")) << trace;
  EXPECT_TRUE(absl::StartsWith(Get(url), "HTTP/1.1 200"));
}

// A plain request's body past its bound is refused naming the host, before any of it
// is read; one within it goes through.
TEST_F(ProxyTest, APlainBodyPastItsBoundIsRefusedNamingTheHost) {
  Open(Allowing({"origin.test"}));
  std::string url = absl::StrCat("http://origin.test:", origin_.port(), "/");
  std::string big = Ask(absl::StrCat("POST ", url, " HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n"));
  EXPECT_TRUE(absl::StartsWith(big, "HTTP/1.1 413")) << big;
  EXPECT_TRUE(absl::StrContains(big, absl::StrCat("origin.test:", origin_.port()))) << big;
  std::string body(1000, 'b');
  std::string small = Ask(absl::StrCat("POST ", url, " HTTP/1.1\r\nContent-Length: 1000\r\n\r\n", body));
  EXPECT_TRUE(absl::StartsWith(small, "HTTP/1.1 200")) << small;
}

// Urgent data stays in the tunnel's stream instead of stalling it.
TEST_F(ProxyTest, UrgentDataPassesThroughATunnel) {
  Open(Allowing({"origin.test"}));
  UniqueFd fd = ConnectToProxy();
  Send(fd.get(), absl::StrCat("CONNECT origin.test:", origin_.port(), " HTTP/1.1\r\n\r\n"));
  std::string established = ReadAll(fd.get(), 39);
  ASSERT_TRUE(absl::StartsWith(established, "HTTP/1.1 200")) << established;
  Send(fd.get(), "GET /urgent HTTP/1.1\r\nHost: x\r\n\r");
  ASSERT_EQ(send(fd.get(), "\n", 1, MSG_OOB), 1);
  EXPECT_TRUE(absl::StrContains(ReadAll(fd.get()), "GET /urgent host=x"));
  // The same, the client closing its side right after the urgent byte.
  UniqueFd closing = ConnectToProxy();
  Send(closing.get(), absl::StrCat("CONNECT origin.test:", origin_.port(), " HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(absl::StartsWith(ReadAll(closing.get(), 39), "HTTP/1.1 200"));
  Send(closing.get(), "GET /then-closed HTTP/1.1\r\nHost: x\r\n\r");
  ASSERT_EQ(send(closing.get(), "\n", 1, MSG_OOB), 1);
  ASSERT_EQ(shutdown(closing.get(), SHUT_WR), 0);
  EXPECT_TRUE(absl::StrContains(ReadAll(closing.get()), "GET /then-closed host=x"));
}

// A share's report holds at most 64 kinds of refusal; the last counts the rest.
TEST_F(ProxyTest, ARequestsDenialsAreBounded) {
  Open(Allowing({"origin.test"}));
  for (int i = 0; i < 70; ++i) Connect(absl::StrCat("h", i, ".test:443"));
  Report report = proxy_->Close(share_);
  share_ = 0;
  ASSERT_EQ(report.denials_size(), 64);
  EXPECT_EQ(report.denials(63).count(), 7u);
}

// The name as the rules saw it is the name the hosts file is asked (a trailing dot
// makes no other name).
TEST_F(ProxyTest, ATrailingDotNamesTheSameHost) {
  Open(Allowing({"origin.test"}));
  std::string reply = Get(absl::StrCat("http://origin.test.:", origin_.port(), "/"));
  EXPECT_TRUE(absl::StartsWith(reply, "HTTP/1.1 200")) << reply;
}

TEST(ParseHostsFileTest, ReadsAddressesAndNames) {
  auto hosts = ParseHostsFile("# comment\n127.0.0.1 a.test B.test.\n\n::1 a.test\n");
  ASSERT_TRUE(hosts.ok()) << hosts.status();
  EXPECT_EQ((*hosts)["a.test"], (std::vector<std::string>{"127.0.0.1", "::1"}));
  EXPECT_EQ((*hosts)["b.test"], (std::vector<std::string>{"127.0.0.1"}));
  EXPECT_FALSE(ParseHostsFile("not-an-address a.test\n").ok());
}

}  // namespace
}  // namespace sandboxd

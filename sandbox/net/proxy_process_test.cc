#include "sandbox/net/proxy_process.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "sandbox/net/bridge.h"
#include "sandbox/net/private_netns.h"

namespace sandboxd {
namespace {

std::string ProxyBinary() {
  const char* root = std::getenv("TEST_SRCDIR");
  return absl::StrCat(root != nullptr ? root : ".", "/sandboxd/sandbox/net/sandboxd-proxy");
}

// A refusal needs no origin: what the proxy answers, and reports, shows it serves the
// share from its own process.
class ProxyProcessTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { netns_failed_ = EnterPrivateNetns(); }
  void SetUp() override {
    ASSERT_EQ(netns_failed_, nullptr) << netns_failed_;
    absl::StatusOr<std::unique_ptr<ProxyProcess>> started = ProxyProcess::Start({ProxyBinary()});
    ASSERT_TRUE(started.ok()) << started.status();
    proxy_ = *std::move(started);
  }

  uint64_t Open() {
    int pair[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair), 0);
    Grant grant;
    grant.add_allow("allowed.test");
    absl::StatusOr<uint64_t> id = proxy_->Open(grant, UniqueFd(pair[0]));
    EXPECT_TRUE(id.ok()) << id.status();
    EXPECT_EQ(SendProxyListener(pair[1]), nullptr);
    return id.ok() ? *id : 0;
  }

  // CONNECT denied.test:443 through the share's listener, and the answer.
  static std::string ConnectDenied() {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(kProxyPort);
    inet_pton(AF_INET, kProxyAddress, &address.sin_addr);
    timeval timeout{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    std::string reply;
    if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
      std::string request = "CONNECT denied.test:443 HTTP/1.1\r\n\r\n";
      if (write(fd, request.data(), request.size()) > 0) {
        char buffer[4096];
        ssize_t n;
        while ((n = read(fd, buffer, sizeof buffer)) > 0) reply.append(buffer, n);
      }
    }
    close(fd);
    return reply;
  }

  static inline const char* netns_failed_ = nullptr;
  std::unique_ptr<ProxyProcess> proxy_;
};

TEST_F(ProxyProcessTest, ServesASharesRulesAndReportsItsDenials) {
  uint64_t share = Open();
  EXPECT_TRUE(absl::StartsWith(ConnectDenied(), "HTTP/1.1 403")) << "no 403";
  Report report = proxy_->Close(share);
  ASSERT_EQ(report.denials_size(), 1);
  EXPECT_EQ(report.denials(0).host(), "denied.test");
  EXPECT_EQ(report.denials(0).reason(), sandbox::v1::DOMAIN_NOT_ALLOWED);
  EXPECT_NE(proxy_->pid(), getpid());
  EXPECT_TRUE(absl::StrContains(proxy_->Describe(), "a process of its own"));
}

// A proxy that dies is started again: the share it held is lost (its Close reports
// nothing), the next one is served.
TEST_F(ProxyProcessTest, IsStartedAgainWhenItDies) {
  uint64_t lost = Open();
  pid_t first = proxy_->pid();
  ASSERT_EQ(kill(first, SIGKILL), 0);
  for (int i = 0; i < 100 && proxy_->restarts() == 0; ++i) usleep(20000);
  ASSERT_EQ(proxy_->restarts(), 1);
  EXPECT_NE(proxy_->pid(), first);
  EXPECT_EQ(proxy_->Close(lost).denials_size(), 0);
  uint64_t share = Open();
  EXPECT_TRUE(absl::StartsWith(ConnectDenied(), "HTTP/1.1 403"));
  EXPECT_EQ(proxy_->Close(share).denials_size(), 1);
}

// What proxy_confinement_test shows of ConfineProxy is what the shipped binary runs.
TEST_F(ProxyProcessTest, RunsConfined) {
  std::ifstream status(absl::StrCat("/proc/", proxy_->pid(), "/status"));
  std::string line, seen;
  while (std::getline(status, line)) {
    if (absl::StartsWith(line, "NoNewPrivs:") || absl::StartsWith(line, "Seccomp:")) {
      seen += line + "\n";
    }
  }
  EXPECT_EQ(seen, "NoNewPrivs:\t1\nSeccomp:\t2\n");
}

TEST_F(ProxyProcessTest, DiesWithItsSupervisor) {
  pid_t pid = proxy_->pid();
  ASSERT_EQ(kill(pid, 0), 0);
  proxy_.reset();
  EXPECT_NE(kill(pid, 0), 0);
}

TEST(ProxyProcessStartTest, SaysWhenTheProxyCannotStart) {
  absl::StatusOr<std::unique_ptr<ProxyProcess>> started =
      ProxyProcess::Start({ProxyBinary(), "--hosts_file=/nonexistent"});
  EXPECT_EQ(started.status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace sandboxd

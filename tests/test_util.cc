#include "tests/test_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "absl/time/clock.h"
#include "base/read_file.h"

namespace sandboxd::testing {

int CountProcesses(const std::string& marker) {
  int count = 0;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", error)) {
    std::string cmdline = ReadFileOrEmpty(entry.path() / "cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(marker) != std::string::npos) ++count;
  }
  return count;
}

bool GoneWithin(const std::string& marker, absl::Duration wait) {
  absl::Time deadline = absl::Now() + wait;
  while (CountProcesses(marker) > 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  return CountProcesses(marker) == 0;
}

int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

void SharedServerTest::StartServer(const SandboxdProcess::Options& options) {
  signal(SIGPIPE, SIG_IGN);
  absl::StatusOr<std::unique_ptr<SandboxdProcess>> server = SandboxdProcess::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  server_ = server->release();
}

void SharedServerTest::TearDownTestSuite() {
  delete server_;
  server_ = nullptr;
}

}  // namespace sandboxd::testing

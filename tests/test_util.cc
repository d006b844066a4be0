#include "tests/test_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>

#include <grpcpp/client_context.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
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

std::vector<pid_t> ChildrenOf(pid_t pid) {
  std::vector<pid_t> children;
  std::error_code error;
  for (const auto& task :
       std::filesystem::directory_iterator(absl::StrCat("/proc/", pid, "/task"), error)) {
    std::istringstream in(ReadFileOrEmpty(task.path() / "children"));
    pid_t child;
    while (in >> child) children.push_back(child);
  }
  return children;
}

std::string ProcessName(pid_t pid) {
  return std::string(
      absl::StripTrailingAsciiWhitespace(ReadFileOrEmpty(absl::StrCat("/proc/", pid, "/comm"))));
}

std::vector<pid_t> LaunchersOf(pid_t pid) {
  std::vector<pid_t> launchers;
  for (pid_t child : ChildrenOf(pid)) {
    if (ProcessName(child) == "sandboxd-launch") launchers.push_back(child);
  }
  return launchers;
}

LoopbackListener::LoopbackListener(int family)
    : fd_(socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
  sockaddr_in6 v6{};
  sockaddr_in v4{};
  v6.sin6_family = AF_INET6;
  v6.sin6_addr = in6addr_loopback;
  v4.sin_family = AF_INET;
  v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sockaddr* addr = family == AF_INET6 ? reinterpret_cast<sockaddr*>(&v6)
                                      : reinterpret_cast<sockaddr*>(&v4);
  socklen_t len = family == AF_INET6 ? sizeof v6 : sizeof v4;
  if (bind(fd_, addr, len) != 0 || listen(fd_, 16) != 0 || getsockname(fd_, addr, &len) != 0) {
    ADD_FAILURE() << "cannot listen on loopback: " << std::strerror(errno);
  }
  port_ = ntohs(family == AF_INET6 ? v6.sin6_port : v4.sin_port);
}

LoopbackListener::~LoopbackListener() { close(fd_); }

int FreeLoopbackPort() { return LoopbackListener().port(); }

::sandbox::v1::ExecRequest Command(std::initializer_list<std::string> argv) {
  ::sandbox::v1::ExecRequest request;
  for (const std::string& arg : argv) request.add_argv(arg);
  return request;
}

grpc::Status CallExec(::sandbox::v1::SandboxService::Stub& stub,
                      const ::sandbox::v1::ExecRequest& request, absl::Duration timeout,
                      const std::string& token, ::sandbox::v1::ExecResponse* response) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
  ::sandbox::v1::ExecResponse dropped;
  return stub.Exec(&context, request, response != nullptr ? response : &dropped);
}

RunResult RunOnHostAs(uid_t uid, gid_t gid, const std::vector<std::string>& argv,
                      absl::Duration timeout) {
  Launch launch;
  launch.argv = {"/usr/bin/setpriv", absl::StrCat("--reuid=", uid), absl::StrCat("--regid=", gid),
                 "--clear-groups", "--"};
  launch.argv.insert(launch.argv.end(), argv.begin(), argv.end());
  launch.env = {"PATH=/usr/bin:/bin"};
  launch.timeout = timeout;
  launch.output_limit = 1 << 20;
  absl::StatusOr<RunResult> result = RunWorker(launch);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? *std::move(result) : RunResult(0);
}

::sandbox::v1::ExecResponse ExecChecked(::sandbox::v1::SandboxService::Stub& stub,
                                        const ::sandbox::v1::ExecRequest& request,
                                        absl::Duration timeout) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  ::sandbox::v1::ExecResponse response;
  grpc::Status status = stub.Exec(&context, request, &response);
  EXPECT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();
  return response;
}

Launch SandboxctlLaunch(const std::vector<std::string>& args, const std::string& address) {
  Launch launch;
  launch.argv = {Runfile("client/sandboxctl")};
  launch.argv.insert(launch.argv.end(), args.begin(), args.end());
  launch.env = {"SANDBOXD_ADDRESS=" + address};
  launch.timeout = absl::Seconds(60);
  launch.output_limit = 1 << 20;
  return launch;
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

#ifndef SANDBOXD_TESTS_TEST_UTIL_H_
#define SANDBOXD_TESTS_TEST_UTIL_H_

#include <sys/socket.h>

#include <initializer_list>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/time/time.h"
#include "sandbox/v1/sandbox.grpc.pb.h"
#include "sandbox/exec/worker.h"
#include "tests/sandboxd_process.h"

namespace sandboxd::testing {

// Processes whose command line contains `marker`, as this test's /proc shows them.
int CountProcesses(const std::string& marker);

// Waits up to `wait` for every process naming `marker` to be gone; true if they are.
bool GoneWithin(const std::string& marker, absl::Duration wait);

// The processes whose parent is `pid`, a child of any of its threads (zombies
// included).
std::vector<pid_t> ChildrenOf(pid_t pid);

// The name of process `pid` (its comm, as "sandboxd-launch"); empty once it is gone.
std::string ProcessName(pid_t pid);

// The pre-started launchers (sandboxd-launch) of the server `pid`.
std::vector<pid_t> LaunchersOf(pid_t pid);

// A TCP socket listening on 127.0.0.1, at a port the kernel chose; closed when
// destroyed. A test fails if it cannot listen.
class LoopbackListener {
 public:
  // On 127.0.0.1, or with AF_INET6 on ::1.
  explicit LoopbackListener(int family = AF_INET);
  ~LoopbackListener();
  LoopbackListener(const LoopbackListener&) = delete;
  LoopbackListener& operator=(const LoopbackListener&) = delete;

  int port() const { return port_; }
  int fd() const { return fd_; }

 private:
  int fd_;
  int port_ = 0;
};

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreeLoopbackPort();

// A shell script that prints the command's network namespace ("net:[N]") and then
// the interfaces in it, one a line.
inline constexpr char kShowNetns[] =
    "readlink /proc/self/ns/net; tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '";

// An ExecRequest that runs `argv`, with the server's defaults for everything else.
::sandbox::v1::ExecRequest Command(std::initializer_list<std::string> argv);

// Calls Exec through `stub`, with a deadline `timeout` from now and `token` as the
// bearer token ("": none); the response goes to `response` when given.
grpc::Status CallExec(::sandbox::v1::SandboxService::Stub& stub,
                      const ::sandbox::v1::ExecRequest& request, absl::Duration timeout,
                      const std::string& token = "",
                      ::sandbox::v1::ExecResponse* response = nullptr);

// Calls Exec through `stub` with a deadline `timeout` from now, and returns the
// response; a call that fails fails the test.
::sandbox::v1::ExecResponse ExecChecked(::sandbox::v1::SandboxService::Stub& stub,
                                        const ::sandbox::v1::ExecRequest& request,
                                        absl::Duration timeout = absl::Seconds(60));

// Runs `argv` on the host, outside any sandbox, as `uid` and `gid` (through setpriv),
// for the controls that show what an attack would do without the sandbox.
RunResult RunOnHostAs(uid_t uid, gid_t gid, const std::vector<std::string>& argv,
                      absl::Duration timeout = absl::Seconds(30));

// sandboxctl from the runfiles with `args`, talking to the server at `address`, as a
// launch for RunWorker.
Launch SandboxctlLaunch(const std::vector<std::string>& args, const std::string& address);

// A suite whose tests share one server: its SetUpTestSuite calls StartServer, and the
// server is stopped after the suite. SIGPIPE is ignored (commands close pipes early).
class SharedServerTest : public ::testing::Test {
 protected:
  static void StartServer(const SandboxdProcess::Options& options = {});
  static void TearDownTestSuite();

  inline static SandboxdProcess* server_ = nullptr;
};

}  // namespace sandboxd::testing

#endif  // SANDBOXD_TESTS_TEST_UTIL_H_

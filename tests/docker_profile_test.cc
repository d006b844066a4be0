// deploy/docker/seccomp.json, applied as Docker applies a profile to a container's
// first process (tests/docker_seccomp_exec), to the server running as an unprivileged
// user without capabilities, as in the image.

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <grpcpp/client_context.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "sandbox/v1/sandbox.grpc.pb.h"
#include "tests/sandboxd_process.h"
#include "tests/test_util.h"

namespace sandboxd::testing {
namespace {

namespace v1 = ::sandbox::v1;

class DockerProfileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root, to run the server as nobody";
    char dir[] = "/var/tmp/docker_profile_test.XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    ASSERT_EQ(chmod(dir_.c_str(), 0755), 0);
    // Where nobody may read them: the runfiles lie below root's home.
    tool_ = dir_ + "/docker_seccomp_exec";
    profile_ = dir_ + "/seccomp.json";
    ASSERT_TRUE(CopyExecutable(Runfile("tests/docker_seccomp_exec"), tool_).ok());
    std::filesystem::copy_file(Runfile("deploy/docker/seccomp.json"), profile_);
    ASSERT_EQ(chmod(profile_.c_str(), 0644), 0);
  }
  void TearDown() override {
    if (!dir_.empty()) std::system(("rm -rf " + dir_).c_str());
  }

  // The server as nobody under the profile, less the system calls in `dropped`.
  std::unique_ptr<SandboxdProcess> Server(const std::vector<std::string>& dropped = {}) {
    SandboxdProcess::Options options;
    options.as_nobody = true;
    options.wrapper = {tool_, profile_};
    for (const std::string& name : dropped) {
      options.wrapper.insert(options.wrapper.end(), {"--drop", name});
    }
    options.wrapper.push_back("--");
    absl::StatusOr<std::unique_ptr<SandboxdProcess>> server = SandboxdProcess::Start(options);
    EXPECT_TRUE(server.ok()) << server.status();
    return server.ok() ? *std::move(server) : nullptr;
  }

  static v1::GetCapabilitiesResponse Capabilities(SandboxdProcess& server) {
    auto stub = v1::SandboxService::NewStub(server.channel());
    grpc::ClientContext context;
    v1::GetCapabilitiesResponse response;
    EXPECT_TRUE(stub->GetCapabilities(&context, v1::GetCapabilitiesRequest(), &response).ok());
    return response;
  }

  std::string dir_, tool_, profile_;
};

// bwrap builds its sandboxes under the profile: the server keeps the bwrap backend, and
// a command runs in a read-only sandbox.
TEST_F(DockerProfileTest, TheServerKeepsBwrapUnderTheProfile) {
  std::unique_ptr<SandboxdProcess> server = Server();
  ASSERT_NE(server, nullptr);
  v1::GetCapabilitiesResponse caps = Capabilities(*server);
  EXPECT_EQ(caps.backend(), v1::BACKEND_BWRAP);
  EXPECT_TRUE(caps.user_namespaces());
  auto stub = v1::SandboxService::NewStub(server->channel());
  v1::ExecResponse response =
      ExecChecked(*stub, Command({"sh", "-c", "echo in; touch /etc/x 2>/dev/null || echo ro"}));
  EXPECT_EQ(response.termination(), v1::EXITED);
  EXPECT_EQ(response.stdout(), "in\nro\n");
}

// The control: without the mount calls the profile allows for bwrap (Docker's default
// allows them only with CAP_SYS_ADMIN), bwrap cannot build a sandbox and the server
// falls back. (clone stays: every fork needs it; Docker allows it without namespace
// flags.)
TEST_F(DockerProfileTest, WithoutItsBwrapRulesUserNamespacesAreRefused) {
  std::unique_ptr<SandboxdProcess> server = Server({"unshare", "mount", "umount2", "pivot_root"});
  ASSERT_NE(server, nullptr);
  v1::GetCapabilitiesResponse caps = Capabilities(*server);
  EXPECT_NE(caps.backend(), v1::BACKEND_BWRAP);
  EXPECT_FALSE(caps.user_namespaces());
}

// An allow-list: what it does not name is refused (here keyctl, which Docker's default
// refuses too), where it works without the profile.
TEST_F(DockerProfileTest, WhatItDoesNotNameIsRefused) {
  const std::string keyctl =
      "import ctypes, os; libc = ctypes.CDLL(None, use_errno=True); "
      "r = libc.syscall(250, 0, -3, 1); print(r >= 0, ctypes.get_errno())";
  RunResult under = RunOnHostAs(65534, 65534, {tool_, profile_, "--", "/usr/bin/python3", "-c", keyctl});
  EXPECT_EQ(under.stdout_data.Contents(), "False 1\n") << under.stderr_data.Contents();
  RunResult without = RunOnHostAs(65534, 65534, {"/usr/bin/python3", "-c", keyctl});
  EXPECT_EQ(without.stdout_data.Contents(), "True 0\n") << without.stderr_data.Contents();
  // The profile's own shape: nothing is allowed by default.
  std::ifstream in(profile_);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_THAT(text, ::testing::HasSubstr("\"defaultAction\": \"SCMP_ACT_ERRNO\""));
}

}  // namespace
}  // namespace sandboxd::testing

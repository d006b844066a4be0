// The server as a process: reflection for grpcurl-like clients, and shutdown.

#include <signal.h>
#include <sys/wait.h>

#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <grpcpp/client_context.h>
#include <gtest/gtest.h>

#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "sandbox/worker.h"
#include "sandbox/v1/sandbox.grpc.pb.h"
#include "tests/sandboxd_process.h"

namespace sandboxd::testing {
namespace {

using ::testing::IsSupersetOf;
namespace v1 = ::sandbox::v1;
namespace reflection = ::grpc::reflection::v1alpha;

// What grpcurl and buf curl do first: list services, then fetch their descriptors.
TEST(ServerLifecycleTest, ReflectionDescribesTheServices) {
  auto server = SandboxdProcess::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = reflection::ServerReflection::NewStub((*server)->channel());
  grpc::ClientContext context;
  auto stream = stub->ServerReflectionInfo(&context);

  reflection::ServerReflectionRequest list;
  list.set_list_services("*");
  ASSERT_TRUE(stream->Write(list));
  reflection::ServerReflectionResponse response;
  ASSERT_TRUE(stream->Read(&response));
  std::vector<std::string> names;
  for (const auto& service : response.list_services_response().service()) {
    names.push_back(service.name());
  }
  EXPECT_THAT(names, IsSupersetOf({"sandbox.v1.SandboxService", "grpc.health.v1.Health"}));

  for (const char* symbol : {"sandbox.v1.SandboxService", "grpc.health.v1.Health"}) {
    reflection::ServerReflectionRequest describe;
    describe.set_file_containing_symbol(symbol);
    ASSERT_TRUE(stream->Write(describe));
    ASSERT_TRUE(stream->Read(&response));
    EXPECT_FALSE(response.file_descriptor_response().file_descriptor_proto().empty())
        << symbol << ": " << response.error_response().error_message();
  }
  stream->WritesDone();
}

TEST(ServerLifecycleTest, SigtermDrainsThenKillsWhatRemains) {
  auto server = SandboxdProcess::Start({"--shutdown_grace=1s"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = v1::SandboxService::NewStub((*server)->channel());

  v1::ExecResponse long_response;
  grpc::Status long_status;
  std::thread long_call([&] {
    v1::ExecRequest request;
    for (const char* arg : {"sleep", "75319"}) request.add_argv(arg);
    grpc::ClientContext context;
    long_status = stub->Exec(&context, request, &long_response);
  });
  absl::SleepFor(absl::Milliseconds(500));  // Let the command start.

  absl::Time start = absl::Now();
  absl::StatusOr<int> status = (*server)->Stop(SIGTERM, absl::Seconds(20));
  long_call.join();
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 0);
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  ASSERT_TRUE(long_status.ok()) << long_status.error_message();
  EXPECT_EQ(long_response.termination(), v1::CANCELLED);
}

TEST(ServerLifecycleTest, SigintWithNothingRunningExitsCleanly) {
  auto server = SandboxdProcess::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  absl::StatusOr<int> status = (*server)->Stop(SIGINT, absl::Seconds(10));
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 0);
}

TEST(ServerLifecycleTest, RefusesToListenBeyondLoopback) {
  // Not through SandboxdProcess: this server must never start listening.
  Launch launch;
  launch.argv = {Runfile("server/sandboxd"), "--listen=0.0.0.0:0"};
  launch.timeout = absl::Seconds(20);
  launch.output_limit = 1 << 16;
  absl::StatusOr<RunResult> result = RunWorker(launch);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_code, 1);
  EXPECT_THAT(result->stderr_data.Contents(), ::testing::HasSubstr("not a loopback address"));
}

}  // namespace
}  // namespace sandboxd::testing

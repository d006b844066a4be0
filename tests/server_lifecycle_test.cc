// The server as a process: reflection for grpcurl-like clients, and shutdown.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
#include <sys/wait.h>

#include <filesystem>
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/read_file.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "sandbox/exec/worker.h"
#include "sandbox/v1/sandbox.grpc.pb.h"
#include "tests/sandboxd_process.h"
#include "tests/test_util.h"

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
  SandboxdProcess::Options options;
  options.flags = {"--shutdown_grace=1s"};
  auto server = SandboxdProcess::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = v1::SandboxService::NewStub((*server)->channel());

  v1::ExecResponse long_response;
  grpc::Status long_status;
  std::thread long_call([&] {
    grpc::ClientContext context;
    long_status = stub->Exec(&context, Command({"sleep", "75319"}), &long_response);
  });
  absl::SleepFor(absl::Milliseconds(500));  // Let the command start.

  absl::Time start = absl::Now();
  kill((*server)->pid(), SIGTERM);
  absl::SleepFor(absl::Milliseconds(300));
  // Draining: still answering, but not serving, and taking no new commands.
  auto health = grpc::health::v1::Health::NewStub((*server)->channel());
  grpc::ClientContext health_context;
  grpc::health::v1::HealthCheckResponse health_response;
  ASSERT_TRUE(health->Check(&health_context, grpc::health::v1::HealthCheckRequest(),
                            &health_response)
                  .ok());
  EXPECT_EQ(health_response.status(), grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  {
    grpc::ClientContext context;
    v1::ExecRequest request = Command({"true"});
    v1::ExecResponse response;
    EXPECT_EQ(stub->Exec(&context, request, &response).error_code(),
              grpc::StatusCode::UNAVAILABLE);
  }
  absl::StatusOr<int> status = (*server)->Stop(0, absl::Seconds(20));  // SIGTERM was sent.
  long_call.join();
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 0);
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  ASSERT_TRUE(long_status.ok()) << long_status.error_message();
  EXPECT_EQ(long_response.termination(), v1::CANCELLED);
}

// A request waiting for a turn when the server is told to stop is refused at once with
// UNAVAILABLE (a client retries elsewhere), rather than waiting out the grace; the one
// that runs gets the grace.
TEST(ServerLifecycleTest, SigtermRefusesQueuedRequestsAtOnce) {
  SandboxdProcess::Options options;
  options.flags = {"--shutdown_grace=5s", "--max_concurrent=1"};
  auto server = SandboxdProcess::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = v1::SandboxService::NewStub((*server)->channel());
  std::thread running([&] {
    grpc::ClientContext context;
    v1::ExecResponse response;
    stub->Exec(&context, Command({"sleep", "3"}), &response);
  });
  absl::SleepFor(absl::Milliseconds(500));
  grpc::Status queued_status;
  absl::Time queued_end;
  std::thread queued([&] {
    grpc::ClientContext context;
    v1::ExecResponse response;
    queued_status = stub->Exec(&context, Command({"true"}), &response);
    queued_end = absl::Now();
  });
  absl::SleepFor(absl::Milliseconds(500));  // It waits behind the running one.
  absl::Time stop = absl::Now();
  kill((*server)->pid(), SIGTERM);
  queued.join();
  EXPECT_EQ(queued_status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << queued_status.error_message();
  EXPECT_THAT(queued_status.error_message(), ::testing::HasSubstr("shutting down"));
  EXPECT_LT(queued_end - stop, absl::Seconds(1));
  running.join();
  ASSERT_TRUE((*server)->Stop(0, absl::Seconds(20)).ok());
}

// Even a server that dies without any chance to clean up leaves nothing running:
// bwrap's --die-with-parent and the pid namespace take every sandboxed process along.
TEST(ServerLifecycleTest, SigkillOfTheServerKillsEverySandboxedProcess) {
  auto server = SandboxdProcess::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string marker = "sleep 64207";
  std::thread call([&] {
    auto stub = v1::SandboxService::NewStub((*server)->channel());
    v1::ExecRequest request;
    for (const char* arg : {"sh", "-c", "sleep 64207 & setsid sleep 64207 & sleep 64207"}) {
      request.add_argv(arg);
    }
    grpc::ClientContext context;
    v1::ExecResponse response;
    stub->Exec(&context, request, &response);  // Fails: the server dies.
  });
  for (int i = 0; i < 100 && CountProcesses(marker) < 3; ++i) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  // The three sleeps, plus the shell, bwrap and bwrap's init, whose command lines name
  // them too.
  EXPECT_GE(CountProcesses(marker), 3);
  EXPECT_TRUE((*server)->Stop(SIGKILL, absl::Seconds(5)).ok());
  call.join();
  EXPECT_TRUE(GoneWithin(marker, absl::Seconds(5)));
}

TEST(ServerLifecycleTest, SigintWithNothingRunningExitsCleanly) {
  auto server = SandboxdProcess::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  absl::StatusOr<int> status = (*server)->Stop(SIGINT, absl::Seconds(10));
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 0);
}

// Hosts that refuse to mount /proc get an empty one, and the server says so.
TEST(ServerLifecycleTest, EmptyProcWhereNoneCanBeMounted) {
  SandboxdProcess::Options options;
  options.flags = {"--proc=empty"};
  auto server = SandboxdProcess::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = v1::SandboxService::NewStub((*server)->channel());
  v1::ExecRequest request;
  for (const char* arg : {"sh", "-c", "ls -A /proc | wc -l"}) request.add_argv(arg);
  grpc::ClientContext context;
  v1::ExecResponse response;
  ASSERT_TRUE(stub->Exec(&context, request, &response).ok());
  EXPECT_EQ(response.stdout(), "0\n") << response.stderr();
  grpc::ClientContext caps_context;
  v1::GetCapabilitiesResponse caps;
  ASSERT_TRUE(stub->GetCapabilities(&caps_context, v1::GetCapabilitiesRequest(), &caps).ok());
  EXPECT_FALSE(caps.proc_mount());
}

// One runs, one waits within its deadline, the rest are refused at once.
TEST(ServerLifecycleTest, BoundedConcurrencyAndQueue) {
  SandboxdProcess::Options options;
  options.flags = {"--max_concurrent=1", "--max_queued=1"};
  auto server = SandboxdProcess::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = v1::SandboxService::NewStub((*server)->channel());

  grpc::Status running_status;
  std::thread running([&] {
    running_status = CallExec(*stub, Command({"sleep", "4"}), absl::Seconds(30));
  });
  // Generous waits: other test binaries share the two cores.
  absl::SleepFor(absl::Milliseconds(500));  // The first call holds the only slot.

  absl::Time start = absl::Now();
  grpc::Status late = CallExec(*stub, Command({"true"}), absl::Milliseconds(400));
  EXPECT_EQ(late.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << late.error_message();
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(300));  // It waited its deadline out.
  // The client sees its deadline pass at the moment the server gives its place up:
  // give the server a moment to have done so.
  absl::SleepFor(absl::Milliseconds(500));

  grpc::Status queued_status;
  std::thread queued([&] {
    queued_status = CallExec(*stub, Command({"true"}), absl::Seconds(30));
  });
  absl::SleepFor(absl::Seconds(1));  // It takes the only place in the queue.
  grpc::Status refused = CallExec(*stub, Command({"true"}), absl::Seconds(30));
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(refused.error_message(), ::testing::HasSubstr("--max_queued"));

  running.join();
  queued.join();
  EXPECT_TRUE(running_status.ok()) << running_status.error_message();
  EXPECT_TRUE(queued_status.ok()) << queued_status.error_message();
}

int OpenFds(pid_t pid) {
  int count = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(absl::StrCat("/proc/", pid, "/fd"))) {
    (void)entry;
    ++count;
  }
  return count;
}

// The names of the processes whose parent is `pid` (zombies included), and how many
// have each.
std::map<std::string, int> Children(pid_t pid) {
  std::map<std::string, int> names;
  for (pid_t child : ChildrenOf(pid)) ++names[ProcessName(child)];
  return names;
}

int Threads(pid_t pid) {
  int count = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(absl::StrCat("/proc/", pid, "/task"))) {
    (void)entry;
    ++count;
  }
  return count;
}

std::unique_ptr<grpc::ClientContext> Within(absl::Duration timeout) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  return context;
}

// A process started by id (on a terminal or not) run to its end and forgotten, and a
// session with a command and two file calls in it, closed.
void RunAgentCalls(v1::SandboxService::Stub& stub, bool terminal) {
  v1::StartProcessRequest start;
  for (const char* arg : {"sh", "-c", "read x; echo $x"}) start.mutable_exec()->add_argv(arg);
  if (terminal) start.mutable_terminal();
  v1::ProcessOutput output;
  ASSERT_TRUE(stub.StartProcess(Within(absl::Seconds(30)).get(), start, &output).ok());
  v1::WriteProcessRequest write;
  write.set_process_id(output.process_id());
  write.set_text("hi\n");
  write.set_close_stdin(true);
  v1::WriteProcessResponse written;
  EXPECT_TRUE(stub.WriteProcess(Within(absl::Seconds(30)).get(), write, &written).ok());
  v1::ReadProcessRequest read;
  read.set_process_id(output.process_id());
  read.mutable_wait()->set_seconds(20);
  read.set_until_exit(true);
  EXPECT_TRUE(stub.ReadProcess(Within(absl::Seconds(30)).get(), read, &output).ok());
  EXPECT_FALSE(output.running());
  v1::KillProcessRequest kill;
  kill.set_process_id(output.process_id());
  v1::KillProcessResponse killed;
  EXPECT_TRUE(stub.KillProcess(Within(absl::Seconds(30)).get(), kill, &killed).ok());

  v1::Session session;
  ASSERT_TRUE(stub.CreateSession(Within(absl::Seconds(30)).get(), {}, &session).ok());
  v1::ExecRequest in_session = Command({"sh", "-c", "echo x > /tmp/f"});
  in_session.set_session_id(session.session_id());
  CallExec(stub, in_session, absl::Seconds(30));
  v1::ReadFileRequest file;
  file.set_path("/tmp/f");
  file.mutable_scope()->set_session_id(session.session_id());
  auto context = Within(absl::Seconds(30));
  auto reader = stub.ReadFile(context.get(), file);
  v1::FileChunk chunk;
  while (reader->Read(&chunk)) {
  }
  EXPECT_TRUE(reader->Finish().ok());
  v1::StatFileRequest stat;
  stat.set_path("/no/such/file");
  v1::FileInfo info;
  EXPECT_EQ(stub.StatFile(Within(absl::Seconds(30)).get(), stat, &info).error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::CloseSessionRequest close;
  close.set_session_id(session.session_id());
  v1::CloseSessionResponse closed;
  EXPECT_TRUE(stub.CloseSession(Within(absl::Seconds(30)).get(), close, &closed).ok());
}

// Hundreds of requests of every kind leave no descriptor and no process behind but the
// pre-started launchers, and no more of those than the first few requests left (the
// requests come one at a time, so the pools do not grow), and the proxy process, whose
// own descriptors do not grow either.
TEST(ServerLifecycleTest, NoLeaksAfterManyRequests) {
  auto server = SandboxdProcess::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = v1::SandboxService::NewStub((*server)->channel());
  auto run_mix = [&](int rounds) {
    for (int i = 0; i < rounds; ++i) {
      v1::ExecRequest ok = Command({"sh", "-c", "echo out; echo err >&2; cat"});
      ok.set_stdin("input");
      CallExec(*stub, ok, absl::Seconds(30));
      v1::ExecRequest timeout = Command({"sleep", "5"});
      timeout.mutable_timeout()->set_nanos(20'000'000);
      if (i % 10 == 0) CallExec(*stub, timeout, absl::Seconds(30));
      CallExec(*stub, Command({"/no/such/program"}), absl::Seconds(30));
      v1::ExecRequest bad = Command({"true"});
      bad.set_cwd("relative");
      CallExec(*stub, bad, absl::Seconds(30));
      v1::ExecRequest proxied = Command({"curl", "-s", "http://refused.test/"});
      proxied.mutable_policy()->set_network(v1::NETWORK_PROXY_ROUTED);
      CallExec(*stub, proxied, absl::Seconds(30));
      RunAgentCalls(*stub, /*terminal=*/i % 2 == 1);
    }
  };
  run_mix(10);  // Warm up: gRPC opens what it keeps, the pools fill.
  int fds_before = OpenFds((*server)->pid());
  int threads_before = Threads((*server)->pid());
  int launchers_before = Children((*server)->pid())["sandboxd-launch"];
  std::vector<pid_t> proxies;
  for (pid_t child : ChildrenOf((*server)->pid())) {
    if (ProcessName(child) == "sandboxd-proxy") proxies.push_back(child);
  }
  ASSERT_EQ(proxies.size(), 1u);
  int proxy_fds_before = OpenFds(proxies[0]);
  run_mix(100);
  // The pools take launchers and cgroups back off the response path, and one that finds
  // none back yet makes one more (a pool grows to what it is asked for at once): a
  // launcher more holds its orders socket (and, on cgroup v2, its cgroup's memory.peak).
  // Beyond those, nothing may be left.
  auto allowed = [&] {
    return fds_before + 2 * std::max(0, Children((*server)->pid())["sandboxd-launch"] -
                                            launchers_before);
  };
  for (int i = 0; i < 100 && OpenFds((*server)->pid()) > allowed(); ++i) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_LE(OpenFds((*server)->pid()), allowed());
  // Each process started by id had a thread of its own, joined when it was forgotten
  // (gRPC's handler threads come and go by a few).
  EXPECT_LE(Threads((*server)->pid()), threads_before + 4);
  std::map<std::string, int> children = Children((*server)->pid());
  EXPECT_LE(children["sandboxd-launch"], launchers_before + 2);
  children.erase("sandboxd-launch");
  EXPECT_EQ(children["sandboxd-proxy"], 1);
  children.erase("sandboxd-proxy");
  EXPECT_THAT(children, ::testing::IsEmpty());
  EXPECT_LE(OpenFds(proxies[0]), proxy_fds_before);
}

// The ids of the threads of `pid` that gRPC's sync server runs handlers on.
std::set<std::string> HandlerThreads(pid_t pid) {
  std::set<std::string> threads;
  for (const auto& task : std::filesystem::directory_iterator(absl::StrCat("/proc/", pid, "/task"))) {
    if (absl::StartsWith(ReadFileOrEmpty(task.path() / "comm"), "grpcpp_sync_ser")) {
      threads.insert(task.path().filename());
    }
  }
  return threads;
}

// The threads that served a burst of concurrent requests wait for the next one: a
// second burst like it makes no new handler thread (gRPC's default kept two and made
// the rest anew each time).
TEST(ServerLifecycleTest, ThreadsAreKeptForTheNextBurst) {
  auto server = SandboxdProcess::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  auto burst = [&] {
    std::vector<std::thread> callers;
    for (int i = 0; i < 6; ++i) {
      callers.emplace_back([&] {
        auto stub = v1::SandboxService::NewStub((*server)->channel());
        ExecChecked(*stub, Command({"sleep", "0.3"}));
      });
    }
    for (std::thread& caller : callers) caller.join();
  };
  burst();
  std::set<std::string> after_first = HandlerThreads((*server)->pid());
  burst();
  std::set<std::string> after_second = HandlerThreads((*server)->pid());
  EXPECT_GE(after_first.size(), 6u);
  EXPECT_TRUE(std::includes(after_first.begin(), after_first.end(), after_second.begin(),
                            after_second.end()))
      << after_first.size() << " threads after the first burst, " << after_second.size()
      << " after the second";
}

// The body of GET `path` from 127.0.0.1:`port`, read until the server closes.
std::string HttpGet(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return "";
  }
  std::string request = "GET " + path + " HTTP/1.0\r\nHost: localhost\r\n\r\n";
  EXPECT_EQ(write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
  std::string response;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) response.append(buf, static_cast<size_t>(n));
  close(fd);
  size_t body = response.find("\r\n\r\n");
  return body == std::string::npos ? "" : response.substr(body + 4);
}

TEST(ServerLifecycleTest, PrometheusMetrics) {
  int port = FreeLoopbackPort();
  SandboxdProcess::Options options;
  options.flags = {absl::StrCat("--metrics_listen=127.0.0.1:", port)};
  auto server = SandboxdProcess::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = v1::SandboxService::NewStub((*server)->channel());
  ASSERT_TRUE(CallExec(*stub, Command({"true"}), absl::Seconds(30)).ok());
  v1::ExecRequest bad = Command({"true"});
  bad.set_cwd("relative");
  CallExec(*stub, bad, absl::Seconds(30));
  std::string metrics = HttpGet(port, "/metrics");
  EXPECT_THAT(metrics, ::testing::HasSubstr(
                           "sandboxd_requests_total{method=\"Exec\",outcome=\"exited\"} 1"));
  EXPECT_THAT(metrics, ::testing::HasSubstr("sandboxd_rejections_total{method=\"Exec\","
                                            "reason=\"INVALID_ARGUMENT\"} 1"));
  EXPECT_THAT(metrics, ::testing::HasSubstr(
                           "sandboxd_request_duration_seconds_count{method=\"Exec\"}"));
  EXPECT_THAT(metrics, ::testing::HasSubstr("sandboxd_load{state=\"running\"} 0"));
  EXPECT_THAT(metrics, ::testing::HasSubstr("sandboxd_load{state=\"queued\"} 0"));
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

using grpc::health::v1::HealthCheckResponse;

// A health check as the kubelet's gRPC probe makes it: plaintext, no credentials, the
// probe's service name.
grpc::Status Probe(const std::string& address, const std::string& service,
                   HealthCheckResponse* response) {
  auto stub = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  return stub->Check(&context, request, response);
}

// --health_listen serves probes in plaintext, and nothing but health: liveness stays
// SERVING while the server drains, readiness turns NOT_SERVING.
TEST(ServerLifecycleTest, TheHealthListenerServesProbesAndNothingElse) {
  std::string health = absl::StrCat("127.0.0.1:", FreeLoopbackPort());
  SandboxdProcess::Options options;
  options.flags = {"--health_listen=" + health, "--shutdown_grace=5s"};
  auto server = SandboxdProcess::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  HealthCheckResponse live, ready;
  ASSERT_TRUE(Probe(health, "", &live).ok());
  ASSERT_TRUE(Probe(health, "sandbox.v1.SandboxService", &ready).ok());
  EXPECT_EQ(live.status(), HealthCheckResponse::SERVING);
  EXPECT_EQ(ready.status(), HealthCheckResponse::SERVING);
  EXPECT_EQ(Probe(health, "other", &ready).error_code(), grpc::StatusCode::NOT_FOUND);
  // The control: the service itself is not there, to anyone.
  auto stub = v1::SandboxService::NewStub(
      grpc::CreateChannel(health, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  v1::ExecResponse response;
  EXPECT_EQ(stub->Exec(&context, Command({"true"}), &response).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);

  std::thread running([&] {
    auto main = v1::SandboxService::NewStub((*server)->channel());
    grpc::ClientContext context;
    v1::ExecResponse response;
    main->Exec(&context, Command({"sleep", "2"}), &response);
  });
  absl::SleepFor(absl::Milliseconds(300));
  kill((*server)->pid(), SIGTERM);
  absl::SleepFor(absl::Milliseconds(300));
  ASSERT_TRUE(Probe(health, "", &live).ok());
  ASSERT_TRUE(Probe(health, "sandbox.v1.SandboxService", &ready).ok());
  EXPECT_EQ(live.status(), HealthCheckResponse::SERVING);
  EXPECT_EQ(ready.status(), HealthCheckResponse::NOT_SERVING);
  running.join();
  ASSERT_TRUE((*server)->Stop(0, absl::Seconds(20)).ok());
}

// A stream whose command is silent for seconds, from a client that pings its
// connection every second: the server lets it (--keepalive_min_client_interval), where
// gRPC's default would answer GOAWAY too_many_pings and end the call.
TEST(ServerLifecycleTest, ClientKeepalivesOnASilentStreamAreAllowed) {
  for (bool allowed : {true, false}) {
    SandboxdProcess::Options options;
    options.flags = {allowed ? "--keepalive_min_client_interval=1s"
                             : "--keepalive_min_client_interval=5m"};
    auto server = SandboxdProcess::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 1000);
    args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
    auto stub = v1::SandboxService::NewStub(grpc::CreateCustomChannel(
        (*server)->address(), grpc::InsecureChannelCredentials(), args));
    grpc::ClientContext context;
    auto stream = stub->ExecStream(&context);
    v1::ExecStreamRequest start;
    *start.mutable_start() = Command({"sleep", "6"});
    ASSERT_TRUE(stream->Write(start));
    v1::ExecStreamResponse message;
    bool result = false;
    while (stream->Read(&message)) result = result || message.has_result();
    grpc::Status status = stream->Finish();
    if (allowed) {
      EXPECT_TRUE(status.ok()) << status.error_message();
      EXPECT_TRUE(result);
    } else {
      EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
    }
  }
}

// --socket_group lets that group's members connect, and only them.
TEST(ServerLifecycleTest, TheSocketGroupMayConnect) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root, to connect as other users";
  constexpr gid_t kGroup = 54321;
  SandboxdProcess::Options options;
  options.flags = {absl::StrCat("--socket_group=", kGroup)};
  auto server = SandboxdProcess::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  std::string path = (*server)->address().substr(std::string("unix:").size());
  const std::vector<std::string> connect = {
      "/usr/bin/python3", "-c",
      "import socket, sys; s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])", path};
  uid_t other = (*server)->command_uid() + 1000;
  RunResult member = RunOnHostAs(other, kGroup, connect);
  EXPECT_EQ(member.exit_code, 0) << member.stderr_data.Contents();
  RunResult stranger = RunOnHostAs(other, other, connect);  // The control.
  EXPECT_NE(stranger.exit_code, 0);
  EXPECT_THAT(stranger.stderr_data.Contents(), ::testing::HasSubstr("Permission denied"));
}

}  // namespace
}  // namespace sandboxd::testing

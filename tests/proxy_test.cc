// The managed network end to end: real servers (as root, and as an ordinary user;
// the proxy in the server and in a process of its own), real clients in the sandbox
// (curl, Python, pip, git, npm), and an origin server on loopback
// (tests/origin_server.py, with a test CA the commands trust through their
// environment) that the proxy may reach only through the test's allowance
// (--proxy_allow_destination=127.0.0.1) and names mapped in a hosts file given to the
// proxy.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <grpcpp/client_context.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "base/read_file.h"
#include "sandbox/v1/sandbox.grpc.pb.h"
#include "tests/sandboxd_process.h"
#include "tests/test_util.h"

namespace sandboxd::testing {
namespace {

namespace v1 = ::sandbox::v1;
using ::testing::HasSubstr;

extern "C" char** environ;

// tests/origin_server.py, on 127.0.0.1 and 127.0.0.2, in a directory every user may
// read (the commands read its CA, a server as nobody its hosts file). It exits when
// its stdin closes.
class Origin {
 public:
  Origin() {
    char dir[] = "/var/tmp/sandboxd-origin.XXXXXX";
    if (mkdtemp(dir) == nullptr) return;
    dir_ = dir;
    chmod(dir, 0755);
    int in[2];
    if (pipe2(in, O_CLOEXEC) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    std::vector<std::string> args = {"/usr/bin/python3", Runfile("tests/origin_server.py"),
                                     "--state", dir_, "--bind", "127.0.0.1", "--bind",
                                     "127.0.0.2"};
    for (const char* name : {"pypi.test", "api.test", "wild.test", "sub.wild.test",
                             "rebind.test"}) {
      args.insert(args.end(), {"--name", name});
    }
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    close(in[0]);
    stdin_ = in[1];
    for (int i = 0; i < 300 && !Ready(); ++i) usleep(50000);
    std::ofstream(dir_ + "/hosts") << "127.0.0.1 pypi.test api.test wild.test sub.wild.test\n"
                                   << "127.0.0.2 rebind.test\n";
    chmod((dir_ + "/hosts").c_str(), 0644);
    chmod(ca().c_str(), 0644);
  }
  ~Origin() {
    if (stdin_ >= 0) close(stdin_);
    if (pid_ > 0) waitpid(pid_, nullptr, 0);
    if (!dir_.empty()) system(absl::StrCat("rm -rf ", dir_).c_str());
  }

  bool ok() const { return http_ > 0 && https_ > 0; }
  int http_port() const { return http_; }
  int https_port() const { return https_; }
  // The port of the HTTP server on 127.0.0.2.
  int second_http_port() const { return second_http_; }
  std::string ca() const { return dir_ + "/ca.pem"; }
  std::string hosts() const { return dir_ + "/hosts"; }
  // The /hold responses whose client went away.
  int closed_holds() const {
    std::string stats = Fetch("/stats");
    std::smatch match;
    return std::regex_search(stats, match, std::regex("\"closed_holds\": (\\d+)"))
               ? std::stoi(match[1])
               : -1;
  }

 private:
  bool Ready() {
    std::string ready = ReadFileOrEmpty(dir_ + "/ready.json");
    std::vector<int> ports;
    std::regex port("_port\": (\\d+)");
    for (auto it = std::sregex_iterator(ready.begin(), ready.end(), port);
         it != std::sregex_iterator(); ++it) {
      ports.push_back(std::stoi((*it)[1]));
    }
    if (ports.size() < 4) return false;
    http_ = ports[0];
    https_ = ports[1];
    second_http_ = ports[2];
    return true;
  }
  std::string Fetch(const std::string& path) const {
    RunResult result = RunOnHostAs(getuid(), getgid(),
                                   {"/usr/bin/curl", "-sS", "--max-time", "5",
                                    absl::StrCat("http://127.0.0.1:", http_, path)});
    return result.stdout_data.Contents();
  }

  std::string dir_;
  pid_t pid_ = -1;
  int stdin_ = -1;
  int http_ = 0, https_ = 0, second_http_ = 0;
};

// A server of each kind the proxy is shipped in.
struct ServerKind {
  std::string name;
  bool as_nobody = false;
  std::string proxy = "thread";
};

void PrintTo(const ServerKind& kind, std::ostream* os) { *os << kind.name; }

class ProxyTest : public ::testing::TestWithParam<ServerKind> {
 protected:
  static void SetUpTestSuite() {
    signal(SIGPIPE, SIG_IGN);
    origin_ = new Origin();
  }
  static void TearDownTestSuite() {
    for (auto& [name, server] : *servers_) server.reset();
    delete origin_;
    origin_ = nullptr;
  }

  void SetUp() override {
    ASSERT_TRUE(origin_->ok()) << "the origin server did not start";
    std::unique_ptr<SandboxdProcess>& server = (*servers_)[GetParam().name];
    if (server == nullptr) server = StartServer(GetParam(), "127.0.0.1");
    ASSERT_NE(server, nullptr);
    server_ = server.get();
    stub_ = v1::SandboxService::NewStub(server_->channel());
  }

  static std::unique_ptr<SandboxdProcess> StartServer(const ServerKind& kind,
                                                      const std::string& destinations) {
    SandboxdProcess::Options options;
    options.as_nobody = kind.as_nobody;
    options.flags = {"--proxy=" + kind.proxy, "--proxy_hosts_file=" + origin_->hosts()};
    if (!destinations.empty()) options.flags.push_back("--proxy_allow_destination=" + destinations);
    absl::StatusOr<std::unique_ptr<SandboxdProcess>> server = SandboxdProcess::Start(options);
    EXPECT_TRUE(server.ok()) << server.status();
    return server.ok() ? *std::move(server) : nullptr;
  }

  // `script` under sh, proxy-routed with `allow` (and `deny`); {http}, {https}, {http2}
  // and {ca} stand for the origin's ports and CA.
  static v1::ExecRequest Proxied(const std::string& script, std::vector<std::string> allow,
                                 std::vector<std::string> deny = {}) {
    v1::ExecRequest request = Command({"sh", "-c", Expand(script)});
    request.mutable_policy()->set_network(v1::NETWORK_PROXY_ROUTED);
    for (const std::string& host : allow) request.mutable_policy()->add_allow_domains(Expand(host));
    for (const std::string& host : deny) request.mutable_policy()->add_deny_domains(Expand(host));
    request.mutable_timeout()->set_seconds(60);
    return request;
  }
  static std::string Expand(const std::string& text) {
    return absl::StrReplaceAll(text, {{"{http}", std::to_string(origin_->http_port())},
                                      {"{https}", std::to_string(origin_->https_port())},
                                      {"{http2}", std::to_string(origin_->second_http_port())},
                                      {"{ca}", origin_->ca()}});
  }
  v1::ExecResponse Run(const v1::ExecRequest& request) { return ExecChecked(*stub_, request); }

  // The HTTP status curl got for `url` through the proxy ("000" when the tunnel
  // itself was refused).
  static std::string CurlStatus(const std::string& url) {
    return absl::StrCat("curl -s -o /dev/null -w '%{http_code}\\n' --cacert {ca} ", url, "; ");
  }

  static inline Origin* origin_ = nullptr;
  static inline auto* servers_ = new std::map<std::string, std::unique_ptr<SandboxdProcess>>();
  SandboxdProcess* server_ = nullptr;
  std::unique_ptr<v1::SandboxService::Stub> stub_;
};

// What an agent does: curl, Python's urllib and pip against an allowed index, with
// nothing but the environment the server gives and the CA it trusts.
TEST_P(ProxyTest, CurlPythonAndPipReachAnAllowedHost) {
  v1::ExecResponse response = Run(Proxied(
      "curl -sS --cacert {ca} https://pypi.test:{https}/hello && "
      "python3 -c \"import ssl, urllib.request; print(urllib.request.urlopen("
      "'https://pypi.test:{https}/hello', context=ssl.create_default_context(cafile='{ca}'))"
      ".read().decode().strip())\" && "
      "PIP_CERT={ca} python3 -m pip install -q --no-cache-dir --disable-pip-version-check "
      "--index-url https://pypi.test:{https}/simple/ --target /tmp/site sbxdemo && "
      "PYTHONPATH=/tmp/site python3 -c 'import sbxdemo; print(\"sbxdemo\", sbxdemo.VALUE)'",
      {"pypi.test"}));
  EXPECT_EQ(response.exit_code(), 0) << response.stderr();
  EXPECT_EQ(response.stdout(), Expand("hello from origin pypi.test:{https}\n"
                                      "hello from origin pypi.test:{https}\nsbxdemo 42\n"));
  EXPECT_EQ(response.network_denials_size(), 0);
}

// git over HTTPS and npm, likewise: a clone of the origin's repository, and npm's ping
// of a registry there.
TEST_P(ProxyTest, GitAndNpmWorkThroughItUnchanged) {
  v1::ExecResponse response = Run(Proxied(
      "GIT_SSL_CAINFO={ca} git clone -q https://api.test:{https}/git/demo.git /tmp/demo && "
      "cat /tmp/demo/README && npm ping --registry https://api.test:{https}/ --cafile {ca} "
      "2>&1 | grep -o PONG",
      {"api.test"}));
  EXPECT_EQ(response.exit_code(), 0) << response.stderr();
  EXPECT_EQ(response.stdout(), "demo repository\nPONG\n") << response.stderr();
  EXPECT_EQ(response.network_denials_size(), 0);
}

// A name neither the hosts file nor the rules' literals know goes to the system's
// resolver, in the proxy's pool (and, in its process, under its confinement).
TEST_P(ProxyTest, NamesResolveThroughTheSystemResolver) {
  v1::ExecResponse response = Run(Proxied(
      "curl -sS --noproxy '' -x http://127.0.0.1:3128 http://localhost:{http}/hello",
      {"localhost"}));
  EXPECT_EQ(response.stdout(), Expand("hello from origin localhost:{http}\n")) << response.stderr();
}

// The same clients, refused: a 403 whose body says why in one line, and the host in
// the result, where the agent reads it without parsing stderr.
TEST_P(ProxyTest, ADeniedHostGetsA403AndIsNamedInTheResult) {
  std::string script = CurlStatus("http://api.test:{http}/hello") +
                       "curl -s --cacert {ca} http://api.test:{http}/hello; " +
                       CurlStatus("https://api.test:{https}/hello");
  v1::ExecResponse refused = Run(Proxied(script, {"pypi.test"}));
  EXPECT_EQ(refused.stdout(),
            Expand("403\nsandboxd proxy: request for api.test:{http} refused: api.test:{http} "
                   "matches none of the allowed domains (pypi.test)\n000\n"));
  ASSERT_EQ(refused.network_denials_size(), 2) << refused.DebugString();
  const v1::NetworkDenial& http = refused.network_denials(0);
  EXPECT_EQ(http.host(), "api.test");
  EXPECT_EQ(http.port(), static_cast<uint32_t>(origin_->http_port()));
  EXPECT_EQ(http.protocol(), "http");
  EXPECT_EQ(http.reason(), v1::DOMAIN_NOT_ALLOWED);
  EXPECT_EQ(http.count(), 2u);
  const v1::NetworkDenial& tunnel = refused.network_denials(1);
  EXPECT_EQ(tunnel.protocol(), "connect");
  EXPECT_EQ(tunnel.port(), static_cast<uint32_t>(origin_->https_port()));
  EXPECT_EQ(tunnel.count(), 1u);
  // The control: allowed, the same commands get through.
  v1::ExecResponse allowed = Run(Proxied(
      CurlStatus("http://api.test:{http}/hello") + CurlStatus("https://api.test:{https}/hello"),
      {"api.test"}));
  EXPECT_EQ(allowed.stdout(), "200\n200\n");
  EXPECT_EQ(allowed.network_denials_size(), 0);
}

TEST_P(ProxyTest, DenyBeatsAllow) {
  v1::ExecResponse response = Run(Proxied(CurlStatus("https://api.test:{https}/hello") +
                                              CurlStatus("https://pypi.test:{https}/hello"),
                                          {"api.test", "pypi.test"}, {"api.test"}));
  EXPECT_EQ(response.stdout(), "000\n200\n");
  ASSERT_EQ(response.network_denials_size(), 1);
  EXPECT_EQ(response.network_denials(0).reason(), v1::DOMAIN_DENIED);
}

// A loopback address, named directly or behind a name that resolves to it, is refused
// even when a rule allows the name: the proxy checks what it would connect to.
TEST_P(ProxyTest, LoopbackLiteralsAndNamesResolvingToLoopbackAreRefused) {
  v1::ExecResponse response = Run(Proxied(
      "curl -s -x http://127.0.0.1:3128 http://127.0.0.2:{http2}/hello; echo; "
      "curl -s http://rebind.test:{http2}/hello",
      {"127.0.0.2", "rebind.test"}));
  EXPECT_EQ(response.stdout(),
            Expand("sandboxd proxy: request for 127.0.0.2:{http2} refused: 127.0.0.2, a "
                   "loopback address, which this server does not let commands reach\n\n"
                   "sandboxd proxy: request for rebind.test:{http2} refused: rebind.test "
                   "resolves to 127.0.0.2, a loopback address, which this server does not "
                   "let commands reach\n"));
  ASSERT_EQ(response.network_denials_size(), 2);
  for (const v1::NetworkDenial& denial : response.network_denials()) {
    EXPECT_EQ(denial.reason(), v1::DESTINATION_NOT_ALLOWED);
  }
}

// The control, on a server that allows all of 127.0.0.0/8: the same requests arrive.
TEST_P(ProxyTest, LoopbackIsReachedWhereTheOperatorAllowsIt) {
  std::unique_ptr<SandboxdProcess> open = StartServer(GetParam(), "127.0.0.0/8");
  ASSERT_NE(open, nullptr);
  v1::ExecResponse response =
      ExecChecked(*v1::SandboxService::NewStub(open->channel()),
                  Proxied("curl -s -x http://127.0.0.1:3128 http://127.0.0.2:{http2}/hello; "
                          "curl -s http://rebind.test:{http2}/hello",
                          {"127.0.0.2", "rebind.test"}));
  EXPECT_EQ(response.stdout(), Expand("hello from origin 127.0.0.2:{http2}\n"
                                      "hello from origin rebind.test:{http2}\n"));
}

// On a server without the test's allowance, 127.0.0.1 itself, and a name that resolves
// to it, are refused too; the suite's own server (which allows 127.0.0.1) is the
// control, reaching pypi.test in every other test.
TEST_P(ProxyTest, WithoutTheAllowance127001IsRefusedByNameAndByAddress) {
  std::unique_ptr<SandboxdProcess> closed = StartServer(GetParam(), "");
  ASSERT_NE(closed, nullptr);
  v1::ExecResponse response = ExecChecked(
      *v1::SandboxService::NewStub(closed->channel()),
      Proxied("curl -s http://pypi.test:{http}/hello; "
              "curl -s --noproxy '' -x http://127.0.0.1:3128 http://127.0.0.1:{http}/hello",
              {"pypi.test", "127.0.0.1"}));
  EXPECT_EQ(response.stdout(),
            Expand("sandboxd proxy: request for pypi.test:{http} refused: pypi.test resolves to "
                   "127.0.0.1, a loopback address, which this server does not let commands "
                   "reach\nsandboxd proxy: request for 127.0.0.1:{http} refused: 127.0.0.1, a "
                   "loopback address, which this server does not let commands reach\n"));
  ASSERT_EQ(response.network_denials_size(), 2);
  EXPECT_EQ(response.network_denials(0).reason(), v1::DESTINATION_NOT_ALLOWED);
}

TEST_P(ProxyTest, AWildcardMatchesOnlySubdomains) {
  v1::ExecResponse response = Run(Proxied(CurlStatus("https://sub.wild.test:{https}/hello") +
                                              CurlStatus("https://wild.test:{https}/hello"),
                                          {"*.wild.test"}));
  EXPECT_EQ(response.stdout(), "200\n000\n");
  ASSERT_EQ(response.network_denials_size(), 1);
  EXPECT_EQ(response.network_denials(0).host(), "wild.test");
}

TEST_P(ProxyTest, APortRuleHolds) {
  v1::ExecResponse response = Run(Proxied(CurlStatus("https://pypi.test:{https}/hello") +
                                              CurlStatus("http://pypi.test:{http}/hello"),
                                          {"pypi.test:{https}"}));
  EXPECT_EQ(response.stdout(), "200\n403\n");
}

// Around the proxy: a direct TCP connection (there is no route but loopback, and
// nothing of the host's on it) and an AF_UNIX socket (the seccomp filter) both fail.
// The controls: the host's network reaches the same port, and without the proxy-routed
// filter the same AF_UNIX socket is made.
TEST_P(ProxyTest, NothingBypassesTheProxy) {
  const std::string script = Expand(
      "python3 -c \"import socket\n"
      "try:\n  socket.create_connection(('127.0.0.1', {http}), timeout=3); print('tcp ok')\n"
      "except OSError as e: print('tcp', e.errno)\n"
      "try:\n  socket.socket(socket.AF_UNIX); print('unix ok')\n"
      "except OSError as e: print('unix', e.errno)\"");
  v1::ExecResponse proxied = Run(Proxied(script, {"pypi.test"}));
  EXPECT_EQ(proxied.stdout(), "tcp 111\nunix 1\n") << proxied.stderr();  // ECONNREFUSED, EPERM.
  v1::ExecRequest enabled = Command({"sh", "-c", script});
  enabled.mutable_policy()->set_network(v1::NETWORK_ENABLED);
  EXPECT_EQ(Run(enabled).stdout(), "tcp ok\nunix ok\n");
}

// Each request's connections run under its own rules, while both run.
TEST_P(ProxyTest, ConcurrentRequestsGetTheirOwnRules) {
  std::string script = "sleep 1; " + CurlStatus("https://pypi.test:{https}/hello") +
                       CurlStatus("https://api.test:{https}/hello");
  v1::ExecResponse first, second;
  std::thread other([&] { second = Run(Proxied(script, {"api.test"})); });
  first = Run(Proxied(script, {"pypi.test"}));
  other.join();
  EXPECT_EQ(first.stdout(), "200\n000\n");
  EXPECT_EQ(second.stdout(), "000\n200\n");
  ASSERT_EQ(first.network_denials_size(), 1);
  EXPECT_EQ(first.network_denials(0).host(), "api.test");
  ASSERT_EQ(second.network_denials_size(), 1);
  EXPECT_EQ(second.network_denials(0).host(), "pypi.test");
}

// A request that is killed (its timeout) takes its tunnels with it: the origin sees
// the connection it was holding open go.
TEST_P(ProxyTest, KillingARequestClosesItsTunnels) {
  int before = origin_->closed_holds();
  v1::ExecRequest request =
      Proxied("curl -sN --cacert {ca} https://api.test:{https}/hold", {"api.test"});
  request.mutable_timeout()->set_seconds(2);
  v1::ExecResponse response = Run(request);
  EXPECT_EQ(response.termination(), v1::TIMED_OUT);
  EXPECT_EQ(response.stdout(), "holding\n");
  int after = before;
  for (int i = 0; i < 100 && after == before; ++i) {
    usleep(50000);
    after = origin_->closed_holds();
  }
  EXPECT_EQ(after, before + 1);
}

TEST_P(ProxyTest, ExplainAndCapabilitiesShowTheProxy) {
  v1::ExplainResponse explained;
  grpc::ClientContext context;
  ASSERT_TRUE(stub_->Explain(&context, Proxied("true", {"pypi.test"}), &explained).ok());
  EXPECT_THAT(explained.proxy(), HasSubstr("http://127.0.0.1:3128 in the command's network "
                                           "namespace"));
  EXPECT_THAT(explained.proxy(), HasSubstr("allows pypi.test"));
  EXPECT_THAT(explained.env(), ::testing::Contains("HTTPS_PROXY=http://127.0.0.1:3128"));
  EXPECT_EQ(explained.seccomp_mode(), v1::SECCOMP_PROXY_ROUTED);
  EXPECT_THAT(explained.argv(), ::testing::Contains("--proxy"));
  v1::GetCapabilitiesResponse capabilities;
  grpc::ClientContext context2;
  ASSERT_TRUE(stub_->GetCapabilities(&context2, {}, &capabilities).ok());
  EXPECT_THAT(capabilities.proxy(), HasSubstr("served by"));
  EXPECT_THAT(capabilities.proxy(), HasSubstr("127.0.0.1"));
}

// sandboxctl prints what was refused after the command's own output.
TEST_P(ProxyTest, SandboxctlNamesTheDeniedHost) {
  Launch launch = SandboxctlLaunch(
      {"exec", "--network=proxy", "--allow-domain=pypi.test", "--", "curl", "-sS",
       Expand("http://api.test:{http}/hello")},
      server_->address());
  absl::StatusOr<RunResult> result = RunWorker(launch);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(result->stderr_data.Contents(),
              HasSubstr(Expand("sandboxctl: the proxy refused api.test:{http} (http, "
                               "domain_not_allowed): api.test:{http} matches none")));
}

INSTANTIATE_TEST_SUITE_P(Servers, ProxyTest,
                         ::testing::Values(ServerKind{"ProxyThread"},
                                           ServerKind{"ProxyThreadAsNobody", true, "thread"},
                                           ServerKind{"ProxyProcess", false, "process"},
                                           ServerKind{"ProxyProcessAsNobody", true, "process"}),
                         [](const ::testing::TestParamInfo<ServerKind>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace sandboxd::testing

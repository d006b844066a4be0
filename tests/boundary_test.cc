// The service boundary, tried as a hostile tenant would: the server's own files and
// listeners, other tenants' workspaces, and other requests' set-up, with the server
// running as root and as an ordinary user. Every attack has a control: the same thing
// done where the protection does not apply, so that a broken probe or a test that
// cannot fail does not pass for a working boundary.

#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gmock/gmock.h>
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "base/read_file.h"
#include "sandbox/v1/sandbox.grpc.pb.h"
#include "tests/sandboxd_process.h"
#include "tests/test_util.h"

namespace sandboxd::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
namespace v1 = ::sandbox::v1;

enum class Kind { kRoot, kNobody };

std::string KindName(const ::testing::TestParamInfo<Kind>& info) {
  return info.param == Kind::kRoot ? "AsRoot" : "AsNobody";
}

// A directory every user may enter, below /var/tmp (the sandboxes' /tmp is private),
// whose files belong to the user the server's commands run as: the worst case, in
// which only the boundary, not file permissions, keeps them from a command.
class Scratch {
 public:
  Scratch(uid_t uid, gid_t gid) : uid_(uid), gid_(gid) {
    char tmpl[] = "/var/tmp/boundary_test.XXXXXX";
    EXPECT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    chmod(dir_.c_str(), 0755);
  }
  ~Scratch() { std::system(absl::StrCat("rm -rf ", dir_).c_str()); }

  std::string Dir(const std::string& name) const {
    std::string path = absl::StrCat(dir_, "/", name);
    EXPECT_EQ(mkdir(path.c_str(), 0755), 0) << path;
    Own(path);
    return path;
  }
  std::string File(const std::string& name, const std::string& content, mode_t mode = 0600) const {
    std::string path = absl::StrCat(dir_, "/", name);
    std::ofstream(path) << content;
    chmod(path.c_str(), mode);
    Own(path);
    return path;
  }
  void Own(const std::string& path) const { EXPECT_EQ(chown(path.c_str(), uid_, gid_), 0) << path; }
  const std::string& dir() const { return dir_; }

 private:
  uid_t uid_;
  gid_t gid_;
  std::string dir_;
};

class BoundaryTest : public ::testing::TestWithParam<Kind> {
 protected:
  void SetUp() override {
    signal(SIGPIPE, SIG_IGN);
    if (geteuid() != 0) {
      GTEST_SKIP() << "the test runs as uid " << geteuid()
                   << "; starting sandboxd as root and as nobody needs root";
    }
    const passwd* user = getpwnam(kCommandUser);
    ASSERT_NE(user, nullptr) << "tools/setup.sh creates " << kCommandUser;
    uid_ = GetParam() == Kind::kNobody ? kNobody : user->pw_uid;
    gid_ = GetParam() == Kind::kNobody ? kNobody : user->pw_gid;
    scratch_ = std::make_unique<Scratch>(uid_, gid_);
  }

  std::unique_ptr<SandboxdProcess> Start(SandboxdProcess::Options options = {}) {
    options.as_nobody = GetParam() == Kind::kNobody;
    absl::StatusOr<std::unique_ptr<SandboxdProcess>> server = SandboxdProcess::Start(options);
    EXPECT_TRUE(server.ok()) << server.status();
    return server.ok() ? *std::move(server) : nullptr;
  }

  // A copy of sandboxctl the server's commands can run.
  std::string Sandboxctl() const {
    std::string copy = scratch_->dir() + "/sandboxctl";
    std::filesystem::copy_file(Runfile("client/sandboxctl"), copy,
                               std::filesystem::copy_options::overwrite_existing);
    chmod(copy.c_str(), 0755);
    return copy;
  }

  uid_t uid_ = 0;
  gid_t gid_ = 0;
  std::unique_ptr<Scratch> scratch_;
};

INSTANTIATE_TEST_SUITE_P(Servers, BoundaryTest, ::testing::Values(Kind::kRoot, Kind::kNobody),
                         KindName);

v1::ExecRequest Probe(const SandboxdProcess& server, std::vector<std::string> args,
                      bool network = false) {
  v1::ExecRequest request;
  request.add_argv(server.probe());
  for (std::string& arg : args) request.add_argv(std::move(arg));
  request.mutable_policy()->set_network(network ? v1::NETWORK_ENABLED : v1::NETWORK_DISABLED);
  return request;
}

bool Succeeded(const v1::ExecResponse& response) {
  return response.exit_code() == 0 && absl::StartsWith(response.stdout(), "succeeded");
}

// Whether the probe's read got `secret` (a hidden file reads as empty).
bool Reveals(const v1::ExecResponse& response, const std::string& secret) {
  return Succeeded(response) && absl::StrContains(response.stdout(), secret);
}

// --- The command is not the server ------------------------------------------------

// The server's tokens, TLS key and certificate, policy file and state are hidden from
// every command, with the network on too; their twins (same owner, mode and content,
// not the server's) are readable, so it is the hiding that keeps them.
TEST_P(BoundaryTest, TheServersFilesAreInvisible) {
  std::string etc = scratch_->Dir("etc");
  scratch_->Dir("twin");
  ASSERT_EQ(std::system(absl::StrCat(
                "cd ", etc, " && openssl req -x509 -newkey rsa:2048 -nodes -keyout tls.key "
                "-out tls.crt -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 "
                "2>/dev/null").c_str()), 0);
  std::map<std::string, std::string> files = {
      {"tokens", "tenant SECRET-TOKEN-1234\n"},
      {"policy.textproto", "client { identity: \"tenant\" allow_network: true }\n"},
      {"tls.key", ReadFileOrEmpty(etc + "/tls.key")},
      {"tls.crt", ReadFileOrEmpty(etc + "/tls.crt")}};
  for (const auto& [name, content] : files) {
    scratch_->File("etc/" + name, content);
    scratch_->File("twin/" + name, content);
  }
  SandboxdProcess::Options options;
  int port = FreeLoopbackPort();
  options.listen = absl::StrCat("127.0.0.1:", port);
  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = files["tls.crt"];
  options.credentials = grpc::SslCredentials(tls);
  options.flags = {"--tls_cert=" + etc + "/tls.crt", "--tls_key=" + etc + "/tls.key",
                   "--auth_tokens_file=" + etc + "/tokens",
                   "--policy_file=" + etc + "/policy.textproto"};
  std::unique_ptr<SandboxdProcess> server = Start(options);
  ASSERT_NE(server, nullptr);
  auto stub = v1::SandboxService::NewStub(server->channel());
  auto run = [&](const std::string& path) {
    v1::ExecResponse response;
    grpc::Status status = CallExec(*stub, Probe(*server, {"read", path}, /*network=*/true),
                                   absl::Seconds(30), "SECRET-TOKEN-1234", &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  };
  for (const auto& [name, content] : files) {
    std::string secret = content.substr(0, 40);
    v1::ExecResponse attack = run(absl::StrCat(etc, "/", name));
    EXPECT_FALSE(Reveals(attack, secret)) << name << ": " << attack.stdout();
    v1::ExecResponse control = run(absl::StrCat(scratch_->dir(), "/twin/", name));
    EXPECT_TRUE(Reveals(control, secret)) << name << ": " << control.stdout();
  }
  // The state directory: the journal is there on the host, and not to the command.
  std::string journal = server->dir() + "/state/placeholders";
  ASSERT_TRUE(std::filesystem::exists(journal));
  EXPECT_FALSE(Succeeded(run(journal)));
  // As nobody, the commands' user may read it on the host, so only the hiding keeps it
  // out; as root it may not (there the user switch protects it, see RootOnlyFilesTest).
  RunResult host = RunOnHostAs(uid_, gid_, {"cat", journal});
  EXPECT_EQ(host.exit_code == 0, GetParam() == Kind::kNobody) << host.stderr_data.Contents();
}

// As root, commands run as an unprivileged user: root's own files stay closed to them.
// The control is a server told to keep its commands root.
TEST(RootOnlyFilesTest, StayClosedUnlessTheOperatorKeepsCommandsRoot) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root, to start a server as root";
  signal(SIGPIPE, SIG_IGN);
  for (bool as_root : {false, true}) {
    SandboxdProcess::Options options;
    if (as_root) options.flags = {"--danger_commands_as_root"};
    absl::StatusOr<std::unique_ptr<SandboxdProcess>> server = SandboxdProcess::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    v1::ExecResponse response = ExecChecked(*v1::SandboxService::NewStub((*server)->channel()),
                                            Probe(**server, {"read", "/etc/shadow"}));
    EXPECT_EQ(Succeeded(response), as_root) << response.stdout();
    EXPECT_EQ(absl::StrContains(response.stdout(), "root:"), as_root);
  }
}

// The host's /proc would hand a command the server's environment and descriptors: it
// is never bound into a sandbox, neither as a readable root nor as the cwd. The
// control reads the same file from the host, as the server's user.
TEST_P(BoundaryTest, TheHostsProcIsNeverBound) {
  SandboxdProcess::Options options;
  options.env = {"SANDBOXD_TEST_SECRET=in-the-servers-environment"};
  std::unique_ptr<SandboxdProcess> server = Start(options);
  ASSERT_NE(server, nullptr);
  auto stub = v1::SandboxService::NewStub(server->channel());
  std::string environ = absl::StrCat("/proc/", server->pid(), "/environ");
  v1::ExecRequest readable = Probe(*server, {"read", environ});
  readable.mutable_policy()->add_readable_roots("/proc");
  v1::ExecRequest cwd = Probe(*server, {"read", "environ"});
  cwd.set_cwd(absl::StrCat("/proc/", server->pid()));
  for (const v1::ExecRequest& request : {readable, cwd}) {
    v1::ExecResponse response;
    grpc::Status status = CallExec(*stub, request, absl::Seconds(30), "", &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("which every sandbox has a fresh one of"));
    EXPECT_FALSE(Reveals(response, "in-the-servers-environment"));
  }
  EXPECT_FALSE(Reveals(ExecChecked(*stub, Probe(*server, {"read", environ})),
                       "in-the-servers-environment"));
  uid_t server_uid = GetParam() == Kind::kNobody ? kNobody : 0;
  RunResult control = RunOnHostAs(server_uid, server_uid, {"cat", environ});
  EXPECT_THAT(control.stdout_data.Contents(), HasSubstr("in-the-servers-environment"));
}

// --- No way back into the server ----------------------------------------------------

// With the host's network, a command still cannot reach the server's Unix socket: its
// directory is hidden. The socket is open to the commands' user on the host (a root
// server gives their group access, as --socket_group does for clients), so that only
// the hiding keeps them out. The control: that user, outside any sandbox, calls it.
TEST_P(BoundaryTest, TheUnixSocketIsOutOfReach) {
  SandboxdProcess::Options options;
  if (GetParam() == Kind::kRoot) options.flags = {absl::StrCat("--socket_group=", gid_)};
  std::unique_ptr<SandboxdProcess> server = Start(options);
  ASSERT_NE(server, nullptr);
  std::string sandboxctl = Sandboxctl();
  std::string socket = server->address().substr(strlen("unix:"));
  std::vector<std::string> call = {sandboxctl, "--server=" + server->address(), "exec",
                                   "--mode=workspace-write", "--writable=/var/tmp", "--", "true"};
  v1::ExecRequest from_inside;
  for (const std::string& arg : call) from_inside.add_argv(arg);
  from_inside.mutable_policy()->set_network(v1::NETWORK_ENABLED);
  auto stub = v1::SandboxService::NewStub(server->channel());
  v1::ExecResponse attack = ExecChecked(*stub, from_inside);
  EXPECT_EQ(attack.exit_code(), 125) << attack.stderr();
  EXPECT_FALSE(Succeeded(ExecChecked(*stub, Probe(*server, {"unix-connect", socket}, true))));
  // The commands' user reaches it from outside.
  RunResult control =
      RunOnHostAs(uid_, gid_, {sandboxctl, "--server=" + server->address(), "exec", "--", "true"});
  EXPECT_EQ(control.exit_code, 0) << control.stderr_data.Contents();
}

// A TCP listener that takes calls without credentials would let a command on the host's
// network call back as "local": such a server refuses NETWORK_ENABLED, and says why.
// With tokens, a command can reach the port but has no token to call with.
TEST_P(BoundaryTest, ATcpListenerIsNoWayBack) {
  int port = FreeLoopbackPort();
  SandboxdProcess::Options open;
  open.listen = absl::StrCat("127.0.0.1:", port);
  {
    std::unique_ptr<SandboxdProcess> server = Start(open);
    ASSERT_NE(server, nullptr);
    auto stub = v1::SandboxService::NewStub(server->channel());
    grpc::Status refused = CallExec(*stub, Probe(*server, {"socket", "inet"}, true), absl::Seconds(30));
    EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_THAT(refused.error_message(), HasSubstr("takes calls without credentials"));
    EXPECT_TRUE(Succeeded(ExecChecked(*stub, Probe(*server, {"socket", "unix"}))));
  }
  std::string tokens = scratch_->File("tokens", "tenant SECRET-TOKEN-1234\n");
  std::string token_file = scratch_->File("token", "SECRET-TOKEN-1234\n");
  SandboxdProcess::Options with_tokens = open;
  with_tokens.listen = absl::StrCat("127.0.0.1:", FreeLoopbackPort());
  with_tokens.flags = {"--auth_tokens_file=" + tokens};
  std::unique_ptr<SandboxdProcess> server = Start(with_tokens);
  ASSERT_NE(server, nullptr);
  std::string sandboxctl = Sandboxctl();
  v1::ExecRequest from_inside;
  for (const std::string& arg :
       std::vector<std::string>{sandboxctl, "--server=" + with_tokens.listen, "exec", "--", "true"}) {
    from_inside.add_argv(arg);
  }
  from_inside.mutable_policy()->set_network(v1::NETWORK_ENABLED);
  v1::ExecResponse attack;
  ASSERT_TRUE(CallExec(*v1::SandboxService::NewStub(server->channel()), from_inside,
                       absl::Seconds(30), "SECRET-TOKEN-1234", &attack).ok());
  EXPECT_EQ(attack.exit_code(), 125);
  EXPECT_THAT(attack.stderr(), HasSubstr("needs a token"));
  // The control: with the token, the same call goes through.
  RunResult control = RunOnHostAs(uid_, gid_,
                                  {sandboxctl, "--server=" + with_tokens.listen,
                                   "--token-file=" + token_file, "exec", "--", "true"});
  EXPECT_EQ(control.exit_code, 0) << control.stderr_data.Contents();
}

// Metrics served to anyone would reach commands on the host's network too: without
// --metrics_auth_file NETWORK_ENABLED is refused; with it, a command gets 401 where
// the credentials get 200.
TEST_P(BoundaryTest, MetricsAreNoWayBack) {
  int metrics_port = FreeLoopbackPort();
  std::string metrics = absl::StrCat("127.0.0.1:", metrics_port);
  SandboxdProcess::Options open;
  open.flags = {"--metrics_listen=" + metrics};
  {
    std::unique_ptr<SandboxdProcess> server = Start(open);
    ASSERT_NE(server, nullptr);
    grpc::Status refused = CallExec(*v1::SandboxService::NewStub(server->channel()),
                                    Probe(*server, {"socket", "inet"}, true), absl::Seconds(30));
    EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_THAT(refused.error_message(), HasSubstr("--metrics_auth_file"));
  }
  SandboxdProcess::Options guarded;
  guarded.flags = {"--metrics_listen=" + metrics,
                   "--metrics_auth_file=" + scratch_->File("metrics-auth", "scraper:pw-42\n")};
  std::unique_ptr<SandboxdProcess> server = Start(guarded);
  ASSERT_NE(server, nullptr);
  std::string url = absl::StrCat("http://", metrics, "/metrics");
  v1::ExecRequest scrape;
  for (const char* arg : {"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}"}) scrape.add_argv(arg);
  scrape.add_argv(url);
  scrape.mutable_policy()->set_network(v1::NETWORK_ENABLED);
  EXPECT_EQ(ExecChecked(*v1::SandboxService::NewStub(server->channel()), scrape).stdout(), "401");
  RunResult control = RunOnHostAs(uid_, gid_, {"curl", "-s", "-o", "/dev/null", "-w",
                                               "%{http_code}", "-u", "scraper:pw-42", url});
  EXPECT_EQ(control.stdout_data.Contents(), "200");
}

// --- Tenants apart --------------------------------------------------------------------

// Confined tenants see the system directories and their own workspaces only: tenant a
// can neither read, list nor write tenant b's, nor read the server's tokens. The
// control is an unconfined tenant c, whom the same file permissions let read b's.
TEST_P(BoundaryTest, ConfinedTenantsDoNotMeet) {
  std::string a = scratch_->Dir("a"), b = scratch_->Dir("b"), c = scratch_->Dir("c");
  std::string secret = scratch_->File("b/secret", "B-SECRET\n", 0644);
  std::string tokens = scratch_->File("tokens", "a TOKEN-A\nb TOKEN-B\nc TOKEN-C\n");
  std::string policy = scratch_->File(
      "policy.textproto",
      absl::StrCat("client { identity: \"a\" writable_root_prefixes: \"", a, "/\" confine_reads: true }\n",
                   "client { identity: \"b\" writable_root_prefixes: \"", b, "/\" confine_reads: true }\n",
                   "client { identity: \"c\" writable_root_prefixes: \"", c, "/\" }\n"));
  // The probe must be readable to confined tenants: a copy in each workspace.
  SandboxdProcess::Options options;
  options.flags = {"--auth_tokens_file=" + tokens, "--policy_file=" + policy};
  std::unique_ptr<SandboxdProcess> server = Start(options);
  ASSERT_NE(server, nullptr);
  auto stub = v1::SandboxService::NewStub(server->channel());
  for (const std::string& dir : {a, c}) {
    std::filesystem::copy_file(server->probe(), dir + "/probe");
    scratch_->Own(dir + "/probe");
  }
  auto as = [&](const std::string& tenant, const std::string& ws, std::vector<std::string> args) {
    v1::ExecRequest request;
    request.add_argv(ws + "/probe");
    for (std::string& arg : args) request.add_argv(arg);
    request.set_cwd(ws);
    request.mutable_policy()->set_mode(v1::WORKSPACE_WRITE);
    v1::ExecResponse response;
    grpc::Status status = CallExec(*stub, request, absl::Seconds(30),
                                   "TOKEN-" + std::string(1, std::toupper(tenant[0])), &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  };
  EXPECT_FALSE(Reveals(as("a", a, {"read", secret}), "B-SECRET"));
  EXPECT_FALSE(Succeeded(as("a", a, {"list", b})));
  EXPECT_FALSE(Succeeded(as("a", a, {"write", b + "/planted"})));
  EXPECT_FALSE(Reveals(as("a", a, {"read", tokens}), "TOKEN"));
  EXPECT_FALSE(std::filesystem::exists(b + "/planted"));
  // Nor through a worktree's .git file naming b's workspace as its git directory: what
  // a .git file names is protected only inside the request's own writable roots.
  std::ofstream(a + "/.git") << "gitdir: " << b << "\n";
  scratch_->Own(a + "/.git");
  EXPECT_FALSE(Reveals(as("a", a, {"read", secret}), "B-SECRET"));
  EXPECT_FALSE(Succeeded(as("a", a, {"list", b})));
  std::filesystem::remove(a + "/.git");
  // Nor by naming b's workspace in the request.
  v1::ExecRequest widen = Probe(*server, {"true"});
  widen.mutable_policy()->add_readable_roots(b);
  grpc::Status widened = CallExec(*stub, widen, absl::Seconds(30), "TOKEN-A");
  EXPECT_EQ(widened.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // Controls: a reads its own; c, unconfined, reads b's (and not the tokens either).
  EXPECT_TRUE(Succeeded(as("a", a, {"list", a})));
  v1::ExecResponse control = as("c", c, {"read", secret});
  EXPECT_TRUE(Reveals(control, "B-SECRET")) << control.stdout();
  EXPECT_FALSE(Reveals(as("c", c, {"read", tokens}), "TOKEN"));
}

// --- Set-up cannot be raced -----------------------------------------------------------

// An attacker request swaps a directory of its workspace with a symlink to a directory
// outside the operator's prefix, as fast as it can, while victim requests name that
// directory as their writable root and write into it. A win is anything written
// outside. Bounded in time; zero wins. The control runs the same race against bwrap
// binding by path, as the server once did, and wins.
constexpr absl::Duration kRaceTime = absl::Seconds(6);

// What came of a victim's tries: refused by the server (its checks of the path),
// stopped in the sandbox before its command ran (a bind not as planned), or run.
struct RaceCount {
  std::atomic<int> tries{0}, ran{0}, stopped{0}, refused{0};
};

TEST_P(BoundaryTest, ASymlinkSwapCannotRedirectAWritableRoot) {
  std::string ws = scratch_->Dir("ws"), outside = scratch_->Dir("outside");
  std::string sub = scratch_->Dir("ws/sub");
  ASSERT_EQ(symlink("../outside", (ws + "/link").c_str()), 0);
  ASSERT_EQ(lchown((ws + "/link").c_str(), uid_, gid_), 0);
  std::string policy = scratch_->File(
      "policy.textproto", absl::StrCat("client { identity: \"*\" writable_root_prefixes: \"", ws, "/\" }\n"));
  SandboxdProcess::Options options;
  options.flags = {"--policy_file=" + policy};
  std::unique_ptr<SandboxdProcess> server = Start(options);
  ASSERT_NE(server, nullptr);

  v1::ExecRequest attacker = Probe(*server, {"swap-loop", sub, ws + "/link",
                                             std::to_string(absl::ToInt64Seconds(kRaceTime))});
  attacker.set_cwd(ws);
  attacker.mutable_policy()->set_mode(v1::WORKSPACE_WRITE);
  std::thread attack([&] {
    v1::ExecResponse response =
        ExecChecked(*v1::SandboxService::NewStub(server->channel()), attacker);
    EXPECT_TRUE(Succeeded(response)) << response.stdout();
    std::cerr << "attacker: " << response.stdout();
  });
  RaceCount count;
  absl::Time end = absl::Now() + kRaceTime;
  auto victim = [&] {
    auto stub = v1::SandboxService::NewStub(server->channel());
    v1::ExecRequest request = Command(
        {"sh", "-c", absl::StrCat("echo won > ", outside, "/direct; echo won > ", sub, "/through")});
    request.mutable_policy()->set_mode(v1::WORKSPACE_WRITE);
    request.mutable_policy()->set_exclude_cwd(true);
    request.mutable_policy()->add_writable_roots(sub);
    while (absl::Now() < end) {
      ++count.tries;
      v1::ExecResponse response;
      grpc::Status status = CallExec(*stub, request, absl::Seconds(30), "", &response);
      ++(!status.ok() ? count.refused : response.exit_code() == 0 ? count.ran : count.stopped);
    }
  };
  std::thread victims[2] = {std::thread(victim), std::thread(victim)};
  for (std::thread& t : victims) t.join();
  attack.join();
  int wins = 0;
  for (const auto& entry : std::filesystem::directory_iterator(outside)) {
    ++wins;
    std::cerr << "won: " << entry.path() << "\n";
  }
  std::cerr << "swap race against the server: " << count.tries << " tries, " << count.refused
            << " refused, " << count.stopped << " stopped before the command, " << count.ran
            << " ran, " << wins << " wins\n";
  EXPECT_EQ(wins, 0);
  EXPECT_GT(count.ran, 10);
}

// The control: the same race against bare bwrap binding the root by path. It is won
// within a few hundred tries: what gets mounted is what the path leads to at that
// moment.
TEST_P(BoundaryTest, ControlASymlinkSwapRedirectsABindByPath) {
  std::string ws = scratch_->Dir("ws"), outside = scratch_->Dir("outside");
  std::string sub = scratch_->Dir("ws/sub");
  ASSERT_EQ(symlink("../outside", (ws + "/link").c_str()), 0);
  ASSERT_EQ(lchown((ws + "/link").c_str(), uid_, gid_), 0);
  std::string probe = scratch_->dir() + "/probe";
  ASSERT_TRUE(CopyExecutable(Runfile("tests/probe"), probe).ok());
  std::thread attack([&] {
    RunResult swaps = RunOnHostAs(uid_, gid_, {probe, "swap-loop", sub, ws + "/link",
                                               std::to_string(absl::ToInt64Seconds(kRaceTime))},
                                  kRaceTime + absl::Seconds(10));
    EXPECT_EQ(swaps.exit_code, 0) << swaps.stdout_data.Contents();
  });
  int tries = 0;
  absl::Time end = absl::Now() + kRaceTime;
  while (absl::Now() < end && std::filesystem::is_empty(outside)) {
    ++tries;
    RunOnHostAs(uid_, gid_,
                {"/usr/bin/bwrap", "--unshare-user", "--ro-bind", "/", "/", "--bind", sub, sub,
                 "--", "sh", "-c", absl::StrCat("echo won > ", outside, "/direct; echo won > ", sub, "/through")});
  }
  attack.join();
  std::cerr << "swap race against bind-by-path: " << tries << " tries until the first win\n";
  EXPECT_FALSE(std::filesystem::is_empty(outside)) << "no win in " << tries << " tries";
}

// Overlapping requests in a workspace without .git, the long ones trying all along to
// plant .git/hooks/post-checkout (which git would run outside any sandbox), the short
// ones coming and going: none plants it, none fails to start, and no placeholder is
// left. The control removes the placeholder from under a running command, as the
// server once did when another request holding it ended, and the command plants it.
TEST_P(BoundaryTest, OverlappingRequestsKeepAnAbsentGitUncreatable) {
  std::string ws = scratch_->Dir("ws");
  std::unique_ptr<SandboxdProcess> server = Start();
  ASSERT_NE(server, nullptr);
  std::atomic<int> runs{0}, planted{0}, broken{0};
  absl::Time end = absl::Now() + kRaceTime;
  auto requests = [&](int milliseconds) {
    auto stub = v1::SandboxService::NewStub(server->channel());
    v1::ExecRequest request = Probe(*server, {"plant-hook", std::to_string(milliseconds)});
    request.set_cwd(ws);
    request.mutable_policy()->set_mode(v1::WORKSPACE_WRITE);
    while (absl::Now() < end) {
      v1::ExecResponse response;
      grpc::Status status = CallExec(*stub, request, absl::Seconds(30), "", &response);
      ++runs;
      if (!status.ok() || response.exit_code() > 1) {
        ++broken;
        std::cerr << status.error_message() << response.stderr();
      }
      if (Succeeded(response)) ++planted;
    }
  };
  std::thread threads[3] = {std::thread(requests, 400), std::thread(requests, 30),
                            std::thread(requests, 5)};
  for (std::thread& t : threads) t.join();
  std::cerr << "overlapping requests: " << runs << " runs, " << planted << " planted, "
            << broken << " failed to start\n";
  EXPECT_EQ(planted, 0);
  EXPECT_EQ(broken, 0);
  EXPECT_GT(runs, 30);
  EXPECT_FALSE(std::filesystem::exists(ws + "/.git"));

  // The control.
  std::thread remover([&] {
    for (int i = 0; i < 200 && !std::filesystem::exists(ws + "/.git"); ++i) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    absl::SleepFor(absl::Milliseconds(100));
    EXPECT_EQ(rmdir((ws + "/.git").c_str()), 0);
  });
  v1::ExecRequest request = Probe(*server, {"plant-hook", "3000"});
  request.set_cwd(ws);
  request.mutable_policy()->set_mode(v1::WORKSPACE_WRITE);
  v1::ExecResponse control = ExecChecked(*v1::SandboxService::NewStub(server->channel()), request);
  remover.join();
  EXPECT_TRUE(Succeeded(control)) << control.stdout();
  EXPECT_TRUE(std::filesystem::exists(ws + "/.git/hooks/post-checkout"));
}

// A server killed with SIGKILL while a command held a placeholder leaves it: an empty
// directory, which git takes for no repository (the control: an empty .git file, as
// placeholders once were, breaks git there). The next server removes it.
TEST_P(BoundaryTest, AKilledServersPlaceholdersBreakNothingAndGoWithTheNext) {
  std::string ws = scratch_->Dir("ws"), plain = scratch_->Dir("plain");
  // The server's own, as it would make it.
  std::string state = scratch_->dir() + "/state";
  uid_t server_uid = GetParam() == Kind::kNobody ? kNobody : 0;
  ASSERT_EQ(mkdir(state.c_str(), 0700), 0);
  ASSERT_EQ(chown(state.c_str(), server_uid, server_uid), 0);
  SandboxdProcess::Options options;
  options.state_dir = state;
  std::unique_ptr<SandboxdProcess> killed = Start(options);
  ASSERT_NE(killed, nullptr);
  v1::ExecRequest request = Command({"sleep", "30"});
  request.set_cwd(ws);
  request.mutable_policy()->set_mode(v1::WORKSPACE_WRITE);
  std::thread held([&] { CallExec(*v1::SandboxService::NewStub(killed->channel()), request, absl::Seconds(60)); });
  for (int i = 0; i < 500 && !std::filesystem::exists(ws + "/.git"); ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_TRUE(std::filesystem::is_directory(ws + "/.git"));
  ASSERT_TRUE(killed->Stop(SIGKILL, absl::Seconds(10)).ok());
  held.join();
  ASSERT_TRUE(std::filesystem::is_directory(ws + "/.git"));
  auto git_status = [](const std::string& dir) {
    return RunOnHostAs(0, 0, {"git", "-C", dir, "status"}).stderr_data.Contents();
  };
  EXPECT_EQ(git_status(ws), git_status(plain));
  EXPECT_THAT(git_status(plain), HasSubstr("not a git repository"));
  std::string broken = scratch_->Dir("broken");
  std::ofstream(broken + "/.git");
  EXPECT_THAT(git_status(broken), HasSubstr("invalid gitfile format"));

  std::unique_ptr<SandboxdProcess> next = Start(options);
  ASSERT_NE(next, nullptr);
  EXPECT_FALSE(std::filesystem::exists(ws + "/.git"));
}

// --- Seccomp: no datagram to a host socket ------------------------------------------

// A host datagram socket anyone may write to (as journald's is). Without network a
// command can send it nothing, through a socket of its own or of a socketpair; the
// control, with the host's network, delivers.
TEST_P(BoundaryTest, NoDatagramReachesAHostSocket) {
  std::string path = scratch_->dir() + "/dgram.sock";
  int host = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, sizeof addr.sun_path - 1);
  ASSERT_EQ(bind(host, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  chmod(path.c_str(), 0777);
  std::unique_ptr<SandboxdProcess> server = Start();
  ASSERT_NE(server, nullptr);
  auto stub = v1::SandboxService::NewStub(server->channel());
  auto received = [&] {
    char buf[64];
    return recv(host, buf, sizeof buf, MSG_DONTWAIT) > 0;
  };
  for (const char* how : {"unix-dgram-send", "socketpair-dgram-send"}) {
    v1::ExecResponse attack = ExecChecked(*stub, Probe(*server, {how, path}));
    EXPECT_FALSE(Succeeded(attack)) << how << ": " << attack.stdout();
    EXPECT_FALSE(received()) << how;
    v1::ExecResponse control = ExecChecked(*stub, Probe(*server, {how, path}, /*network=*/true));
    EXPECT_TRUE(Succeeded(control)) << how << ": " << control.stdout();
    EXPECT_TRUE(received()) << how;
  }
  close(host);
}

// --- Never-writable places ------------------------------------------------------------

// /etc is refused as a writable root however it is named; a directory the operator
// names with --danger_writable_system_paths is the control: accepted, and written.
TEST_P(BoundaryTest, SystemPlacesAreNeverWritable) {
  std::string ws = scratch_->Dir("ws");
  ASSERT_EQ(symlink("/etc", (ws + "/etc-link").c_str()), 0);
  std::string allowed = absl::StrCat("/run/boundary_test_", getpid(), "_", uid_);
  ASSERT_EQ(mkdir(allowed.c_str(), 0755), 0);
  scratch_->Own(allowed);
  SandboxdProcess::Options options;
  options.flags = {"--danger_writable_system_paths=" + allowed};
  std::unique_ptr<SandboxdProcess> server = Start(options);
  ASSERT_NE(server, nullptr);
  auto stub = v1::SandboxService::NewStub(server->channel());
  for (const std::string& root : {std::string("/etc"), ws + "/../../../../etc", ws + "/etc-link",
                                  std::string("/run"), server->dir() + "/run"}) {
    v1::ExecRequest request = Probe(*server, {"write", "/etc/boundary-test"});
    request.mutable_policy()->set_mode(v1::WORKSPACE_WRITE);
    request.mutable_policy()->set_exclude_cwd(true);
    request.mutable_policy()->add_writable_roots(root);
    grpc::Status status = CallExec(*stub, request, absl::Seconds(30));
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << root;
    EXPECT_THAT(status.error_message(), ::testing::AnyOf(HasSubstr("stays read-only for every command"),
                                                         HasSubstr("the server's own")))
        << root;
  }
  EXPECT_FALSE(std::filesystem::exists("/etc/boundary-test"));
  v1::ExecRequest control = Probe(*server, {"write", allowed + "/written"});
  control.mutable_policy()->set_mode(v1::WORKSPACE_WRITE);
  control.mutable_policy()->set_exclude_cwd(true);
  control.mutable_policy()->add_writable_roots(allowed);
  EXPECT_TRUE(Succeeded(ExecChecked(*stub, control)));
  EXPECT_TRUE(std::filesystem::exists(allowed + "/written"));
  std::filesystem::remove_all(allowed);
}

// --- Bounded requests -----------------------------------------------------------------

// The request that once made 199,992 files in a workspace and stalled every other
// client for 24 s is refused at once, with nothing made; stdin over the request limit
// is refused with a pointer to ExecStream, through which the same bytes go.
TEST(BoundedRequestTest, OversizedRequestsAreRefusedBeforeAnyWork) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root, to start a server as root";
  signal(SIGPIPE, SIG_IGN);
  absl::StatusOr<std::unique_ptr<SandboxdProcess>> server = SandboxdProcess::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  absl::StatusOr<std::string> ws = (*server)->MakeWorkspace();
  ASSERT_TRUE(ws.ok());
  auto stub = v1::SandboxService::NewStub((*server)->channel());
  v1::ExecRequest names = Command({"true"});
  names.set_cwd(*ws);
  names.mutable_policy()->set_mode(v1::WORKSPACE_WRITE);
  for (int i = 0; i < 200000; ++i) names.mutable_policy()->add_protected_names(absl::StrCat("n", i));
  absl::Time start = absl::Now();
  grpc::Status refused = CallExec(*stub, names, absl::Seconds(30));
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(refused.error_message(), HasSubstr("policy.protected_names has 200000"));
  EXPECT_TRUE(std::filesystem::is_empty(*ws));
  names.mutable_policy()->mutable_protected_names()->DeleteSubrange(16, 200000 - 16);
  EXPECT_TRUE(CallExec(*stub, names, absl::Seconds(30)).ok());  // The control, at the bound.

  // Over --max_request_bytes (4 MiB), under what gRPC takes before the service sees it.
  std::string big((4 << 20) + (1 << 19), 'x');
  v1::ExecRequest count = Command({"wc", "-c"});
  count.set_stdin(big);
  grpc::Status too_big = CallExec(*stub, count, absl::Seconds(30));
  EXPECT_EQ(too_big.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(too_big.error_message(), HasSubstr("--max_request_bytes"));
  EXPECT_THAT(too_big.error_message(), HasSubstr("ExecStream"));
  // The control: the same bytes in chunks through ExecStream.
  grpc::ClientContext context;
  auto stream = stub->ExecStream(&context);
  v1::ExecStreamRequest message;
  *message.mutable_start() = Command({"wc", "-c"});
  message.mutable_start()->set_output_encoding(v1::OUTPUT_TEXT);
  ASSERT_TRUE(stream->Write(message));
  for (size_t at = 0; at < big.size(); at += 1 << 20) {
    v1::ExecStreamRequest chunk;
    chunk.set_stdin(big.substr(at, 1 << 20));
    ASSERT_TRUE(stream->Write(chunk));
  }
  stream->WritesDone();
  std::string out;
  v1::ExecStreamResponse response;
  while (stream->Read(&response)) {
    if (response.has_output()) out += response.output().text();
  }
  EXPECT_EQ(out, absl::StrCat(big.size(), "\n"));
}

// Streams that never send their start message hold a place in the queue while they
// wait, so that they cannot pile up (the rest are refused at once), and are ended
// after --stream_start_timeout with DEADLINE_EXCEEDED; they hold no server thread
// meanwhile.
TEST(BoundedRequestTest, StreamsWithoutAStartAreBoundedAndEnded) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root, to start a server as root";
  signal(SIGPIPE, SIG_IGN);
  SandboxdProcess::Options options;
  options.flags = {"--max_concurrent=1", "--max_queued=50", "--stream_start_timeout=2s"};
  absl::StatusOr<std::unique_ptr<SandboxdProcess>> server = SandboxdProcess::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = v1::SandboxService::NewStub((*server)->channel());
  auto threads = [&] {
    std::string status = ReadFileOrEmpty(absl::StrCat("/proc/", (*server)->pid(), "/status"));
    size_t at = status.find("Threads:");
    int count = -1;
    if (at != std::string::npos) {
      std::string line = status.substr(at + 8, status.find('\n', at) - at - 8);
      if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &count)) count = -1;
    }
    return count;
  };
  int before = threads();
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReaderWriter<v1::ExecStreamRequest, v1::ExecStreamResponse>>> streams;
  absl::Time start = absl::Now();
  for (int i = 0; i < 300; ++i) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    streams.push_back(stub->ExecStream(contexts.back().get()));
  }
  // 250 of them are refused at once; 50 wait for the timeout, without a thread each.
  absl::SleepFor(absl::Milliseconds(500));
  int waiting = threads();
  EXPECT_LT(waiting, before + 10) << before << " threads before, " << waiting << " with 50 waiting";
  int exhausted = 0, ended = 0;
  for (auto& stream : streams) {
    grpc::Status status = stream->Finish();
    exhausted += status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED;
    if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
      ++ended;
      EXPECT_THAT(status.error_message(), HasSubstr("no start message came within 2s"));
    }
  }
  absl::Duration took = absl::Now() - start;
  EXPECT_EQ(exhausted, 250);
  EXPECT_EQ(ended, 50);
  EXPECT_GE(took, absl::Seconds(2));
  EXPECT_LT(took, absl::Seconds(5));
  // The control: a stream that sends its start runs.
  grpc::ClientContext context;
  auto stream = stub->ExecStream(&context);
  v1::ExecStreamRequest message;
  *message.mutable_start() = Command({"true"});
  ASSERT_TRUE(stream->Write(message));
  stream->WritesDone();
  v1::ExecStreamResponse response;
  bool got_result = false;
  while (stream->Read(&response)) got_result = got_result || response.has_result();
  EXPECT_TRUE(got_result);
  EXPECT_TRUE(stream->Finish().ok());
  std::cerr << "server threads before: " << before << ", with 50 streams waiting: " << waiting
            << ", after: " << threads() << "\n";
}

}  // namespace
}  // namespace sandboxd::testing

// The attack suite: a hostile command tries one way out per case, through the real
// server, bwrap and seccomp, with the server running as root and as an ordinary user.
// Each attack must fail; each control (the same probe doing something allowed) must
// succeed, so a broken probe cannot pass for a working sandbox.

#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

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

using ::testing::HasSubstr;
using ::testing::Not;
namespace v1 = ::sandbox::v1;

// Who runs the server, and with which backend.
enum class ServerUser { kRoot, kNobody, kRootLandlock, kNobodyLandlock, kRootWithoutSysAdmin };

std::string Name(ServerUser user) {
  switch (user) {
    case ServerUser::kRoot:
      return "AsRoot";
    case ServerUser::kNobody:
      return "AsNobody";
    case ServerUser::kRootLandlock:
      return "LandlockAsRoot";
    case ServerUser::kNobodyLandlock:
      return "LandlockAsNobody";
    case ServerUser::kRootWithoutSysAdmin:
      return "AsRootWithoutSysAdmin";
  }
  return "";
}

bool IsLandlock(ServerUser user) {
  return user == ServerUser::kRootLandlock || user == ServerUser::kNobodyLandlock;
}

// Whether the server lets requests have the host's network: not the landlock backend
// running as an ordinary user, whose commands share its user and could reach its
// socket (Landlock cannot hide it).
bool AllowsNetwork(ServerUser user) { return user != ServerUser::kNobodyLandlock; }

// One server per kind, shared by the whole suite. Landlock servers accept writable
// protected paths, which Landlock cannot enforce: the cases that need them run against
// bwrap only.
SandboxdProcess* Server(ServerUser user) {
  static std::map<ServerUser, std::unique_ptr<SandboxdProcess>>* servers =
      new std::map<ServerUser, std::unique_ptr<SandboxdProcess>>();
  auto it = servers->find(user);
  if (it != servers->end()) return it->second.get();
  SandboxdProcess::Options options;
  options.as_nobody = user == ServerUser::kNobody || user == ServerUser::kNobodyLandlock;
  options.without_sys_admin = user == ServerUser::kRootWithoutSysAdmin;
  if (IsLandlock(user)) {
    options.flags = {"--backend=landlock", "--danger_landlock_unprotected_paths"};
  }
  absl::StatusOr<std::unique_ptr<SandboxdProcess>> server = SandboxdProcess::Start(options);
  EXPECT_TRUE(server.ok()) << server.status();
  if (!server.ok()) return nullptr;
  return ((*servers)[user] = *std::move(server)).get();
}

struct Case {
  std::string name;
  // The probe's subcommand and arguments. {ws} is the writable workspace, {outside} a
  // read-only directory beside it holding a file "secret", {fresh} a directory with no
  // .git, {server_pid} the server's pid, {sock} a Unix socket the test listens on,
  // {host_tmp_file} a file in the host's /tmp (where other requests' files would be).
  // {ws}/wt is a worktree whose .git file points to {ws}/realgit.
  std::vector<std::string> probe;
  bool network = false;
  // Changes to the workspace-write policy, in the same placeholders.
  std::vector<std::string> writable_roots = {};
  std::vector<std::string> readable_roots = {};
  std::vector<std::string> deny_read = {};
  bool allow_git_writes = false;
  std::string cwd = "{ws}";
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class SandboxTest : public ::testing::TestWithParam<std::tuple<ServerUser, Case>> {
 protected:
  void SetUp() override {
    signal(SIGPIPE, SIG_IGN);
    user_ = std::get<0>(GetParam());
    if (geteuid() != 0) {
      GTEST_SKIP() << "the test runs as uid " << geteuid()
                   << "; starting sandboxd as root and as nobody needs root";
    }
    server_ = Server(user_);
    ASSERT_NE(server_, nullptr);
    absl::StatusOr<std::string> base = server_->MakeWorkspace();
    ASSERT_TRUE(base.ok()) << base.status();
    base_ = *base;
    ws_ = base_ + "/ws";
    for (const std::string& dir : {ws_, ws_ + "/.git", ws_ + "/wt", ws_ + "/realgit",
                                   base_ + "/outside", base_ + "/fresh"}) {
      ASSERT_EQ(mkdir(dir.c_str(), 0755), 0) << dir;
      ASSERT_EQ(chown(dir.c_str(), Uid(), Gid()), 0);
    }
    std::ofstream(base_ + "/outside/secret") << "TOPSECRET";
    char tmp_file[] = "/tmp/escape_test_host_file.XXXXXX";
    int fd = mkstemp(tmp_file);
    ASSERT_GE(fd, 0);
    close(fd);
    chmod(tmp_file, 0644);
    host_tmp_file_ = tmp_file;
    std::ofstream(ws_ + "/wt/.git") << "gitdir: ../realgit\n";
    // Socket paths must be short, and the sandbox's /tmp is private: /var/tmp it is.
    char sock_dir[] = "/var/tmp/escape_test.XXXXXX";
    ASSERT_NE(mkdtemp(sock_dir), nullptr);
    ASSERT_EQ(chmod(sock_dir, 0755), 0);
    sock_dir_ = sock_dir;
    ListenOnUnixSocket(sock_dir_ + "/host.sock");
  }
  void TearDown() override {
    if (listener_ >= 0) close(listener_);
    if (!host_tmp_file_.empty()) unlink(host_tmp_file_.c_str());
    for (const std::string& dir : {base_, sock_dir_}) {
      if (!dir.empty()) std::system(absl::StrCat("rm -rf ", dir).c_str());
    }
  }

  // The user the server's commands run as.
  uid_t Uid() const { return server_->command_uid(); }
  gid_t Gid() const { return server_->command_gid(); }

  void ListenOnUnixSocket(const std::string& path) {
    listener_ = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path.copy(addr.sun_path, sizeof addr.sun_path - 1);
    ASSERT_EQ(bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << path;
    ASSERT_EQ(listen(listener_, 4), 0);
    chmod(path.c_str(), 0777);
  }

  std::string Expand(const std::string& text) const {
    return absl::StrReplaceAll(text, {{"{ws}", ws_},
                                      {"{outside}", base_ + "/outside"},
                                      {"{fresh}", base_ + "/fresh"},
                                      {"{server_pid}", std::to_string(server_->pid())},
                                      {"{sock}", sock_dir_ + "/host.sock"},
                                      {"{host_tmp_file}", host_tmp_file_}});
  }

  // Runs the case's probe in a workspace-write sandbox and returns the response.
  v1::ExecResponse RunProbe(const Case& c) {
    v1::ExecResponse response;
    grpc::Status status = CallProbe(c, response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  // Runs the case's probe, and returns the call's status.
  grpc::Status CallProbe(const Case& c, v1::ExecResponse& response) {
    v1::ExecRequest request;
    request.add_argv(server_->probe());
    for (const std::string& arg : c.probe) request.add_argv(Expand(arg));
    request.set_cwd(Expand(c.cwd));
    v1::SandboxPolicy& policy = *request.mutable_policy();
    policy.set_mode(v1::WORKSPACE_WRITE);
    policy.set_network(c.network ? v1::NETWORK_ENABLED : v1::NETWORK_DISABLED);
    policy.set_allow_git_writes(c.allow_git_writes);
    for (const std::string& root : c.writable_roots) policy.add_writable_roots(Expand(root));
    for (const std::string& root : c.readable_roots) {
      // The probe itself must stay readable.
      policy.add_readable_roots(Expand(root));
      policy.add_readable_roots(server_->probe().substr(0, server_->probe().rfind('/')));
    }
    for (const std::string& path : c.deny_read) policy.add_deny_read(Expand(path));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return v1::SandboxService::NewStub(server_->channel())->Exec(&context, request, &response);
  }

  ServerUser user_ = ServerUser::kRoot;
  SandboxdProcess* server_ = nullptr;
  std::string base_;
  std::string ws_;
  std::string sock_dir_;
  std::string host_tmp_file_;
  int listener_ = -1;
};

std::string CaseName(const ::testing::TestParamInfo<std::tuple<ServerUser, Case>>& info) {
  return Name(std::get<0>(info.param)) + "_" + std::get<1>(info.param).name;
}

const auto kAllServers = ::testing::Values(ServerUser::kRoot, ServerUser::kNobody,
                                           ServerUser::kRootLandlock,
                                           ServerUser::kNobodyLandlock,
                                           ServerUser::kRootWithoutSysAdmin);
const auto kBwrapServers = ::testing::Values(ServerUser::kRoot, ServerUser::kNobody,
                                             ServerUser::kRootWithoutSysAdmin);
const auto kNetworkServers = ::testing::Values(ServerUser::kRoot, ServerUser::kNobody,
                                               ServerUser::kRootLandlock,
                                               ServerUser::kRootWithoutSysAdmin);

class AttackTest : public SandboxTest {};

TEST_P(AttackTest, Fails) {
  const Case& c = std::get<1>(GetParam());
  v1::ExecResponse response;
  grpc::Status status = CallProbe(c, response);
  if (c.network && !AllowsNetwork(user_)) {
    // Refused before anything runs (see NetworkRefusalTest).
    EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    return;
  }
  ASSERT_TRUE(status.ok()) << status.error_message();
  // Failed, or killed (seccomp kills a call through another ABI; bwrap reports that as
  // exit 128+SIGSYS, with no bwrap it is a signal).
  EXPECT_FALSE(response.termination() == v1::EXITED && response.exit_code() == 0)
      << response.stdout();
  EXPECT_THAT(response.termination(), ::testing::AnyOf(v1::EXITED, v1::SIGNALED));
  EXPECT_THAT(response.stdout(), Not(HasSubstr("succeeded"))) << response.stdout();
}

// What every backend must stop.
INSTANTIATE_TEST_SUITE_P(
    Escapes, AttackTest,
    ::testing::Combine(
        kAllServers,
        ::testing::Values(
            // Filesystem.
            Case{"WriteOutsideWritableRoots", {"write", "{outside}/file"}},
            Case{"WriteRootFilesystem", {"write", "/etc/sandboxd-escape"}},
            Case{"ReadOutsideReadableRoots", {"read", "{outside}/secret"}, false, {}, {"{ws}"}},
            Case{"ReadHostTmp", {"read", "{host_tmp_file}"}},
            // Mounts and namespaces.
            Case{"RemountRootReadWrite", {"remount-rw", "/"}},
            Case{"MountTmpfs", {"mount", "{ws}"}},
            Case{"UnshareUserNamespace", {"unshare", "user"}},
            Case{"UnshareMountNamespace", {"unshare", "mount"}},
            // Privileges.
            Case{"HoldsCapabilities", {"caps"}},
            Case{"CanGainPrivileges", {"new-privs"}},
            Case{"WriteProcSys", {"open-write", "/proc/sys/kernel/core_pattern"}},
            Case{"WriteSys", {"open-write", "/sys/kernel/mm/transparent_hugepage/enabled"}},
            Case{"TerminalInjection", {"tiocsti"}},
            // Other processes.
            Case{"SignalServer", {"kill", "{server_pid}"}},
            Case{"ReadServerEnvironment", {"read", "/proc/{server_pid}/environ"}},
            Case{"Ptrace", {"ptrace"}},
            Case{"IoUring", {"io-uring"}},
            Case{"IoUringWithNetwork", {"io-uring"}, true},
            // Network.
            Case{"InetSocket", {"socket", "inet"}},
            Case{"Inet6Socket", {"socket", "inet6"}},
            Case{"ConnectHostUnixSocket", {"unix-connect", "{sock}"}},
            Case{"I386SocketCall", {"int80-socket"}},
            Case{"I386SocketCallWithNetwork", {"int80-socket"}, true})),
    CaseName);

// What only bwrap can stop: protected paths inside writable roots, hidden paths, mount
// covers. The landlock backend refuses such requests instead (see LandlockRefusal).
INSTANTIATE_TEST_SUITE_P(
    BwrapEscapes, AttackTest,
    ::testing::Combine(
        kBwrapServers,
        ::testing::Values(
            Case{"WriteIntoGit", {"write", "{ws}/.git/config"}},
            Case{"RenameGitAway", {"rename", "{ws}/.git", "{ws}/git-moved"}},
            Case{"UnmountGitCover", {"umount", "{ws}/.git"}},
            Case{"CreateAbsentGit", {"mkdir", "{fresh}/.git"}, false, {"{fresh}"}},
            Case{"ReplaceAbsentGitWithSymlink", {"symlink", "/", "{fresh}/.git"}, false, {"{fresh}"}},
            Case{"WriteWorktreeGitDir", {"write", "{ws}/realgit/config"}, false, {"{ws}"}, {}, {},
                 false, "{ws}/wt"},
            Case{"GitConfigWithGitWrites", {"write", "{ws}/.git/config"}, false, {}, {}, {}, true},
            Case{"GitHooksWithGitWrites", {"mkdir", "{ws}/.git/hooks"}, false, {}, {}, {}, true},
            Case{"ReadDeniedDirectory", {"read", "{outside}/secret"}, false, {}, {}, {"{outside}"}})),
    CaseName);

class ControlTest : public SandboxTest {};

TEST_P(ControlTest, Succeeds) {
  const Case& c = std::get<1>(GetParam());
  v1::ExecResponse response = RunProbe(c);
  EXPECT_EQ(response.exit_code(), 0) << response.stdout() << response.stderr();
  EXPECT_THAT(response.stdout(), HasSubstr("succeeded"));
}

INSTANTIATE_TEST_SUITE_P(
    AllowedWithNetwork, ControlTest,
    ::testing::Combine(kNetworkServers,
                       ::testing::Values(Case{"InetSocketWithNetwork", {"socket", "inet"}, true},
                                         Case{"ConnectHostUnixSocketWithNetwork",
                                              {"unix-connect", "{sock}"},
                                              true})),
    CaseName);

INSTANTIATE_TEST_SUITE_P(
    Allowed, ControlTest,
    ::testing::Combine(kAllServers,
                       ::testing::Values(Case{"WriteWorkspace", {"write", "{ws}/file"}},
                                         Case{"UnixSocket", {"socket", "unix"}},
                                         Case{"Socketpair", {"socketpair"}},
                                         Case{"ReadOwnProc", {"read", "/proc/self/status"}},
                                         Case{"ReadInsideReadableRoots",
                                              {"read", "{ws}/wt/.git"},
                                              false, {}, {"{ws}"}},
                                         Case{"WriteWorktree", {"write", "{ws}/wt/file"},
                                              false, {"{ws}"}, {}, {}, false, "{ws}/wt"})),
    CaseName);

INSTANTIATE_TEST_SUITE_P(BwrapAllowed, ControlTest,
                         ::testing::Combine(kBwrapServers,
                                            ::testing::Values(Case{"GitObjectsWithGitWrites",
                                                                   {"write", "{ws}/.git/objects-file"},
                                                                   false, {}, {}, {}, true})),
                         CaseName);

class HostStateTest : public SandboxTest {};

// A denied file reads as empty; its content never reaches the command.
TEST_P(HostStateTest, DeniedFileContentIsHidden) {
  Case c{"ReadDeniedFile", {"read", "{outside}/secret"}};
  c.deny_read = {"{outside}/secret"};
  v1::ExecResponse response = RunProbe(c);
  EXPECT_THAT(response.stdout(), Not(HasSubstr("TOPSECRET")));
}

// The empty file that covers an absent .git while the command runs is gone after it.
TEST_P(HostStateTest, AbsentGitLeavesNoTrace) {
  Case c{"CreateAbsentGit", {"mkdir", "{fresh}/.git"}};
  c.writable_roots = {"{fresh}"};
  v1::ExecResponse response = RunProbe(c);
  EXPECT_NE(response.exit_code(), 0);
  EXPECT_NE(access(Expand("{fresh}/.git").c_str(), F_OK), 0);
}

INSTANTIATE_TEST_SUITE_P(Host, HostStateTest,
                         ::testing::Combine(kBwrapServers, ::testing::Values(Case{"Host", {}})),
                         CaseName);

class NetnsTest : public SandboxTest {};

// A command without network is in a network namespace holding loopback alone, not the
// server's: its pre-started launcher's, made directly by a launcher that is root
// (none is any more: a root server's launchers become the commands' user first), and
// otherwise inside a user namespace of the launcher's own, in which it gives up every
// capability once loopback is up.
TEST_P(NetnsTest, CommandsWithoutNetworkAreOutsideTheServers) {
  grpc::ClientContext context;
  v1::GetCapabilitiesResponse caps;
  ASSERT_TRUE(v1::SandboxService::NewStub(server_->channel())
                  ->GetCapabilities(&context, v1::GetCapabilitiesRequest(), &caps)
                  .ok());
  EXPECT_THAT(caps.network_namespaces(), ::testing::StartsWith("one per pre-started launcher"));
  v1::ExecRequest request = Command({"sh", "-c", kShowNetns});
  v1::ExecResponse response = ExecChecked(*v1::SandboxService::NewStub(server_->channel()), request);
  std::error_code error;
  std::string server_netns =
      std::filesystem::read_symlink(absl::StrCat("/proc/", server_->pid(), "/ns/net"), error);
  ASSERT_FALSE(error) << error.message();
  EXPECT_THAT(response.stdout(), ::testing::StartsWith("net:["));
  EXPECT_THAT(response.stdout(), ::testing::EndsWith("]\nlo\n"));
  EXPECT_THAT(response.stdout(), Not(HasSubstr(server_netns)));
  std::vector<pid_t> launchers = LaunchersOf(server_->pid());
  EXPECT_FALSE(launchers.empty());
  for (pid_t launcher : launchers) {
    std::string status = ReadFileOrEmpty(absl::StrCat("/proc/", launcher, "/status"));
    EXPECT_THAT(status, HasSubstr(absl::StrCat("Uid:\t", Uid(), "\t", Uid(), "\t", Uid())));
    for (const char* set : {"CapPrm", "CapEff", "CapBnd", "CapAmb"}) {
      EXPECT_THAT(status, HasSubstr(absl::StrCat(set, ":\t0000000000000000\n")));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Network, NetnsTest,
                         ::testing::Combine(kBwrapServers, ::testing::Values(Case{"Netns", {}})),
                         CaseName);

class InheritanceTest : public SandboxTest {};

// Nothing of the server leaks through descriptors: the command holds 0, 1, 2 only.
TEST_P(InheritanceTest, OnlyStdioDescriptors) {
  v1::ExecResponse response = RunProbe(Case{"fds", {"fds"}});
  EXPECT_EQ(response.stdout(), "succeeded\n0 1 2 \n");
}

INSTANTIATE_TEST_SUITE_P(Fds, InheritanceTest,
                         ::testing::Combine(kAllServers, ::testing::Values(Case{"Fds", {"fds"}})),
                         CaseName);

class NetworkRefusalTest : public SandboxTest {};

// Under the landlock backend, a server running as an ordinary user shares its user
// with its commands and cannot hide its socket from them: it refuses to give them the
// host's network, and says why, in the call and in GetCapabilities.
TEST_P(NetworkRefusalTest, TheHostsNetworkIsRefusedWhereTheSocketCannotBeHidden) {
  Case c{"UnixConnect", {"unix-connect", server_->address().substr(5)}, true};
  v1::ExecResponse response;
  grpc::Status status = CallProbe(c, response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("Landlock cannot hide its socket"));
  grpc::ClientContext context;
  v1::GetCapabilitiesResponse caps;
  ASSERT_TRUE(v1::SandboxService::NewStub(server_->channel())
                  ->GetCapabilities(&context, v1::GetCapabilitiesRequest(), &caps)
                  .ok());
  EXPECT_THAT(caps.network_enabled_refused(), HasSubstr("Landlock cannot hide its socket"));
}

INSTANTIATE_TEST_SUITE_P(
    Network, NetworkRefusalTest,
    ::testing::Combine(::testing::Values(ServerUser::kNobodyLandlock),
                       ::testing::Values(Case{"Refused", {}})),
    CaseName);

// Without --danger_landlock_unprotected_paths, the landlock backend refuses what it
// cannot enforce, and says why.
TEST(LandlockRefusal, ProtectedPathsAndDenyReadAreRefused) {
  if (geteuid() != 0) GTEST_SKIP() << "the suite's servers need root to start";
  SandboxdProcess::Options options;
  options.flags = {"--backend=landlock"};
  absl::StatusOr<std::unique_ptr<SandboxdProcess>> server = SandboxdProcess::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  absl::StatusOr<std::string> ws = (*server)->MakeWorkspace();
  ASSERT_TRUE(ws.ok()) << ws.status();
  auto stub = v1::SandboxService::NewStub((*server)->channel());

  v1::ExecRequest write;
  write.add_argv("true");
  write.set_cwd(*ws);
  write.mutable_policy()->set_mode(v1::WORKSPACE_WRITE);
  v1::ExecRequest hide;
  hide.add_argv("true");
  hide.mutable_policy()->add_deny_read(*ws);
  for (const auto& [request, message] :
       {std::pair{write, "--danger_landlock_unprotected_paths"},
        std::pair{hide, "deny_read needs the bwrap backend"}}) {
    grpc::ClientContext context;
    v1::ExecResponse response;
    grpc::Status status = stub->Exec(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_THAT(status.error_message(), HasSubstr(message));
  }
  std::system(absl::StrCat("rm -rf ", *ws).c_str());
}

}  // namespace
}  // namespace sandboxd::testing

// sandboxd-proxy: the managed network's proxy (proxy.h) in a process of its own, which
// the server starts and supervises (proxy_process.h):
//
//   sandboxd-proxy [--allow_destination=CIDR,...] [--hosts_file=PATH]
//                  [--own_port=PORT,...] [--user=UID:GID]
//
// Its fd 3 is a SOCK_SEQPACKET socket to the server: Commands come in (an open brings
// the share's channel attached), a Reply goes out for each close, and a first message
// of one byte, "R", says it is ready. With --user it becomes that user, every group dropped, once its
// files are read; it takes no new privileges and dies with the server.

#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "base/scm_rights.h"
#include "sandbox/net/proxy.h"
#include "sandbox/net/proxy_confinement.h"

ABSL_FLAG(std::vector<std::string>, allow_destination, {},
          "Addresses or CIDRs the proxy may reach besides public addresses.");
ABSL_FLAG(std::string, hosts_file, "", "A hosts(5) file resolved before DNS.");
ABSL_FLAG(std::vector<std::string>, own_port, {},
          "The server's TCP ports, never reached on this host.");
ABSL_FLAG(std::string, user, "", "UID:GID to become once the hosts file is read.");

namespace sandboxd {
namespace {

constexpr int kControlFd = 3;
constexpr size_t kMaxMessage = size_t{1} << 20;

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "sandboxd-proxy: %s\n", message.c_str());
  _exit(2);
}

ProxySettings SettingsFromFlags() {
  std::vector<int> own_ports;
  for (const std::string& text : absl::GetFlag(FLAGS_own_port)) {
    int port = 0;
    if (!absl::SimpleAtoi(text, &port)) Die("--own_port takes numbers");
    own_ports.push_back(port);
  }
  absl::StatusOr<ProxySettings> settings =
      LoadProxySettings(absl::GetFlag(FLAGS_allow_destination), absl::GetFlag(FLAGS_hosts_file),
                        std::move(own_ports));
  if (!settings.ok()) Die(std::string(settings.status().message()));
  return *std::move(settings);
}

// --user: for good, real, effective and saved ids, no group left.
void BecomeUser() {
  std::string user = absl::GetFlag(FLAGS_user);
  if (user.empty()) return;
  std::vector<std::string> ids = absl::StrSplit(user, ':');
  uint32_t uid = 0, gid = 0;
  if (ids.size() != 2 || !absl::SimpleAtoi(ids[0], &uid) || !absl::SimpleAtoi(ids[1], &gid)) {
    Die("--user takes UID:GID");
  }
  if (syscall(SYS_setgroups, 0, nullptr) != 0 || syscall(SYS_setresgid, gid, gid, gid) != 0 ||
      syscall(SYS_setresuid, uid, uid, uid) != 0) {
    Die(std::string("becoming ") + user + ": " + std::strerror(errno));
  }
}

bool Send(const google::protobuf::MessageLite& message) {
  std::string bytes = message.SerializeAsString();
  return send(kControlFd, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
         static_cast<ssize_t>(bytes.size());
}

// One message from the server and the descriptor attached, if any (-1); false at EOF.
bool Receive(std::string& buffer, ssize_t& size, int& fd) {
  size = ReceiveWithFd(kControlFd, buffer.data(), buffer.size(), &fd);
  return size > 0;
}

[[noreturn]] void Serve(Proxy& proxy) {
  std::map<uint64_t, uint64_t> shares;  // The server's ids to the proxy's.
  std::string buffer(kMaxMessage, '\0');
  for (;;) {
    ssize_t size = 0;
    int fd = -1;
    if (!Receive(buffer, size, fd)) _exit(0);  // The server went.
    UniqueFd channel(fd);
    proxy::v1::Command command;
    if (!command.ParseFromArray(buffer.data(), static_cast<int>(size))) continue;
    if (command.has_open()) {
      absl::StatusOr<uint64_t> share = proxy.Open(command.open(), std::move(channel));
      if (share.ok()) shares[command.id()] = *share;
      continue;
    }
    proxy::v1::Reply reply;
    reply.set_id(command.id());
    if (auto it = shares.find(command.id()); it != shares.end()) {
      *reply.mutable_report() = proxy.Close(it->second);
      shares.erase(it);
    }
    // A report too large for one message goes without its denials.
    if (!Send(reply) && errno == EMSGSIZE) {
      reply.mutable_report()->clear_denials();
      Send(reply);
    }
  }
}

}  // namespace
}  // namespace sandboxd

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  // Dies with the server; one that went before this line leaves it to init.
  signal(SIGPIPE, SIG_IGN);
  sandboxd::ProxySettings settings = sandboxd::SettingsFromFlags();
  sandboxd::BecomeUser();
  // After the user changes, which clears it. A server that went before this line
  // closed its end of fd 3: Serve ends at once.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  // Before the proxy's threads start: Landlock and seccomp bind the calling thread and
  // what it starts.
  if (absl::Status s = sandboxd::ConfineProxy(); !s.ok()) {
    if (s.code() != absl::StatusCode::kFailedPrecondition) sandboxd::Die(std::string(s.message()));
    std::fprintf(stderr, "sandboxd-proxy: not confined to its files: %s\n",
                 std::string(s.message()).c_str());
  }
  absl::StatusOr<std::unique_ptr<sandboxd::Proxy>> proxy =
      sandboxd::Proxy::Start(std::move(settings));
  if (!proxy.ok()) sandboxd::Die(std::string(proxy.status().message()));
  if (send(3, "R", 1, MSG_NOSIGNAL) != 1) return 0;
  sandboxd::Serve(**proxy);
}

#include "sandbox/launcher/prestarted_launcher.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/errno_status.h"
#include "sandbox/net/netns.h"

// Why pre-start: on cgroup v1 (and v2 without favordynmods) moving a process into a
// cgroup takes the kernel's cgroup_threadgroup_rwsem for writing, and the first writer
// after a quiet moment waits for an RCU grace period first: measured at 5 to 15 ms on
// a 2-core VM, as much as bwrap's whole start-up. A launcher that joined before the
// request came has already paid it.
//
// Why stay: making and removing a cgroup and moving a process into it take kernel
// locks that every other cgroup change waits for; with a new cgroup per command they
// left about a quarter of both CPUs idle at 8 concurrent requests. A command forked by a
// launcher already inside starts there with none of it.

namespace sandboxd {
namespace {

// How long a launcher may take to fork a command; far above what it takes.
constexpr int kReplyTimeoutMs = 10000;

// Reads up to `limit` bytes of what the launcher says: less at EOF, or when it is quiet
// for `timeout_ms`. A read error ends it like EOF.
std::string ReadAtMost(int fd, size_t limit, int timeout_ms) {
  std::string text;
  char buf[512];
  while (text.size() < limit) {
    pollfd pfd{fd, POLLIN, 0};
    int ready = poll(&pfd, 1, timeout_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return text;
    ssize_t n = read(fd, buf, std::min(sizeof buf, limit - text.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return text;
    text.append(buf, static_cast<size_t>(n));
  }
  return text;
}

// What the launcher says until EOF (its error message, when it fails).
std::string ReadUntilEof(int fd, int timeout_ms) {
  return ReadAtMost(fd, std::string::npos, timeout_ms);
}

bool SendAll(int fd, const std::string& data, size_t from) {
  while (from < data.size()) {
    ssize_t n = send(fd, data.data() + from, data.size() - from, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    from += static_cast<size_t>(n);
  }
  return true;
}

// One order, its length first: see the header.
std::string Framed(const LaunchOrder& order) {
  std::string bytes = order.SerializeAsString();
  uint32_t size = static_cast<uint32_t>(bytes.size());
  return std::string(reinterpret_cast<const char*>(&size), sizeof size) + bytes;
}

// Sends `text` with `fds` attached to its first bytes.
bool SendWithFds(int socket, const std::string& text, const std::vector<int>& fds) {
  iovec iov{const_cast<char*>(text.data()), text.size()};
  alignas(cmsghdr) char control[CMSG_SPACE((kFirstPassedFd + kMaxPassedFds) * sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = CMSG_SPACE(fds.size() * sizeof(int));
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(fds.size() * sizeof(int));
  std::memcpy(CMSG_DATA(cmsg), fds.data(), fds.size() * sizeof(int));
  ssize_t sent;
  do {
    sent = sendmsg(socket, &msg, MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  return sent > 0 && SendAll(socket, text, static_cast<size_t>(sent));
}

}  // namespace

absl::StatusOr<std::unique_ptr<PrestartedLauncher>> PrestartedLauncher::Start(
    const std::vector<std::string>& launcher, const std::vector<std::string>& joins,
    bool private_netns) {
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    return ErrnoError("socketpair");
  }
  UniqueFd ours(pair[0]), theirs(pair[1]);
  UniqueFd null(open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!null.valid()) return ErrnoError("open /dev/null");
  // SpawnChild wants its fds clear of 0-3. The orders socket goes where a command's
  // seccomp filter would, on fd 3.
  UniqueFd high_null(fcntl(null.get(), F_DUPFD_CLOEXEC, 10));
  UniqueFd high_theirs(fcntl(theirs.get(), F_DUPFD_CLOEXEC, 10));
  if (!high_null.valid() || !high_theirs.valid()) return ErrnoError("fcntl(F_DUPFD_CLOEXEC)");

  std::vector<std::string> argv = launcher;
  for (const std::string& procs : joins) argv.insert(argv.end(), {"--join", procs});
  if (private_netns) argv.insert(argv.end(), {"--netns", "private"});
  argv.insert(argv.end(), {"--orders", std::to_string(kSeccompFd)});
  absl::StatusOr<pid_t> pid = SpawnChild(
      argv, {}, "/", {high_null.get(), high_null.get(), high_null.get(), high_theirs.get()});
  if (!pid.ok()) return pid.status();
  return std::unique_ptr<PrestartedLauncher>(
      new PrestartedLauncher(*pid, std::move(ours), private_netns));
}

absl::Status PrestartedLauncher::CanMakeNetns(const std::vector<std::string>& launcher) {
  absl::StatusOr<std::unique_ptr<PrestartedLauncher>> probe =
      Start(launcher, {}, /*private_netns=*/true);
  if (!probe.ok()) return probe.status();
  return (*probe)->WaitReady(absl::Seconds(5));
}

PrestartedLauncher::~PrestartedLauncher() {
  if (reaped_) return;
  kill(pid_, SIGKILL);
  while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
}

bool PrestartedLauncher::Alive() {
  if (reaped_) return false;
  // A lost launcher was killed: waiting for it is short, and makes the answer certain.
  pid_t reaped;
  do {
    reaped = waitpid(pid_, nullptr, lost_ ? 0 : WNOHANG);
  } while (reaped < 0 && errno == EINTR);
  reaped_ = reaped == pid_;
  return !reaped_;
}

bool PrestartedLauncher::NetnsIsClean() const {
  return !private_netns_ || NetnsHoldsNoSocket(pid_);
}

absl::Status PrestartedLauncher::Lose(absl::Status why) {
  kill(pid_, SIGKILL);
  lost_ = true;
  return why;
}

absl::Status PrestartedLauncher::WaitReady(absl::Duration timeout) {
  pollfd pfd{control_.get(), POLLIN, 0};
  if (poll(&pfd, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout))) != 1) {
    return absl::UnavailableError(absl::StrCat(
        "a pre-started launcher was not ready (in its cgroups and network namespace) within ",
        absl::FormatDuration(timeout)));
  }
  char first = 0;
  if (read(control_.get(), &first, 1) == 1 && first == 'R') return absl::OkStatus();
  // Anything else is the start of its error message, and it exits after it.
  std::string message = first == 0 ? "it exited" : first + ReadUntilEof(control_.get(), 1000);
  return absl::UnavailableError(absl::StrCat("a pre-started launcher could not get ready: ",
                                             absl::StripTrailingAsciiWhitespace(message)));
}

absl::StatusOr<pid_t> PrestartedLauncher::Exec(const LaunchCommand& command,
                                               const ChildFds& fds) {
  if (!command.order.has_value()) {
    return absl::InvalidArgumentError("a pre-started launcher takes commands with an order");
  }
  if (lost_) return absl::UnavailableError("the pre-started launcher is gone");
  LaunchOrder order = *command.order;
  order.set_cwd(command.cwd);
  order.set_set_env(true);
  *order.mutable_env() = {command.env.begin(), command.env.end()};
  if (!SendWithFds(control_.get(), Framed(order), fds.InOrder())) {
    return Lose(absl::UnavailableError(
        absl::StrCat("cannot hand the command to a pre-started launcher: ", std::strerror(errno))));
  }
  // It forks right away; the wait is for that, not for the command's exec.
  int32_t reply = 0;
  std::string answer = ReadAtMost(control_.get(), sizeof reply, kReplyTimeoutMs);
  if (answer.size() == sizeof reply) std::memcpy(&reply, answer.data(), sizeof reply);
  if (reply > 0) return static_cast<pid_t>(reply);
  if (reply < 0) {
    return Lose(absl::UnavailableError(
        absl::StrCat("a pre-started launcher could not fork: ", std::strerror(-reply))));
  }
  return Lose(absl::UnavailableError(absl::StrCat(
      "a pre-started launcher did not answer: ", answer + ReadUntilEof(control_.get(), 100))));
}

}  // namespace sandboxd

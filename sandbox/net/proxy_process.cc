#include "sandbox/net/proxy_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/scm_rights.h"
#include "sandbox/exec/spawn.h"

namespace sandboxd {
namespace {

// A grant's patterns are bounded per request (ExecSpec), so a command fits easily.
constexpr size_t kMaxMessage = size_t{1} << 20;
// How long Close waits for the proxy's report, and Start for the proxy to be ready.
constexpr auto kReplyWait = std::chrono::seconds(10);
constexpr int kReadyWaitMs = 10000;
// How long a send may wait for room in the proxy's queue, in steps of kSendPollMs.
constexpr int kSendWaitMs = 2000;
constexpr int kSendPollMs = 50;
// Between a proxy that went and its successor.
constexpr useconds_t kRestartPause = 100 * 1000;

}  // namespace

absl::StatusOr<std::unique_ptr<ProxyProcess>> ProxyProcess::Start(std::vector<std::string> argv,
                                                                  std::string reach) {
  std::unique_ptr<ProxyProcess> proxy(new ProxyProcess(std::move(argv), std::move(reach)));
  int wake[2];
  if (pipe2(wake, O_CLOEXEC) != 0) return absl::InternalError("pipe2 failed");
  proxy->wake_read_.Reset(wake[0]);
  proxy->wake_write_.Reset(wake[1]);
  {
    std::lock_guard<std::mutex> lock(proxy->mu_);
    if (absl::Status s = proxy->Spawn(); !s.ok()) return s;
  }
  // The proxy says it is ready ("R") once its settings are read.
  pollfd ready{proxy->control_.get(), POLLIN, 0};
  char byte[64];
  if (poll(&ready, 1, kReadyWaitMs) != 1 ||
      recv(proxy->control_.get(), byte, sizeof byte, 0) <= 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        proxy->argv_[0], " did not start (its stderr, the server's, says why)"));
  }
  proxy->supervisor_ = std::thread([raw = proxy.get()] { raw->Supervise(); });
  return proxy;
}

ProxyProcess::~ProxyProcess() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  replied_.notify_all();
  if (write(wake_write_.get(), "x", 1) != 1) {
    // The supervisor then wakes when the process dies below.
  }
  if (pid_ > 0) kill(pid_, SIGKILL);
  if (supervisor_.joinable()) supervisor_.join();
  if (pid_ > 0) waitpid(pid_, nullptr, 0);
}

absl::Status ProxyProcess::Spawn() {
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    return absl::InternalError(absl::StrCat("socketpair: ", std::strerror(errno)));
  }
  UniqueFd ours(pair[0]), theirs(pair[1]);
  UniqueFd null(open("/dev/null", O_RDWR | O_CLOEXEC));
  // The control socket becomes its fd 3; it shares the server's stderr.
  absl::StatusOr<pid_t> pid = SpawnChild(argv_, {"PATH=/usr/bin:/bin"}, "/",
                                         ChildFds{null.get(), null.get(), 2, -1, {theirs.get()}});
  if (!pid.ok()) return pid.status();
  pid_ = *pid;
  control_ = std::move(ours);
  ++generation_;
  return absl::OkStatus();
}

void ProxyProcess::Supervise() {
  std::string buffer(kMaxMessage, '\0');
  for (;;) {
    int control;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      control = control_.get();
    }
    pollfd fds[] = {{control, POLLIN, 0}, {wake_read_.get(), POLLIN, 0}};
    if (poll(fds, 2, -1) < 0 && errno == EINTR) continue;
    if (fds[1].revents != 0) return;
    ssize_t n = recv(control, buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n > 0) {
      proxy::v1::Reply reply;
      if (!reply.ParseFromArray(buffer.data(), static_cast<int>(n))) continue;
      std::lock_guard<std::mutex> lock(mu_);
      // Only what a Close waits for: a proxy gone wrong cannot fill the server up.
      if (waiting_.count(reply.id()) == 0) continue;
      replies_[reply.id()] = reply.report();
      replied_.notify_all();
      continue;
    }
    // EOF: the proxy went. Its shares are lost; a new one serves what comes next.
    usleep(kRestartPause);
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
    ++restarts_;
    replies_.clear();
    if (absl::Status s = Spawn(); !s.ok()) {
      // Tried again after the next pause: the poll sees the old socket's EOF at once.
      std::fprintf(stderr, "sandboxd: cannot start the proxy again: %s\n",
                   std::string(s.message()).c_str());
    }
    replied_.notify_all();
  }
}

// A proxy whose queue stays full for kSendWaitMs is stuck, and is replaced; a burst of
// large grants only waits (without the lock, so that replies are still taken) for it
// to catch up.
bool ProxyProcess::Send(const proxy::v1::Command& command, int fd,
                        std::unique_lock<std::mutex>& lock) {
  std::string bytes = command.SerializeAsString();
  uint64_t generation = generation_;
  for (int waited = 0; control_.valid() && generation == generation_; waited += kSendPollMs) {
    int socket = control_.get();
    ssize_t sent = SendWithFd(socket, bytes.data(), bytes.size(), fd, MSG_DONTWAIT);
    if (sent == static_cast<ssize_t>(bytes.size())) return true;
    if (sent >= 0 || errno != EAGAIN || waited >= kSendWaitMs) break;
    lock.unlock();
    pollfd writable{socket, POLLOUT, 0};
    poll(&writable, 1, kSendPollMs);
    lock.lock();
  }
  if (generation == generation_) Replace();
  return false;
}

void ProxyProcess::Replace() {
  // The supervisor sees the socket's EOF, and starts another.
  if (pid_ > 0) kill(pid_, SIGKILL);
}

absl::StatusOr<uint64_t> ProxyProcess::Open(const Grant& grant, UniqueFd channel) {
  std::unique_lock<std::mutex> lock(mu_);
  uint64_t id = next_id_++;
  proxy::v1::Command command;
  command.set_id(id);
  *command.mutable_open() = grant;
  uint64_t generation = generation_;
  if (!Send(command, channel.get(), lock)) {
    return absl::UnavailableError("the server's proxy process is being started again; retry");
  }
  share_generation_[id] = generation;
  return id;
}

Report ProxyProcess::Close(uint64_t id) {
  std::unique_lock<std::mutex> lock(mu_);
  auto it = share_generation_.find(id);
  if (it == share_generation_.end()) return Report();
  uint64_t generation = it->second;
  share_generation_.erase(it);
  proxy::v1::Command command;
  command.set_id(id);
  command.set_close(true);
  if (generation != generation_) return Report();
  waiting_.insert(id);
  if (!Send(command, -1, lock)) {
    waiting_.erase(id);
    return Report();
  }
  bool answered = replied_.wait_for(lock, kReplyWait, [&] {
    return replies_.count(id) > 0 || generation_ != generation || stopping_;
  });
  // A proxy alive but not answering is stuck: it is replaced.
  if (!answered && generation_ == generation) Replace();
  waiting_.erase(id);
  auto reply = replies_.find(id);
  if (reply == replies_.end()) return Report();
  Report report = std::move(reply->second);
  replies_.erase(reply);
  return report;
}

std::string ProxyProcess::Describe() const {
  std::lock_guard<std::mutex> lock(mu_);
  return absl::StrCat("a process of its own (", argv_[0], ", pid ", pid_,
                      restarts_ > 0 ? absl::StrCat(", started again ", restarts_, " times") : "",
                      ")", reach_.empty() ? "" : ", which ", reach_);
}

pid_t ProxyProcess::pid() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pid_;
}

int ProxyProcess::restarts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return restarts_;
}

}  // namespace sandboxd

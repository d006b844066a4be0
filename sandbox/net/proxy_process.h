#ifndef SANDBOXD_SANDBOX_NET_PROXY_PROCESS_H_
#define SANDBOXD_SANDBOX_NET_PROXY_PROCESS_H_

#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "base/unique_fd.h"
#include "sandbox/net/proxy.h"

namespace sandboxd {

// The proxy in a process of its own (sandboxd-proxy, proxy_main.cc), which the server
// starts and supervises: HTTP from hostile commands is parsed where a flaw reaches
// neither the server's memory nor its credentials (the process drops to an
// unprivileged user when started as root). The two speak proxy.proto's Command and
// Reply over a SOCK_SEQPACKET socket, shares' channels attached. A proxy that exits
// is started again; the shares it held are lost (their commands' connections end, and
// Close reports nothing). It dies with the server. Thread-safe.
class ProxyProcess : public NetworkProxy {
 public:
  // Starts `argv` (sandboxd-proxy and its flags; the control socket is its fd 3);
  // `reach` says where those flags let it connect (DescribeReach).
  static absl::StatusOr<std::unique_ptr<ProxyProcess>> Start(std::vector<std::string> argv,
                                                             std::string reach = "");
  ~ProxyProcess() override;

  absl::StatusOr<uint64_t> Open(const Grant& grant, UniqueFd channel) override;
  Report Close(uint64_t id) override;
  std::string Describe() const override;

  // The running process, and how often it was started again (for tests).
  pid_t pid() const;
  int restarts() const;

 private:
  ProxyProcess(std::vector<std::string> argv, std::string reach)
      : argv_(std::move(argv)), reach_(std::move(reach)) {}
  // Starts the process; mu_ held.
  absl::Status Spawn();
  // Reads replies, and starts the process again when it goes.
  void Supervise();
  // Sends `command` (with `fd` attached when >= 0), waiting a little for room; a
  // proxy that cannot take it is replaced. `lock` holds mu_, and is let go while it
  // waits.
  bool Send(const proxy::v1::Command& command, int fd, std::unique_lock<std::mutex>& lock);
  // Kills the process, which the supervisor then replaces; mu_ held.
  void Replace();

  const std::vector<std::string> argv_;
  const std::string reach_;
  mutable std::mutex mu_;
  std::condition_variable replied_;
  pid_t pid_ = -1;
  UniqueFd control_;
  // Bumped at each start: a share opened in an earlier process is gone.
  uint64_t generation_ = 0;
  int restarts_ = 0;
  uint64_t next_id_ = 1;
  std::map<uint64_t, uint64_t> share_generation_;
  std::map<uint64_t, Report> replies_;
  // The shares a Close waits for the report of.
  std::set<uint64_t> waiting_;
  bool stopping_ = false;
  // Written to wake the supervisor when stopping.
  UniqueFd wake_read_, wake_write_;
  std::thread supervisor_;
};

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_NET_PROXY_PROCESS_H_

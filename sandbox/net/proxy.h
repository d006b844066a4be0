#ifndef SANDBOXD_SANDBOX_NET_PROXY_H_
#define SANDBOXD_SANDBOX_NET_PROXY_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/unique_fd.h"
#include "sandbox/net/destination.h"
#include "sandboxd/proxy/v1/proxy.pb.h"

namespace sandboxd {

using ::sandboxd::proxy::v1::Grant;
using ::sandboxd::proxy::v1::Report;

// The managed network's proxy, as the runner sees it: one share per proxy-routed
// request, from Open to Close. A request's command reaches it only through the
// listener its launcher made in the command's own network namespace (bridge.h), so
// every connection is attributed to exactly one request and runs under its grant.
class NetworkProxy {
 public:
  virtual ~NetworkProxy() = default;
  // Serves, under `grant`, the listener that arrives on `channel` (a Unix socket whose
  // other end sandboxd-launch sends it over). Returns the share's id.
  virtual absl::StatusOr<uint64_t> Open(const Grant& grant, UniqueFd channel) = 0;
  // Closes the share's listener and every connection it has (a killed request's
  // tunnels end with it), and says what they did and what was refused.
  virtual Report Close(uint64_t id) = 0;
  // How the proxy runs ("a thread of the server", "a process of its own, pid N").
  virtual std::string Describe() const = 0;
};

// What `grant` lets through, in a sentence for Explain ("allows pypi.org:443; denies
// ...; at most 64 connections ...").
std::string DescribeGrant(const Grant& grant);

// What every share of one proxy has in common: the operator's settings.
struct ProxySettings {
  // Destinations allowed besides public addresses (--proxy_allow_destination).
  std::vector<Cidr> allowed_destinations;
  // Names resolved without DNS, to these addresses (--proxy_hosts_file).
  std::map<std::string, std::vector<std::string>> hosts;
  absl::Duration connect_timeout = absl::Seconds(10);
  // The server's own TCP ports: never reached on an address of this host, whatever
  // is allowed, so that no command calls the server back through the proxy.
  std::vector<int> own_ports;
};

// Where a proxy with `settings` connects, for clients: "to public addresses, and
// 127.0.0.1, only; never this host's own addresses".
std::string DescribeReach(const ProxySettings& settings);

// The settings from the operator's words: `destinations` as CIDRs, the hosts(5) file
// at `hosts_file` (none when empty), the server's `own_ports`. INVALID_ARGUMENT names
// what is wrong (a bad CIDR, an unreadable file or a bad line of it).
absl::StatusOr<ProxySettings> LoadProxySettings(const std::vector<std::string>& destinations,
                                                const std::string& hosts_file,
                                                std::vector<int> own_ports);

// A hosts(5) file's contents into ProxySettings::hosts: "ADDRESS NAME [NAME]...", "#"
// comments. INVALID_ARGUMENT names a line whose address is not an IP address.
absl::StatusOr<std::map<std::string, std::vector<std::string>>> ParseHostsFile(
    const std::string& text);

// Whether the proxy may connect to `address`: a public address that is not one of
// this host's own (its services listening on every address are not for commands), or
// one that `settings` allows; never this host on one of the server's own ports.
bool MayConnect(const sockaddr* address, int port, const ProxySettings& settings);

// The proxy itself: HTTP/1.1 forward proxying (absolute-form requests, sent upstream
// with "Connection: close") and CONNECT tunnels, on Boost.Beast's parser, asynchronous
// on one thread of its own. For each connection it checks the host against the
// share's domain rules (deny beats allow), resolves it itself (hosts first, then DNS)
// and connects only to an address that ProxySettings allows, so a name resolving to
// 127.0.0.1 gets no further than the address itself would. A refusal is an HTTP 403
// (429 for a bound) whose body is one line naming host, port and reason, and counts
// in the share's Report.
class Proxy : public NetworkProxy {
 public:
  static absl::StatusOr<std::unique_ptr<Proxy>> Start(ProxySettings settings);
  ~Proxy() override;

  absl::StatusOr<uint64_t> Open(const Grant& grant, UniqueFd channel) override;
  Report Close(uint64_t id) override;
  std::string Describe() const override;

  struct Impl;

 private:
  explicit Proxy(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_NET_PROXY_H_

#include "sandbox/net/proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <future>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>
#include <tuple>
#include <utility>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/enum_name.h"
#include "base/read_file.h"
#include "base/scm_rights.h"
#include "sandbox/net/proxy_rules.h"

namespace sandboxd {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace v1 = ::sandbox::v1;
using tcp = asio::ip::tcp;
using Error = boost::system::error_code;

// Per direction of a relayed connection: a large pipe keeps a download's system calls
// few (measured in tools/bench against the same download without the proxy), and a
// turn bounds what one connection moves before the others get theirs.
constexpr size_t kPipeSize = 256 << 10;
constexpr size_t kTurnBytes = 4 << 20;
// A proxy request's header, and a plain HTTP request's body, which is read whole
// before it goes upstream.
constexpr uint32_t kMaxHeaderBytes = 64 * 1024;
constexpr uint64_t kMaxBodyBytes = uint64_t{1} << 20;
constexpr absl::Duration kDefaultIdle = absl::Minutes(5);
// A DNS name's longest; a longer host is no request the proxy serves.
constexpr size_t kMaxHostLength = 253;
// What one share's report holds: distinct denials beyond these count in the last.
constexpr int kMaxDenials = 64;
// Lookups one share may have running at once (they run on a small pool shared by all),
// the endpoints of a name tried, and how long a lookup and connection may take.
constexpr int kMaxLookups = 2;
constexpr size_t kMaxEndpoints = 16;
constexpr int kResolverThreads = 16;
// A refused accept (no descriptor left) is tried again after this.
constexpr auto kAcceptRetry = std::chrono::milliseconds(100);

// Where a request asks to go.
struct Target {
  std::string host;
  int port = 0;
  // Plain HTTP: the origin-form target to send upstream ("/path?query").
  std::string path;
};

struct Refusal {
  v1::DenialReason reason;
  std::string message;
  http::status status = http::status::forbidden;
};

Refusal Refuse(v1::DenialReason reason, std::string message,
               http::status status = http::status::forbidden) {
  return Refusal{reason, std::move(message), status};
}

absl::string_view View(beast::string_view text) { return {text.data(), text.size()}; }

// "host:port" or "[v6]:port" into `target`.
bool SplitAuthority(absl::string_view authority, int default_port, Target& target) {
  absl::string_view host = authority, port;
  if (absl::StartsWith(authority, "[")) {
    size_t close = authority.find(']');
    if (close == absl::string_view::npos) return false;
    host = authority.substr(1, close - 1);
    absl::string_view rest = authority.substr(close + 1);
    if (!rest.empty() && !absl::ConsumePrefix(&rest, ":")) return false;
    port = rest;
  } else if (size_t colon = authority.rfind(':'); colon != absl::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  // One spelling for the rules, the hosts file and the resolver alike.
  absl::ConsumeSuffix(&host, ".");
  target.host = absl::AsciiStrToLower(host);
  target.port = default_port;
  if (!port.empty() && !absl::SimpleAtoi(port, &target.port)) return false;
  return !target.host.empty() && target.host.size() <= kMaxHostLength && target.port > 0 &&
         target.port < 65536 && !absl::StrContains(host, '@');
}

// The target of a proxy request: CONNECT's authority, or an absolute-form http:// URI
// (the only forms a forward proxy serves).
std::optional<Target> TargetOf(http::verb method, absl::string_view uri) {
  Target target;
  if (method == http::verb::connect) {
    if (!SplitAuthority(uri, 0, target)) return std::nullopt;
    return target;
  }
  absl::string_view rest = uri;
  if (rest.size() < 7 || !absl::EqualsIgnoreCase(rest.substr(0, 7), "http://")) {
    return std::nullopt;
  }
  rest.remove_prefix(7);
  size_t end = rest.find_first_of("/?#");
  if (!SplitAuthority(rest.substr(0, end), 80, target)) return std::nullopt;
  target.path = end == absl::string_view::npos ? "/" : std::string(rest.substr(end));
  if (absl::StartsWith(target.path, "?")) target.path = "/" + target.path;
  if (size_t hash = target.path.find('#'); hash != std::string::npos) target.path.resize(hash);
  return target;
}

bool ReadOnlyMethod(http::verb method) {
  return method == http::verb::get || method == http::verb::head ||
         method == http::verb::options;
}

class Connection;

bool SameAddress(const sockaddr* a, const sockaddr* b) {
  if (a->sa_family != b->sa_family) return false;
  if (a->sa_family == AF_INET) {
    return reinterpret_cast<const sockaddr_in*>(a)->sin_addr.s_addr ==
           reinterpret_cast<const sockaddr_in*>(b)->sin_addr.s_addr;
  }
  return a->sa_family == AF_INET6 &&
         std::memcmp(&reinterpret_cast<const sockaddr_in6*>(a)->sin6_addr,
                     &reinterpret_cast<const sockaddr_in6*>(b)->sin6_addr, 16) == 0;
}

// This host's interfaces' addresses, read again once they are a second old (addresses
// come and go; a lookup per connection would be a netlink dump each).
class LocalAddresses {
 public:
  bool Holds(const sockaddr* address) {
    std::lock_guard<std::mutex> lock(mu_);
    auto now = std::chrono::steady_clock::now();
    if (!valid_ || now - read_ > std::chrono::seconds(1)) Read(now);
    if (!valid_) return true;  // Unknown: counted as this host's.
    for (const sockaddr_storage& local : addresses_) {
      if (SameAddress(reinterpret_cast<const sockaddr*>(&local), address)) return true;
    }
    return false;
  }

 private:
  void Read(std::chrono::steady_clock::time_point now) {
    ifaddrs* list = nullptr;
    valid_ = getifaddrs(&list) == 0;
    read_ = now;
    addresses_.clear();
    for (ifaddrs* entry = list; entry != nullptr; entry = entry->ifa_next) {
      if (entry->ifa_addr == nullptr) continue;
      int family = entry->ifa_addr->sa_family;
      if (family != AF_INET && family != AF_INET6) continue;
      sockaddr_storage copy{};
      std::memcpy(&copy, entry->ifa_addr,
                  family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6));
      addresses_.push_back(copy);
    }
    if (list != nullptr) freeifaddrs(list);
  }

  std::mutex mu_;
  bool valid_ = false;
  std::chrono::steady_clock::time_point read_;
  std::vector<sockaddr_storage> addresses_;
};

// Whether `address` (never IPv4-mapped: see Unmapped) reaches this host: loopback,
// unspecified (which connects to this host), or one of its interfaces'.
bool IsThisHost(const sockaddr* address) {
  AddressClass kind = Classify(address);
  if (kind == AddressClass::kLoopback || kind == AddressClass::kUnspecified) return true;
  static LocalAddresses* local = new LocalAddresses();
  return local->Holds(address);
}

// An IPv4-mapped IPv6 endpoint as the IPv4 one it reaches, so that every check (and
// the comparison with this host's addresses) sees one family per address.
tcp::endpoint Unmapped(const tcp::endpoint& endpoint) {
  asio::ip::address address = endpoint.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return tcp::endpoint(asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()),
                         endpoint.port());
  }
  return endpoint;
}

// One request's share of the proxy. Lives on the proxy's thread only.
struct RequestShare {
  RequestShare(asio::io_context& io, uint64_t id, Grant grant, DomainRules rules)
      : id(id), grant(std::move(grant)), rules(std::move(rules)), channel(io) {}

  // Counts a refusal in the report, once per host, port, protocol and reason.
  void Deny(const Target& target, const std::string& protocol, const Refusal& refusal) {
    auto key = std::make_tuple(target.host, target.port, protocol, static_cast<int>(refusal.reason));
    auto it = denial_index.find(key);
    if (it == denial_index.end() && report.denials_size() >= kMaxDenials) {
      // Past the bound, the last entry counts the rest.
      v1::NetworkDenial& last = *report.mutable_denials(kMaxDenials - 1);
      last.set_count(last.count() + 1);
      last.set_message(absl::StrCat("this and other refusals, ", kMaxDenials,
                                    " kinds in all were kept"));
      return;
    }
    if (it == denial_index.end()) {
      it = denial_index.emplace(key, report.denials_size()).first;
      v1::NetworkDenial& denial = *report.add_denials();
      denial.set_host(target.host);
      denial.set_port(static_cast<uint32_t>(target.port));
      denial.set_protocol(protocol);
      denial.set_reason(refusal.reason);
      denial.set_message(refusal.message);
    }
    v1::NetworkDenial& denial = *report.mutable_denials(it->second);
    denial.set_count(denial.count() + 1);
  }

  uint64_t bytes() const { return report.bytes_out() + report.bytes_in(); }
  absl::Duration idle() const {
    absl::Duration idle = absl::Seconds(grant.idle_timeout().seconds()) +
                          absl::Nanoseconds(grant.idle_timeout().nanos());
    return idle > absl::ZeroDuration() ? idle : kDefaultIdle;
  }

  uint64_t id;
  Grant grant;
  DomainRules rules;
  asio::posix::stream_descriptor channel;
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::weak_ptr<Connection>> connections;
  uint32_t open = 0;
  int lookups = 0;
  bool closed = false;
  Report report;
  std::map<std::tuple<std::string, int, std::string, int>, int> denial_index;
};

}  // namespace

bool MayConnect(const sockaddr* address, int port, const ProxySettings& settings) {
  // What an IPv4-mapped, NAT64 or 6to4 address reaches is what is checked.
  sockaddr_in v4{};
  if (ReachedIpv4(address, &v4)) address = reinterpret_cast<const sockaddr*>(&v4);
  bool local = IsThisHost(address);
  if (local && std::find(settings.own_ports.begin(), settings.own_ports.end(), port) !=
                   settings.own_ports.end()) {
    return false;
  }
  for (const Cidr& allowed : settings.allowed_destinations) {
    if (allowed.Contains(address)) return true;
  }
  return !local && Classify(address) == AddressClass::kPublic;
}

struct Proxy::Impl {
  explicit Impl(ProxySettings settings) : settings(std::move(settings)) {}

  // Runs `task` on the proxy's thread and waits for what it returns.
  template <typename Task>
  auto OnLoop(Task task) -> decltype(task()) {
    std::packaged_task<decltype(task())()> packaged(std::move(task));
    auto result = packaged.get_future();
    asio::post(io, [&packaged] { packaged(); });
    return result.get();
  }

  void WaitForListener(const std::shared_ptr<RequestShare>& share);
  void Accept(const std::shared_ptr<RequestShare>& share);
  Report CloseShare(uint64_t id);

  ProxySettings settings;
  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  asio::thread_pool resolvers{kResolverThreads};
  std::thread thread;
  std::map<uint64_t, std::shared_ptr<RequestShare>> shares;  // The proxy's thread only.
  std::atomic<uint64_t> next_id{1};
};

namespace {

// One connection from a command: its proxy request, then a tunnel or one forwarded
// HTTP exchange. Lives on the proxy's thread.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Proxy::Impl& proxy, std::shared_ptr<RequestShare> share, tcp::socket client)
      : proxy_(proxy),
        share_(std::move(share)),
        client_(std::move(client)),
        upstream_(proxy.io),
        timer_(proxy.io),
        deadline_(proxy.io) {
    ++share_->open;
    share_->report.set_connections(share_->report.connections() + 1);
    parser_.header_limit(kMaxHeaderBytes);
    // The body's bound is set once the header has passed the rules (OnHeader), so that a
    // request too large is refused naming its host. (Beast 1.74 takes boost::none for
    // 0 here, so "none" is the largest number.)
    parser_.body_limit(std::numeric_limits<uint64_t>::max());
  }
  ~Connection() { Stop(); }

  void Start() {
    WatchIdle();
    uint32_t bound = share_->grant.max_connections();
    if (bound != 0 && share_->open > bound) {
      Reply(Target{}, "",
            Refuse(v1::PROXY_LIMIT,
                   absl::StrCat("the request has ", bound,
                                " proxy connections open, its bound; close some first"),
                   http::status::too_many_requests));
      return;
    }
    http::async_read_header(client_, buffer_, parser_,
                            [self = shared_from_this()](Error e, size_t) { self->OnHeader(e); });
  }

  // Closes both sides; the handlers still pending then see operation_aborted.
  void Stop() {
    if (stopped_) return;
    stopped_ = true;
    abandoned_ = true;
    Error ignored;
    client_.close(ignored);
    upstream_.close(ignored);
    timer_.cancel();
    deadline_.cancel();
    --share_->open;
  }

 private:
  // The rules are checked on the header alone; a plain request's body is read (up to
  // kMaxBodyBytes) only once they let it through.
  void OnHeader(Error e) {
    ++activity_;
    if (stopped_) return;
    if (e) {
      if (e != http::error::end_of_stream && e != asio::error::eof &&
          e != asio::error::connection_reset) {
        Reply(Target{}, "", Refuse(v1::BAD_PROXY_REQUEST,
                                   absl::StrCat("not an HTTP request the proxy reads: ", e.message()),
                                   http::status::bad_request));
      } else {
        Stop();
      }
      return;
    }
    http::request<http::string_body>& request = parser_.get();
    tunnel_ = request.method() == http::verb::connect;
    protocol_ = tunnel_ ? "connect" : "http";
    std::optional<Target> target = TargetOf(request.method(), View(request.target()));
    if (!target.has_value()) {
      Target named;
      named.host = std::string(request[http::field::host]);
      Reply(named, protocol_,
            Refuse(v1::BAD_PROXY_REQUEST,
                   absl::StrCat("the proxy serves CONNECT host:port and absolute-form "
                                "http:// requests, not ",
                                std::string(request.method_string()), " ",
                                std::string(request.target())),
                   http::status::bad_request));
      return;
    }
    target_ = *std::move(target);
    if (std::optional<Refusal> refusal = Check(request.method())) {
      Reply(target_, protocol_, *refusal);
      return;
    }
    if (tunnel_ || parser_.is_done()) return Resolve();
    if (parser_.content_length().value_or(0) > kMaxBodyBytes) {
      return Reply(target_, protocol_,
                   Refuse(v1::PROXY_LIMIT,
                          absl::StrCat("a plain HTTP request's body may be ", kMaxBodyBytes,
                                       " bytes; send larger ones over HTTPS (a tunnel)"),
                          http::status::payload_too_large));
    }
    parser_.body_limit(kMaxBodyBytes);
    http::async_read(client_, buffer_, parser_, [self = shared_from_this()](Error e, size_t) {
      ++self->activity_;
      if (self->stopped_) return;
      if (e) {
        return self->Reply(self->target_, self->protocol_,
                           Refuse(v1::BAD_PROXY_REQUEST,
                                  absl::StrCat("the request's body: ", e.message(), " (at most ",
                                               kMaxBodyBytes, " bytes through plain HTTP)"),
                                  http::status::bad_request));
      }
      self->Resolve();  // Its bytes count when they go upstream.
    });
  }

  // The grant's rules, on the name as asked.
  std::optional<Refusal> Check(http::verb method) const {
    std::string where = absl::StrCat(target_.host, ":", target_.port);
    if (share_->grant.read_only() && (tunnel_ || !ReadOnlyMethod(method))) {
      return Refuse(v1::METHOD_NOT_ALLOWED,
                    tunnel_ ? absl::StrCat("network_read_only allows no tunnel (CONNECT ", where, ")")
                            : absl::StrCat("network_read_only allows only GET, HEAD and OPTIONS, not ",
                                           std::string(http::to_string(method))));
    }
    switch (share_->rules.Check(target_.host, target_.port)) {
      case DomainRules::Verdict::kAllowed:
        return std::nullopt;
      case DomainRules::Verdict::kDenied:
        return Refuse(v1::DOMAIN_DENIED, absl::StrCat(where, " matches a denied domain"));
      case DomainRules::Verdict::kNotAllowed:
        break;
    }
    return Refuse(v1::DOMAIN_NOT_ALLOWED,
                  absl::StrCat(where, " matches none of the allowed domains (",
                               share_->rules.allow.empty() ? "none" : AllowedList(), ")"));
  }

  std::string AllowedList() const {
    std::vector<std::string> shown;
    for (const HostPattern& pattern : share_->rules.allow) {
      if (shown.size() == 8) {
        shown.push_back("...");
        break;
      }
      shown.push_back(pattern.ToString());
    }
    return absl::StrJoin(shown, ", ");
  }

  // Addresses from the literal itself, the hosts file, or DNS (on the proxy's pool of
  // lookup threads, of which one request holds at most kMaxLookups, so that a slow
  // name server holds up its own lookups before anyone else's; a lookup whose
  // connection went before its turn is skipped). The name is tried absolute first, so
  // that no search domain is appended to what was checked, then as written (the
  // system's hosts file knows names so); what either finds is checked as any address.
  // Looking up and connecting together take at most the settings' connect_timeout.
  void Resolve() {
    ArmDeadline();
    Error e;
    asio::ip::address literal = asio::ip::make_address(target_.host, e);
    if (!e) return Connect({tcp::endpoint(literal, static_cast<uint16_t>(target_.port))});
    if (auto it = proxy_.settings.hosts.find(target_.host); it != proxy_.settings.hosts.end()) {
      std::vector<tcp::endpoint> endpoints;
      for (const std::string& address : it->second) {
        endpoints.emplace_back(asio::ip::make_address(address, e),
                               static_cast<uint16_t>(target_.port));
      }
      return Connect(std::move(endpoints));
    }
    if (share_->lookups >= kMaxLookups) {
      return Reply(target_, protocol_,
                   Refuse(v1::PROXY_LIMIT,
                          absl::StrCat("the request has ", kMaxLookups, " name lookups running"),
                          http::status::too_many_requests));
    }
    ++share_->lookups;
    looking_up_ = true;
    asio::post(proxy_.resolvers, [self = shared_from_this(), host = target_.host + ".",
                                  port = std::to_string(target_.port)]() mutable {
      Error e = asio::error::operation_aborted;
      tcp::resolver::results_type results;
      if (!self->abandoned_) {
        tcp::resolver resolver(self->proxy_.resolvers);
        results = resolver.resolve(host, port, tcp::resolver::numeric_service, e);
        // The hosts file (and its localhost) knows names as written, not absolute.
        if (e == asio::error::host_not_found) {
          host.pop_back();
          results = resolver.resolve(host, port, tcp::resolver::numeric_service, e);
        }
      }
      // The last reference goes back to the proxy's thread with it.
      asio::io_context& io = self->proxy_.io;
      asio::post(io, [self = std::move(self), e, results] { self->OnResolved(e, results); });
    });
  }

  void OnResolved(Error e, const tcp::resolver::results_type& results) {
    looking_up_ = false;
    --share_->lookups;
    if (stopped_ || replying_) return;
    if (e) return Fail(absl::StrCat("cannot resolve ", target_.host, ": ", e.message()));
    std::vector<tcp::endpoint> endpoints;
    for (const auto& entry : results) endpoints.push_back(entry.endpoint());
    Connect(std::move(endpoints));
  }

  void ArmDeadline() {
    deadline_.expires_after(absl::ToChronoNanoseconds(proxy_.settings.connect_timeout));
    deadline_.async_wait([self = shared_from_this()](Error e) {
      if (e || self->stopped_ || !(self->looking_up_ || self->connecting_)) return;
      self->Fail(absl::StrCat(self->target_.host, ":", self->target_.port, " did not answer within ",
                              absl::FormatDuration(self->proxy_.settings.connect_timeout)),
                 http::status::gateway_timeout);
    });
  }

  // Connects to the first of `endpoints` that the operator lets commands reach: the
  // check is on the address itself, whatever name led to it.
  void Connect(std::vector<tcp::endpoint> endpoints) {
    if (endpoints.size() > kMaxEndpoints) endpoints.resize(kMaxEndpoints);
    for (tcp::endpoint& endpoint : endpoints) endpoint = Unmapped(endpoint);
    std::vector<tcp::endpoint> allowed;
    for (const tcp::endpoint& endpoint : endpoints) {
      if (MayConnect(endpoint.data(), target_.port, proxy_.settings)) {
        allowed.push_back(endpoint);
      }
    }
    if (endpoints.empty()) return Fail(absl::StrCat(target_.host, " has no address"));
    if (allowed.empty()) {
      const sockaddr* first = endpoints.front().data();
      std::string address = AddressToString(first);
      std::string named = address == target_.host
                              ? address
                              : absl::StrCat(target_.host, " resolves to ", address);
      AddressClass kind = Classify(first);
      Reply(target_, protocol_,
            Refuse(v1::DESTINATION_NOT_ALLOWED,
                   absl::StrCat(named, ", ",
                                kind == AddressClass::kPublic ? "an address of this host"
                                                              : Describe(kind),
                                ", which this server does not let commands reach")));
      return;
    }
    connecting_ = true;
    asio::async_connect(upstream_, allowed,
                        [self = shared_from_this()](Error e, const tcp::endpoint&) {
                          self->connecting_ = false;
                          self->deadline_.cancel();
                          if (self->stopped_ || self->replying_) return;
                          if (e) {
                            self->Fail(absl::StrCat("cannot connect to ", self->target_.host, ":",
                                                    self->target_.port, ": ", e.message()));
                            return;
                          }
                          self->OnConnected();
                        });
  }

  void OnConnected() {
    Error ignored;
    upstream_.set_option(tcp::no_delay(true), ignored);
    // Urgent data stays in the stream (splice stops at an out-of-band mark).
    upstream_.set_option(asio::socket_base::out_of_band_inline(true), ignored);
    client_.set_option(asio::socket_base::out_of_band_inline(true), ignored);
    if (tunnel_) {
      auto reply = std::make_shared<std::string>("HTTP/1.1 200 Connection established\r\n\r\n");
      asio::async_write(client_, asio::buffer(*reply),
                        [self = shared_from_this(), reply](Error e, size_t) {
                          if (e || self->stopped_) return self->Stop();
                          self->SendEarlyBytes();
                        });
      return;
    }
    Forward();
  }

  // What the client sent after CONNECT's header, before the tunnel stood (a TLS
  // ClientHello), goes first.
  void SendEarlyBytes() {
    if (buffer_.size() == 0) return StartRelays();
    asio::async_write(upstream_, buffer_.data(), [self = shared_from_this()](Error e, size_t n) {
      if (e || self->stopped_) return self->Stop();
      self->buffer_.consume(n);
      if (self->Count(n, /*out=*/true)) self->StartRelays();
    });
  }

  // Plain HTTP: the request in origin form, to the host that was checked (its Host
  // header says so too: a different one could reach another site on the same
  // address), without the proxy's own headers, and the connection closed after the
  // response, which is relayed as it comes.
  void Forward() {
    http::request<http::string_body>& request = parser_.get();
    forward_ = std::move(request);
    for (absl::string_view token : absl::StrSplit(
             std::string(forward_[http::field::connection]), ',', absl::SkipWhitespace())) {
      forward_.erase(std::string(absl::StripAsciiWhitespace(token)));
    }
    for (http::field field : {http::field::proxy_connection, http::field::proxy_authorization,
                              http::field::keep_alive, http::field::te, http::field::trailer,
                              http::field::upgrade}) {
      forward_.erase(field);
    }
    forward_.target(target_.path);
    forward_.set(http::field::host, target_.port == 80
                                        ? HostForHeader()
                                        : absl::StrCat(HostForHeader(), ":", target_.port));
    forward_.keep_alive(false);
    try {
      forward_.prepare_payload();
    } catch (const std::exception& e) {  // Beast refuses TRACE with a body so.
      return Reply(target_, protocol_,
                   Refuse(v1::BAD_PROXY_REQUEST, e.what(), http::status::bad_request));
    }
    http::async_write(upstream_, forward_, [self = shared_from_this()](Error e, size_t n) {
      if (e || self->stopped_) return self->Stop();
      if (!self->Count(n, /*out=*/true)) return;
      self->relays_ = 1;
      if (!self->Pump(self->down_, self->upstream_, self->client_, /*out=*/false)) self->Stop();
    });
  }

  std::string HostForHeader() const {
    return absl::StrContains(target_.host, ':') ? absl::StrCat("[", target_.host, "]")
                                                 : target_.host;
  }

  void StartRelays() {
    relays_ = 2;
    if (!Pump(up_, client_, upstream_, /*out=*/true) ||
        !Pump(down_, upstream_, client_, /*out=*/false)) {
      Stop();
    }
  }

  // One direction of a relay: what `from` sends goes to `to` through a pipe, by
  // splice(2), so that the bytes are never copied into the proxy. Filling the pipe and
  // draining it go on independently (each waits for its own socket), so that the
  // sender is read while the receiver is still taking what came before.
  struct Direction {
    tcp::socket* from = nullptr;
    tcp::socket* to = nullptr;
    bool out = false;
    UniqueFd read_end, write_end;
    size_t capacity = 0;
    // Bytes in the pipe, not yet in `to`.
    size_t pending = 0;
    // `from` said EOF; a side with nothing to do waits for the other to wake it.
    bool eof = false;
    bool fill_parked = false, drain_parked = false;
  };

  // Makes `direction`'s pipe and starts it; false when there is no pipe.
  bool Pump(Direction& direction, tcp::socket& from, tcp::socket& to, bool out) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return false;
    direction.read_end.Reset(fds[0]);
    direction.write_end.Reset(fds[1]);
    fcntl(fds[1], F_SETPIPE_SZ, static_cast<int>(kPipeSize));  // Else the default stays.
    int capacity = fcntl(fds[1], F_GETPIPE_SZ);
    direction.capacity = capacity > 0 ? static_cast<size_t>(capacity) : 65536;
    direction.from = &from;
    direction.to = &to;
    direction.out = out;
    Error ignored;
    from.non_blocking(true, ignored);
    to.non_blocking(true, ignored);
    direction.drain_parked = true;  // Until there is something to drain.
    Fill(direction);
    return true;
  }

  // Runs `step` on `direction` again soon: a turn moves at most kTurnBytes, so that one
  // fast connection does not keep the others waiting.
  void Later(void (Connection::*step)(Direction&), Direction& direction) {
    asio::post(proxy_.io, [self = shared_from_this(), step, &direction] {
      if (!self->stopped_) ((*self).*step)(direction);
    });
  }
  // Runs `step` on `direction` once `socket` is ready for `wait`.
  void When(tcp::socket& socket, tcp::socket::wait_type wait,
            void (Connection::*step)(Direction&), Direction& direction) {
    socket.async_wait(wait, [self = shared_from_this(), step, &direction](Error e) {
      if (!e && !self->stopped_) ((*self).*step)(direction);
    });
  }

  // from -> pipe.
  void Fill(Direction& d) {
    for (size_t moved = 0; moved < kTurnBytes;) {
      if (d.pending >= d.capacity) {
        d.fill_parked = true;
        return;
      }
      ssize_t n = splice(d.from->native_handle(), nullptr, d.write_end.get(), nullptr,
                         d.capacity - d.pending, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      // Splice says 0, not EAGAIN, at the urgent mark once the sender has closed: not
      // the end while bytes are still unread.
      int waiting = 0;
      bool at_mark = n == 0 && ioctl(d.from->native_handle(), FIONREAD, &waiting) == 0 &&
                     waiting > 0;
      if ((n < 0 && errno == EAGAIN) || at_mark) {
        // Nothing to read, or a pipe whose slots are full before its bytes are.
        // Bytes that splice will not move: a pipe whose slots are full before its
        // bytes are (Drain wakes this), or, with the pipe empty, TCP's urgent mark,
        // which splice stops at and only a read passes (inline: SO_OOBINLINE).
        int unread = 0;
        if (ioctl(d.from->native_handle(), FIONREAD, &unread) == 0 && unread > 0) {
          if (d.pending > 0) {
            d.fill_parked = true;
            return;
          }
          n = CopyPastTheMark(d);
          if (n <= 0) return Stop();
          moved += static_cast<size_t>(n);
          if (!Count(static_cast<size_t>(n), d.out)) return;
          if (d.drain_parked) {
            d.drain_parked = false;
            Later(&Connection::Drain, d);
          }
          continue;
        }
        return When(*d.from, tcp::socket::wait_read, &Connection::Fill, d);
      }
      ++activity_;
      if (n < 0) return Stop();
      if (n == 0) d.eof = true;
      d.pending += static_cast<size_t>(n);
      moved += static_cast<size_t>(n);
      if (n > 0 && !Count(static_cast<size_t>(n), d.out)) return;
      if (d.drain_parked) {
        d.drain_parked = false;
        Later(&Connection::Drain, d);
      }
      if (d.eof) return;
    }
    Later(&Connection::Fill, d);
  }

  // Reads what splice stopped before (the urgent byte among it) and writes it into the
  // empty pipe; how many bytes, or -1.
  ssize_t CopyPastTheMark(Direction& d) {
    char bytes[4096];
    ssize_t n = recv(d.from->native_handle(), bytes, sizeof bytes, MSG_DONTWAIT);
    if (n <= 0 || write(d.write_end.get(), bytes, static_cast<size_t>(n)) != n) return -1;
    d.pending += static_cast<size_t>(n);
    ++activity_;
    return n;
  }

  // pipe -> to. EOF is passed on as a half-close once the pipe is empty; the
  // connection ends when both directions have.
  void Drain(Direction& d) {
    for (size_t moved = 0; moved < kTurnBytes;) {
      if (d.pending == 0) {
        if (!d.eof) {
          d.drain_parked = true;
          return;
        }
        Error ignored;
        d.to->shutdown(tcp::socket::shutdown_send, ignored);
        if (--relays_ == 0) Stop();
        return;
      }
      ssize_t n = splice(d.read_end.get(), nullptr, d.to->native_handle(), nullptr, d.pending,
                         SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n < 0 && errno == EAGAIN) return When(*d.to, tcp::socket::wait_write, &Connection::Drain, d);
      if (n <= 0) return Stop();
      d.pending -= static_cast<size_t>(n);
      moved += static_cast<size_t>(n);
      if (d.fill_parked) {
        d.fill_parked = false;
        Later(&Connection::Fill, d);
      }
    }
    Later(&Connection::Drain, d);
  }

  // Adds `n` bytes to the share's count; past its bound the connection ends (false).
  bool Count(size_t n, bool out) {
    Report& report = share_->report;
    if (out) {
      report.set_bytes_out(report.bytes_out() + n);
    } else {
      report.set_bytes_in(report.bytes_in() + n);
    }
    uint64_t bound = share_->grant.max_bytes();
    if (bound == 0 || share_->bytes() <= bound) return true;
    share_->Deny(target_, protocol_,
                 Refuse(v1::PROXY_LIMIT, absl::StrCat("the request relayed more than its bound of ",
                                                      bound, " bytes through the proxy")));
    Stop();
    return false;
  }

  // Ends a connection that passed nothing for the share's idle time (a request that
  // never comes among them).
  void WatchIdle() {
    timer_.expires_after(absl::ToChronoNanoseconds(share_->idle()));
    timer_.async_wait([self = shared_from_this()](Error e) {
      if (e || self->stopped_) return;
      if (self->activity_ == self->seen_activity_) return self->Stop();
      self->seen_activity_ = self->activity_;
      self->WatchIdle();
    });
  }

  // Refuses with `refusal` (counted as a denial), in an HTTP response whose body is
  // one line, then closes.
  void Reply(const Target& target, const std::string& protocol, const Refusal& refusal) {
    if (replying_) return;
    share_->Deny(target, protocol, refusal);
    std::string what = target.host.empty() ? "request"
                                            : absl::StrCat(tunnel_ ? "CONNECT " : "request for ",
                                                           target.host, ":", target.port);
    SendError(refusal.status, absl::StrCat("sandboxd proxy: ", what, " refused: ", refusal.message),
              LogName(refusal.reason));
  }

  // An upstream that cannot be reached: a 502, not a denial.
  void Fail(const std::string& message, http::status status = http::status::bad_gateway) {
    looking_up_ = connecting_ = false;
    abandoned_ = true;
    deadline_.cancel();
    Error ignored;
    upstream_.close(ignored);
    SendError(status, absl::StrCat("sandboxd proxy: ", message), "");
  }

  // One answer per connection: a late lookup or connection after a refusal or a
  // deadline finds `replying_` and does nothing.
  void SendError(http::status status, std::string line, const std::string& denial) {
    if (replying_) return;
    replying_ = true;
    reply_.result(status);
    reply_.version(11);
    reply_.set(http::field::content_type, "text/plain; charset=utf-8");
    if (!denial.empty()) reply_.set("X-Sandboxd-Denial", denial);
    reply_.keep_alive(false);
    reply_.body() = std::move(line) + "\n";
    reply_.prepare_payload();
    http::async_write(client_, reply_, [self = shared_from_this()](Error, size_t) {
      Error ignored;
      self->client_.shutdown(tcp::socket::shutdown_send, ignored);
      self->Stop();
    });
  }

  Proxy::Impl& proxy_;
  std::shared_ptr<RequestShare> share_;
  tcp::socket client_;
  tcp::socket upstream_;
  asio::steady_timer timer_;
  // Bounds a lookup and connection (the settings' connect_timeout).
  asio::steady_timer deadline_;
  beast::flat_buffer buffer_;
  http::request_parser<http::string_body> parser_;
  http::request<http::string_body> forward_;
  http::response<http::string_body> reply_;
  Target target_;
  bool tunnel_ = false;
  std::string protocol_;
  Direction up_, down_;
  int relays_ = 0;
  uint64_t activity_ = 0, seen_activity_ = ~uint64_t{0};
  bool looking_up_ = false, connecting_ = false, replying_ = false;
  // Read by the lookup threads: whether a lookup still has a connection to serve.
  std::atomic<bool> abandoned_{false};
  bool stopped_ = false;
};

absl::StatusOr<DomainRules> RulesOf(const Grant& grant) {
  absl::StatusOr<std::vector<HostPattern>> allow =
      ParsePatterns({grant.allow().begin(), grant.allow().end()}, "allowed domains");
  if (!allow.ok()) return allow.status();
  absl::StatusOr<std::vector<HostPattern>> deny =
      ParsePatterns({grant.deny().begin(), grant.deny().end()}, "denied domains");
  if (!deny.ok()) return deny.status();
  return DomainRules{*std::move(allow), *std::move(deny)};
}

// The listener sandboxd-launch sent over `channel`, when it is one: a TCP socket that
// listens.
int ReceiveListener(int channel, int& domain) {
  char byte;
  int fd = -1;
  if (ReceiveWithFd(channel, &byte, 1, &fd, MSG_DONTWAIT) <= 0 || fd < 0) return -1;
  int listening = 0, type = 0;
  socklen_t size = sizeof(int);
  bool ok = getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &size) == 0 && listening &&
            getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &size) == 0 && type == SOCK_STREAM &&
            getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &size) == 0 &&
            (domain == AF_INET || domain == AF_INET6);
  if (!ok) {
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

void Proxy::Impl::WaitForListener(const std::shared_ptr<RequestShare>& share) {
  share->channel.async_wait(asio::posix::descriptor_base::wait_read, [this, share](Error e) {
    if (e || share->closed) return;
    int domain = AF_INET;
    int fd = ReceiveListener(share->channel.native_handle(), domain);
    Error ignored;
    share->channel.close(ignored);
    if (fd < 0) return;  // The launcher failed first, and says so itself.
    share->acceptor.emplace(io);
    share->acceptor->assign(domain == AF_INET ? tcp::v4() : tcp::v6(), fd, e);
    if (e) {
      close(fd);
      return;
    }
    Accept(share);
  });
}

void Proxy::Impl::Accept(const std::shared_ptr<RequestShare>& share) {
  share->acceptor->async_accept([this, share](Error e, tcp::socket client) {
    if (share->closed) return;
    if (e) {
      if (e == asio::error::operation_aborted) return;
      // Out of descriptors, say: the pending connection keeps the listener readable.
      auto retry = std::make_shared<asio::steady_timer>(io, kAcceptRetry);
      retry->async_wait([this, share, retry](Error e) {
        if (!e && !share->closed) Accept(share);
      });
      return;
    }
    Error ignored;
    client.set_option(tcp::no_delay(true), ignored);
    auto connection = std::make_shared<Connection>(*this, share, std::move(client));
    auto& connections = share->connections;
    connections.erase(std::remove_if(connections.begin(), connections.end(),
                                     [](const auto& weak) { return weak.expired(); }),
                      connections.end());
    share->connections.push_back(connection);
    connection->Start();
    Accept(share);
  });
}

Report Proxy::Impl::CloseShare(uint64_t id) {
  auto it = shares.find(id);
  if (it == shares.end()) return Report();
  std::shared_ptr<RequestShare> share = it->second;
  shares.erase(it);
  share->closed = true;
  Error ignored;
  share->channel.close(ignored);
  if (share->acceptor.has_value()) share->acceptor->close(ignored);
  for (const std::weak_ptr<Connection>& weak : share->connections) {
    if (std::shared_ptr<Connection> connection = weak.lock()) connection->Stop();
  }
  return share->report;
}

absl::StatusOr<std::map<std::string, std::vector<std::string>>> ParseHostsFile(
    const std::string& text) {
  std::map<std::string, std::vector<std::string>> hosts;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    line = line.substr(0, line.find('#'));
    std::vector<std::string> words = absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (words.empty()) continue;
    Error e;
    asio::ip::make_address(words[0], e);
    if (e || words.size() < 2) {
      return absl::InvalidArgumentError(absl::StrCat(
          "hosts file line ", number, ": \"", line, "\" is not ADDRESS NAME [NAME]..."));
    }
    for (size_t i = 1; i < words.size(); ++i) {
      hosts[absl::AsciiStrToLower(absl::StripSuffix(words[i], "."))].push_back(words[0]);
    }
  }
  return hosts;
}

std::string DescribeGrant(const Grant& grant) {
  std::string text = grant.allow().empty()
                         ? "allows no domain"
                         : absl::StrCat("allows ", absl::StrJoin(grant.allow(), ", "));
  if (!grant.deny().empty()) absl::StrAppend(&text, "; denies ", absl::StrJoin(grant.deny(), ", "));
  if (grant.read_only()) absl::StrAppend(&text, "; read-only (GET, HEAD, OPTIONS; no CONNECT)");
  absl::StrAppend(&text, "; at most ", grant.max_connections(), " connections at once and ",
                  grant.max_bytes(), " bytes; idle connections end after ",
                  grant.idle_timeout().seconds(), " s");
  return text;
}

absl::StatusOr<ProxySettings> LoadProxySettings(const std::vector<std::string>& destinations,
                                                const std::string& hosts_file,
                                                std::vector<int> own_ports) {
  ProxySettings settings;
  for (const std::string& text : destinations) {
    absl::StatusOr<Cidr> cidr = Cidr::Parse(text);
    if (!cidr.ok()) return cidr.status();
    settings.allowed_destinations.push_back(*cidr);
  }
  if (!hosts_file.empty()) {
    absl::StatusOr<std::string> text = ReadFile(hosts_file);
    if (!text.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot read ", hosts_file, ": ", text.status().message()));
    }
    absl::StatusOr<std::map<std::string, std::vector<std::string>>> hosts = ParseHostsFile(*text);
    if (!hosts.ok()) return hosts.status();
    settings.hosts = *std::move(hosts);
  }
  settings.own_ports = std::move(own_ports);
  return settings;
}

Proxy::Proxy(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

absl::StatusOr<std::unique_ptr<Proxy>> Proxy::Start(ProxySettings settings) {
  auto impl = std::make_unique<Impl>(std::move(settings));
  Impl* running = impl.get();
  running->thread = std::thread([running] {
    // A handler that throws (nothing should) costs its connection, not the proxy.
    for (;;) {
      try {
        running->io.run();
        return;
      } catch (const std::exception& e) {
        std::fprintf(stderr, "sandboxd proxy: %s\n", e.what());
      }
    }
  });
  return std::unique_ptr<Proxy>(new Proxy(std::move(impl)));
}

Proxy::~Proxy() {
  impl_->OnLoop([impl = impl_.get()] {
    while (!impl->shares.empty()) impl->CloseShare(impl->shares.begin()->first);
    return 0;
  });
  impl_->work.reset();
  impl_->io.stop();
  impl_->thread.join();
  impl_->resolvers.stop();
  impl_->resolvers.join();
}

absl::StatusOr<uint64_t> Proxy::Open(const Grant& grant, UniqueFd channel) {
  absl::StatusOr<DomainRules> rules = RulesOf(grant);
  if (!rules.ok()) return rules.status();
  uint64_t id = impl_->next_id.fetch_add(1);
  int fd = channel.Release();
  return impl_->OnLoop([&]() -> uint64_t {
    auto share = std::make_shared<RequestShare>(impl_->io, id, grant, *std::move(rules));
    share->channel.assign(fd);
    impl_->shares[id] = share;
    impl_->WaitForListener(share);
    return id;
  });
}

Report Proxy::Close(uint64_t id) {
  return impl_->OnLoop([&] { return impl_->CloseShare(id); });
}

std::string DescribeReach(const ProxySettings& settings) {
  std::vector<std::string> allowed;
  for (const Cidr& cidr : settings.allowed_destinations) allowed.push_back(cidr.ToString());
  return absl::StrCat("connects to public addresses not of this host",
                      allowed.empty() ? "" : absl::StrCat(", and ", absl::StrJoin(allowed, ", ")),
                      ", only");
}

std::string Proxy::Describe() const {
  return absl::StrCat("a thread of the server, which ", DescribeReach(impl_->settings));
}

}  // namespace sandboxd

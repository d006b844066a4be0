#ifndef SANDBOXD_SANDBOX_NET_DESTINATION_H_
#define SANDBOXD_SANDBOX_NET_DESTINATION_H_

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sandboxd {

// Where a proxy may connect, judged by the IP address it is about to connect to (after
// resolving, so that a name cannot lead it somewhere its rules would refuse). Throughout,
// an IPv4-mapped IPv6 address (::ffff:a.b.c.d) counts as the IPv4 address a.b.c.d.

// A range of IP addresses: "127.0.0.0/8", "fd00::/8", or one address.
struct Cidr {
  // The network in network byte order: an IPv4 one in the first 4 bytes, the rest zero.
  std::array<uint8_t, 16> bytes{};
  // Leading bits that count: 0..32 for IPv4, 0..128 for IPv6.
  int prefix = 0;
  bool v4 = false;

  // Reads "ADDRESS" or "ADDRESS/PREFIX" ("127.0.0.1", "127.0.0.0/8", "::1", "fd00::/8");
  // an address alone is a range of one. An IPv4-mapped address with a prefix of 96 or
  // more reads as the IPv4 range. INVALID_ARGUMENT, quoting `text`, for anything else:
  // no address, a bad prefix, bits set past the prefix ("10.1.0.0/8"), an IPv4-mapped
  // network with a prefix under 96.
  static absl::StatusOr<Cidr> Parse(absl::string_view text);

  // Whether the address of `addr` (AF_INET or AF_INET6; its port does not matter) lies in
  // the range. An IPv6 range holds no IPv4 address, mapped or not; other families are in
  // none.
  bool Contains(const sockaddr* addr) const;

  // The text Parse reads back: "127.0.0.0/8", "fd00::/8"; a range of one, the address
  // alone ("::1").
  std::string ToString() const;
};

enum class AddressClass {
  kPublic,
  kLoopback,     // 127.0.0.0/8, ::1.
  kPrivate,      // 10/8, 172.16/12, 192.168/16, 100.64/10 (shared CGNAT), fc00::/7.
  kLinkLocal,    // 169.254/16, fe80::/10.
  kMetadata,     // 169.254.169.254 and fd00:ec2::254, the clouds' instance metadata.
  kMulticast,    // 224/4, ff00::/8.
  kUnspecified,  // 0.0.0.0/8, ::.
  kReserved,     // 240/4 (with 255.255.255.255), 192.0.0.0/24, the documentation ranges
                 // 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 and 2001:db8::/32,
                 // 198.18.0.0/15, the discard prefix 100::/64, the rest of ::/8;
                 // and any family but AF_INET and AF_INET6.
};

// When `addr` is an IPv6 address that stands for an IPv4 one (IPv4-mapped, NAT64
// 64:ff9b::/96, 6to4 2002::/16), that IPv4 address into `out`, port 0; else false.
bool ReachedIpv4(const sockaddr* addr, sockaddr_in* out);

// The class of the address of `addr`; kPublic for every address of no other class. An
// IPv4-mapped, NAT64 (64:ff9b::/96) or 6to4 (2002::/16) address is classed as the IPv4
// address it reaches.
AddressClass Classify(const sockaddr* addr);

// A short phrase for messages: "a loopback address", "the cloud metadata address".
const char* Describe(AddressClass address_class);

// Whether a proxy may connect to `addr`: a public address always; any other only if one
// of `operator_allowed` (the ranges the operator opened, e.g. a package mirror on
// 10.0.0.5) contains it.
bool DestinationAllowed(const sockaddr* addr, const std::vector<Cidr>& operator_allowed);

// The address of `addr` without its port: "1.2.3.4", "::1"; an IPv4-mapped address as
// the IPv4 one. For another family, "address family N".
std::string AddressToString(const sockaddr* addr);

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_NET_DESTINATION_H_

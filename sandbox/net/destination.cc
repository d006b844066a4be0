#include "sandbox/net/destination.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace sandboxd {

namespace {

// An address as the checks see it: IPv4 (also IPv4-mapped IPv6) in the first 4 bytes.
struct Ip {
  std::array<uint8_t, 16> bytes{};
  bool v4 = false;
};

bool IsMapped(const uint8_t* v6) {
  static const uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(v6, kPrefix, sizeof(kPrefix)) == 0;
}

Ip FromV4(const void* raw) {
  Ip ip;
  ip.v4 = true;
  std::memcpy(ip.bytes.data(), raw, 4);
  return ip;
}

Ip FromV6(const void* raw) {
  const uint8_t* bytes = static_cast<const uint8_t*>(raw);
  if (IsMapped(bytes)) return FromV4(bytes + 12);
  Ip ip;
  std::memcpy(ip.bytes.data(), bytes, 16);
  return ip;
}

// Copies out of the sockaddr, which the caller may hold at any alignment.
bool ReadIp(const sockaddr* addr, Ip* ip) {
  if (addr == nullptr) return false;
  if (addr->sa_family == AF_INET) {
    sockaddr_in v4;
    std::memcpy(&v4, addr, sizeof(v4));
    *ip = FromV4(&v4.sin_addr);
    return true;
  }
  if (addr->sa_family == AF_INET6) {
    sockaddr_in6 v6;
    std::memcpy(&v6, addr, sizeof(v6));
    *ip = FromV6(&v6.sin6_addr);
    return true;
  }
  return false;
}

std::string IpToString(const Ip& ip) {
  char text[INET6_ADDRSTRLEN];
  if (inet_ntop(ip.v4 ? AF_INET : AF_INET6, ip.bytes.data(), text, sizeof(text)) == nullptr) {
    return "?";
  }
  return text;
}

// `bytes` with every bit past the first `prefix` cleared.
std::array<uint8_t, 16> Masked(std::array<uint8_t, 16> bytes, int prefix) {
  for (int i = 0; i < 16; ++i) {
    int keep = std::min(std::max(prefix - 8 * i, 0), 8);
    bytes[i] &= static_cast<uint8_t>(0xff00 >> keep);
  }
  return bytes;
}

bool InRange(const Ip& ip, const Cidr& cidr) {
  return ip.v4 == cidr.v4 && Masked(ip.bytes, cidr.prefix) == cidr.bytes;
}

absl::Status Invalid(absl::string_view text, absl::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat("address range \"", absl::CHexEscape(text), "\" ", problem));
}

// The prefix length `digits` spells, from 0 to `max`; -1 for anything else.
int ParsePrefix(absl::string_view digits, int max) {
  if (digits.empty() || digits.size() > 3) return -1;
  int prefix = 0;
  for (char c : digits) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return -1;
    prefix = prefix * 10 + (c - '0');
  }
  return prefix <= max ? prefix : -1;
}

// Reads an address alone into `cidr` (a range of one); false if `text` is none.
bool ParseAddress(const std::string& text, Cidr* cidr) {
  in_addr v4;
  in6_addr v6;
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    cidr->v4 = true;
    cidr->prefix = 32;
    std::memcpy(cidr->bytes.data(), &v4, 4);
    return true;
  }
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    cidr->v4 = false;
    cidr->prefix = 128;
    std::memcpy(cidr->bytes.data(), &v6, 16);
    return true;
  }
  return false;
}

// The special ranges, most specific first: the metadata addresses lie within the
// link-local and private ranges, ::1 and :: within ::/8.
const std::vector<std::pair<Cidr, AddressClass>>& SpecialRanges() {
  static const auto* ranges = [] {
    const std::pair<const char*, AddressClass> texts[] = {
        {"169.254.169.254", AddressClass::kMetadata},
        {"fd00:ec2::254", AddressClass::kMetadata},
        {"127.0.0.0/8", AddressClass::kLoopback},
        {"::1", AddressClass::kLoopback},
        {"0.0.0.0/8", AddressClass::kUnspecified},
        {"::", AddressClass::kUnspecified},
        {"10.0.0.0/8", AddressClass::kPrivate},
        {"172.16.0.0/12", AddressClass::kPrivate},
        {"192.168.0.0/16", AddressClass::kPrivate},
        {"100.64.0.0/10", AddressClass::kPrivate},
        {"fc00::/7", AddressClass::kPrivate},
        {"169.254.0.0/16", AddressClass::kLinkLocal},
        {"fe80::/10", AddressClass::kLinkLocal},
        {"224.0.0.0/4", AddressClass::kMulticast},
        {"ff00::/8", AddressClass::kMulticast},
        {"240.0.0.0/4", AddressClass::kReserved},
        {"192.0.0.0/24", AddressClass::kReserved},
        {"192.0.2.0/24", AddressClass::kReserved},
        {"198.18.0.0/15", AddressClass::kReserved},
        {"198.51.100.0/24", AddressClass::kReserved},
        {"203.0.113.0/24", AddressClass::kReserved},
        {"2001:db8::/32", AddressClass::kReserved},
        {"100::/64", AddressClass::kReserved},
        // IETF-reserved, including the deprecated IPv4-compatible ::a.b.c.d.
        {"::/8", AddressClass::kReserved},
    };
    auto* parsed = new std::vector<std::pair<Cidr, AddressClass>>;
    for (const auto& [text, address_class] : texts) {
      parsed->emplace_back(*Cidr::Parse(text), address_class);
    }
    return parsed;
  }();
  return *ranges;
}

}  // namespace

absl::StatusOr<Cidr> Cidr::Parse(absl::string_view text) {
  size_t slash = text.find('/');
  Cidr cidr;
  if (!ParseAddress(std::string(text.substr(0, slash)), &cidr)) {
    return Invalid(text, "holds no IP address; write e.g. 10.0.0.5, 10.0.0.0/8, ::1 or fd00::/8");
  }
  if (slash != absl::string_view::npos) {
    int max = cidr.prefix;
    cidr.prefix = ParsePrefix(text.substr(slash + 1), max);
    if (cidr.prefix < 0) {
      return Invalid(text, absl::StrCat("has a bad prefix; write /N with N from 0 to ", max));
    }
  }
  if (!cidr.v4 && IsMapped(cidr.bytes.data())) {
    if (cidr.prefix < 96) {
      return Invalid(text, "spans IPv4-mapped and other IPv6 addresses; write the IPv4 "
                           "range, e.g. 10.0.0.0/8");
    }
    Ip ip = FromV6(cidr.bytes.data());
    cidr = Cidr{ip.bytes, cidr.prefix - 96, true};
  }
  if (Masked(cidr.bytes, cidr.prefix) != cidr.bytes) {
    Cidr network = cidr;
    network.bytes = Masked(cidr.bytes, cidr.prefix);
    return Invalid(text, absl::StrCat("has bits set past its prefix; write ", network.ToString()));
  }
  return cidr;
}

bool Cidr::Contains(const sockaddr* addr) const {
  Ip ip;
  return ReadIp(addr, &ip) && InRange(ip, *this);
}

std::string Cidr::ToString() const {
  Ip ip;
  ip.bytes = bytes;
  ip.v4 = v4;
  std::string text = IpToString(ip);
  if (prefix != (v4 ? 32 : 128)) absl::StrAppend(&text, "/", prefix);
  return text;
}

// The IPv4 address that a NAT64 (64:ff9b::/96) or 6to4 (2002::/16) address reaches
// through a translator, which is what such an address stands for.
bool Embedded(const Ip& ip, Ip* v4) {
  static const uint8_t kNat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  if (ip.v4) return false;
  if (std::memcmp(ip.bytes.data(), kNat64, 12) == 0) {
    *v4 = FromV4(ip.bytes.data() + 12);
    return true;
  }
  if (ip.bytes[0] == 0x20 && ip.bytes[1] == 0x02) {
    *v4 = FromV4(ip.bytes.data() + 2);
    return true;
  }
  return false;
}

bool ReachedIpv4(const sockaddr* addr, sockaddr_in* out) {
  Ip ip;
  if (addr == nullptr || addr->sa_family != AF_INET6 || !ReadIp(addr, &ip)) return false;
  if (!ip.v4 && !Embedded(ip, &ip)) return false;  // ReadIp unmaps a mapped address.
  *out = sockaddr_in{};
  out->sin_family = AF_INET;
  std::memcpy(&out->sin_addr, ip.bytes.data(), 4);
  return true;
}

AddressClass Classify(const sockaddr* addr) {
  Ip ip;
  if (!ReadIp(addr, &ip)) return AddressClass::kReserved;
  if (Ip v4; Embedded(ip, &v4)) ip = v4;
  for (const auto& [range, address_class] : SpecialRanges()) {
    if (InRange(ip, range)) return address_class;
  }
  return AddressClass::kPublic;
}

const char* Describe(AddressClass address_class) {
  switch (address_class) {
    case AddressClass::kPublic:
      return "a public address";
    case AddressClass::kLoopback:
      return "a loopback address";
    case AddressClass::kPrivate:
      return "a private address";
    case AddressClass::kLinkLocal:
      return "a link-local address";
    case AddressClass::kMetadata:
      return "the cloud metadata address";
    case AddressClass::kMulticast:
      return "a multicast address";
    case AddressClass::kUnspecified:
      return "an unspecified address";
    case AddressClass::kReserved:
      return "a reserved address";
  }
  return "an unknown address";
}

bool DestinationAllowed(const sockaddr* addr, const std::vector<Cidr>& operator_allowed) {
  if (Classify(addr) == AddressClass::kPublic) return true;
  for (const Cidr& cidr : operator_allowed) {
    if (cidr.Contains(addr)) return true;
  }
  return false;
}

std::string AddressToString(const sockaddr* addr) {
  Ip ip;
  if (!ReadIp(addr, &ip)) {
    return absl::StrCat("address family ", addr == nullptr ? -1 : addr->sa_family);
  }
  return IpToString(ip);
}

}  // namespace sandboxd

#include "sandbox/net/destination.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/status/status.h"
#include "absl/strings/match.h"

namespace sandboxd {
namespace {

// A socket address for `text` ("1.2.3.4" or "::1") on port 443.
sockaddr_storage Addr(const std::string& text) {
  sockaddr_storage storage;
  std::memset(&storage, 0, sizeof(storage));
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if (inet_pton(AF_INET, text.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(443);
  } else if (inet_pton(AF_INET6, text.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(443);
  } else {
    ADD_FAILURE() << "not an address: " << text;
  }
  return storage;
}

const sockaddr* Sa(const sockaddr_storage& storage) {
  return reinterpret_cast<const sockaddr*>(&storage);
}

AddressClass ClassOf(const std::string& text) {
  sockaddr_storage storage = Addr(text);
  return Classify(Sa(storage));
}

Cidr C(absl::string_view text) {
  absl::StatusOr<Cidr> cidr = Cidr::Parse(text);
  EXPECT_TRUE(cidr.ok()) << text << ": " << cidr.status();
  return cidr.ok() ? *cidr : Cidr{};
}

bool Holds(absl::string_view cidr, const std::string& address) {
  sockaddr_storage storage = Addr(address);
  return C(cidr).Contains(Sa(storage));
}

TEST(ClassifyTest, KnowsEveryClass) {
  struct Case {
    const char* address;
    AddressClass expected;
  };
  for (const Case& c : std::vector<Case>{
           {"1.1.1.1", AddressClass::kPublic},
           {"8.8.8.8", AddressClass::kPublic},
           {"2606:4700::1111", AddressClass::kPublic},
           {"2001:4860:4860::8888", AddressClass::kPublic},
           {"127.0.0.1", AddressClass::kLoopback},
           {"127.255.255.254", AddressClass::kLoopback},
           {"::1", AddressClass::kLoopback},
           {"::ffff:127.0.0.1", AddressClass::kLoopback},
           {"10.0.0.1", AddressClass::kPrivate},
           {"10.255.255.255", AddressClass::kPrivate},
           {"172.15.255.255", AddressClass::kPublic},
           {"172.16.0.1", AddressClass::kPrivate},
           {"172.31.255.255", AddressClass::kPrivate},
           {"172.32.0.0", AddressClass::kPublic},
           {"192.168.1.1", AddressClass::kPrivate},
           {"100.63.255.255", AddressClass::kPublic},
           {"100.64.0.1", AddressClass::kPrivate},
           {"100.127.255.255", AddressClass::kPrivate},
           {"100.128.0.0", AddressClass::kPublic},
           {"fc00::1", AddressClass::kPrivate},
           {"fd12:3456::1", AddressClass::kPrivate},
           {"::ffff:10.1.2.3", AddressClass::kPrivate},
           {"169.254.169.254", AddressClass::kMetadata},
           {"::ffff:169.254.169.254", AddressClass::kMetadata},
           {"fd00:ec2::254", AddressClass::kMetadata},
           {"169.254.169.253", AddressClass::kLinkLocal},
           {"169.254.0.1", AddressClass::kLinkLocal},
           {"fe80::1", AddressClass::kLinkLocal},
           {"febf:ffff::1", AddressClass::kLinkLocal},
           {"fec0::1", AddressClass::kPublic},
           {"224.0.0.1", AddressClass::kMulticast},
           {"239.255.255.255", AddressClass::kMulticast},
           {"ff02::1", AddressClass::kMulticast},
           {"0.0.0.0", AddressClass::kUnspecified},
           {"0.1.2.3", AddressClass::kUnspecified},
           {"::", AddressClass::kUnspecified},
           {"::ffff:0.0.0.0", AddressClass::kUnspecified},
           {"240.0.0.1", AddressClass::kReserved},
           {"255.255.255.255", AddressClass::kReserved},
           {"192.0.0.8", AddressClass::kReserved},
           {"192.0.2.1", AddressClass::kReserved},
           {"198.18.0.1", AddressClass::kReserved},
           {"198.19.255.255", AddressClass::kReserved},
           {"198.20.0.0", AddressClass::kPublic},
           {"198.51.100.7", AddressClass::kReserved},
           {"203.0.113.9", AddressClass::kReserved},
           {"2001:db8::1", AddressClass::kReserved},
           {"100::1", AddressClass::kReserved},
           {"100:0:0:1::1", AddressClass::kPublic},  // Past the discard /64.
           {"::127.0.0.1", AddressClass::kReserved},  // IPv4-compatible, not mapped.
           // What a NAT64 or 6to4 address reaches is what it is.
           {"64:ff9b::a00:1", AddressClass::kPrivate},
           {"64:ff9b::7f00:1", AddressClass::kLoopback},
           {"64:ff9b::101:101", AddressClass::kPublic},
           {"2002:a9fe:a9fe::1", AddressClass::kMetadata},
           {"2002:808:808::1", AddressClass::kPublic},
       }) {
    EXPECT_EQ(ClassOf(c.address), c.expected) << c.address;
  }
}

TEST(ReachedIpv4Test, FindsTheIpv4AddressAnIpv6OneStandsFor) {
  for (const auto& [text, reached] : std::vector<std::pair<const char*, const char*>>{
           {"::ffff:10.1.2.3", "10.1.2.3"},
           {"64:ff9b::a01:203", "10.1.2.3"},
           {"2002:a01:203::1", "10.1.2.3"}}) {
    sockaddr_storage storage = Addr(text);
    sockaddr_in v4{};
    ASSERT_TRUE(ReachedIpv4(Sa(storage), &v4)) << text;
    EXPECT_EQ(AddressToString(reinterpret_cast<sockaddr*>(&v4)), reached);
  }
  sockaddr_in v4{};
  sockaddr_storage plain_v6 = Addr("2001:db8::1"), plain_v4 = Addr("10.1.2.3");
  EXPECT_FALSE(ReachedIpv4(Sa(plain_v6), &v4));
  EXPECT_FALSE(ReachedIpv4(Sa(plain_v4), &v4));
}

TEST(ClassifyTest, OtherFamiliesAreReserved) {
  sockaddr_un unix_addr{};
  unix_addr.sun_family = AF_UNIX;
  const sockaddr* addr = reinterpret_cast<const sockaddr*>(&unix_addr);
  EXPECT_EQ(Classify(addr), AddressClass::kReserved);
  EXPECT_FALSE(DestinationAllowed(addr, {C("::/0"), C("0.0.0.0/0")}));
  EXPECT_EQ(AddressToString(addr), "address family 1");
}

TEST(DescribeTest, GivesAPhrase) {
  EXPECT_STREQ(Describe(AddressClass::kLoopback), "a loopback address");
  EXPECT_STREQ(Describe(AddressClass::kMetadata), "the cloud metadata address");
  EXPECT_STREQ(Describe(AddressClass::kUnspecified), "an unspecified address");
  EXPECT_STREQ(Describe(AddressClass::kPublic), "a public address");
}

TEST(CidrTest, ParsesRanges) {
  struct Case {
    const char* text;
    int prefix;
    bool v4;
    const char* canonical;
  };
  for (const Case& c : std::vector<Case>{
           {"127.0.0.1", 32, true, "127.0.0.1"},
           {"127.0.0.1/32", 32, true, "127.0.0.1"},
           {"127.0.0.0/8", 8, true, "127.0.0.0/8"},
           {"0.0.0.0/0", 0, true, "0.0.0.0/0"},
           {"::1", 128, false, "::1"},
           {"fd00::/8", 8, false, "fd00::/8"},
           {"FE80::/10", 10, false, "fe80::/10"},
           {"::/0", 0, false, "::/0"},
           {"::ffff:10.0.0.0/104", 8, true, "10.0.0.0/8"},
           {"::ffff:10.1.2.3", 32, true, "10.1.2.3"},
       }) {
    Cidr cidr = C(c.text);
    EXPECT_EQ(cidr.prefix, c.prefix) << c.text;
    EXPECT_EQ(cidr.v4, c.v4) << c.text;
    EXPECT_EQ(cidr.ToString(), c.canonical) << c.text;
    EXPECT_EQ(C(cidr.ToString()).ToString(), c.canonical) << c.text;  // Reads back.
  }
}

TEST(CidrTest, RefusesBadRanges) {
  struct Case {
    const char* text;
    const char* says;
  };
  for (const Case& c : std::vector<Case>{
           {"", "no IP address"},
           {"localhost", "no IP address"},
           {"10.0.0", "no IP address"},
           {"10.0.0.256", "no IP address"},
           {"/8", "no IP address"},
           {"[::1]", "no IP address"},
           {"10.0.0.0/", "bad prefix"},
           {"10.0.0.0/33", "bad prefix"},
           {"10.0.0.0/-1", "bad prefix"},
           {"10.0.0.0/8/8", "bad prefix"},
           {"10.0.0.0/ 8", "bad prefix"},
           {"::/129", "bad prefix"},
           {"10.1.0.0/8", "write 10.0.0.0/8"},
           {"fd00::1/8", "write fd00::/8"},
           {"::ffff:0:0/80", "IPv4-mapped"},
       }) {
    absl::StatusOr<Cidr> cidr = Cidr::Parse(c.text);
    ASSERT_FALSE(cidr.ok()) << c.text;
    EXPECT_EQ(cidr.status().code(), absl::StatusCode::kInvalidArgument) << c.text;
    std::string message(cidr.status().message());
    EXPECT_TRUE(absl::StrContains(message, std::string("\"") + c.text + "\"")) << message;
    EXPECT_TRUE(absl::StrContains(message, c.says)) << message;
  }
}

TEST(CidrTest, ContainsUpToThePrefixBoundary) {
  struct Case {
    const char* cidr;
    const char* address;
    bool contains;
  };
  for (const Case& c : std::vector<Case>{
           {"0.0.0.0/0", "1.2.3.4", true},
           {"0.0.0.0/0", "255.255.255.255", true},
           {"0.0.0.0/0", "::1", false},  // A v4 range holds no IPv6 address.
           {"127.0.0.0/8", "127.0.0.0", true},
           {"127.0.0.0/8", "127.255.255.255", true},
           {"127.0.0.0/8", "126.255.255.255", false},
           {"127.0.0.0/8", "128.0.0.0", false},
           {"127.0.0.0/8", "::ffff:127.1.2.3", true},  // Mapped counts as IPv4.
           {"10.0.0.5/32", "10.0.0.5", true},
           {"10.0.0.5/32", "10.0.0.4", false},
           {"10.0.0.5/32", "10.0.0.6", false},
           {"172.16.0.0/12", "172.31.255.255", true},
           {"172.16.0.0/12", "172.32.0.0", false},
           {"::/0", "2001:db8::1", true},
           {"::/0", "::", true},
           {"::/0", "1.2.3.4", false},          // An IPv6 range holds no IPv4 address,
           {"::/0", "::ffff:1.2.3.4", false},   // mapped or not.
           {"::1/128", "::1", true},
           {"::1/128", "::2", false},
           {"::1/128", "::", false},
           {"fd00::/127", "fd00::", true},
           {"fd00::/127", "fd00::1", true},
           {"fd00::/127", "fd00::2", false},
           {"fd00::/8", "fdff:ffff::1", true},
           {"fd00::/8", "fc00::1", false},
           {"fd00::/8", "fe00::1", false},
       }) {
    EXPECT_EQ(Holds(c.cidr, c.address), c.contains) << c.cidr << " holds " << c.address;
  }
}

TEST(DestinationAllowedTest, PublicAlwaysOthersOnlyWhereTheOperatorAllows) {
  sockaddr_storage public_addr = Addr("93.184.216.34");
  sockaddr_storage mirror = Addr("10.0.0.5");
  sockaddr_storage other_private = Addr("10.0.0.6");
  sockaddr_storage metadata = Addr("169.254.169.254");
  sockaddr_storage mapped_loopback = Addr("::ffff:127.0.0.1");
  sockaddr_storage v6_loopback = Addr("::1");

  EXPECT_TRUE(DestinationAllowed(Sa(public_addr), {}));
  // Without an allowance, none but the public address (the control).
  for (const sockaddr_storage* addr : {&mirror, &other_private, &metadata, &mapped_loopback,
                                       &v6_loopback}) {
    EXPECT_FALSE(DestinationAllowed(Sa(*addr), {})) << AddressToString(Sa(*addr));
  }
  std::vector<Cidr> allowed = {C("10.0.0.5"), C("127.0.0.0/8")};
  EXPECT_TRUE(DestinationAllowed(Sa(public_addr), allowed));
  EXPECT_TRUE(DestinationAllowed(Sa(mirror), allowed));
  EXPECT_TRUE(DestinationAllowed(Sa(mapped_loopback), allowed));
  EXPECT_FALSE(DestinationAllowed(Sa(other_private), allowed));
  EXPECT_FALSE(DestinationAllowed(Sa(metadata), allowed));
  EXPECT_FALSE(DestinationAllowed(Sa(v6_loopback), allowed));  // 127/8 is IPv4 only.
  EXPECT_TRUE(DestinationAllowed(Sa(metadata), {C("169.254.169.254")}));
}

TEST(AddressToStringTest, PrintsTheAddressWithoutPort) {
  for (const char* text : {"1.2.3.4", "::1", "2001:db8::1", "fe80::1"}) {
    sockaddr_storage storage = Addr(text);
    EXPECT_EQ(AddressToString(Sa(storage)), text);
  }
  sockaddr_storage mapped = Addr("::ffff:127.0.0.1");
  EXPECT_EQ(AddressToString(Sa(mapped)), "127.0.0.1");
}

}  // namespace
}  // namespace sandboxd

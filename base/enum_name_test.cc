#include "base/enum_name.h"

#include <gtest/gtest.h>

#include "sandbox/v1/sandbox.pb.h"

namespace sandboxd {
namespace {

namespace v1 = ::sandbox::v1;

TEST(LogNameTest, DropsThePrefixEveryValueShares) {
  EXPECT_EQ(LogName(v1::BACKEND_BWRAP), "bwrap");
  EXPECT_EQ(LogName(v1::SECCOMP_PROXY_ROUTED), "proxy_routed");
  EXPECT_EQ(LogName(v1::NETWORK_ENABLED), "enabled");
}

TEST(LogNameTest, KeepsNamesWithoutASharedPrefix) {
  EXPECT_EQ(LogName(v1::READ_ONLY), "read_only");
  EXPECT_EQ(LogName(v1::EXITED), "exited");
  EXPECT_EQ(LogName(v1::TIMED_OUT), "timed_out");
  EXPECT_EQ(LogName(v1::SETUP_FAILED), "setup_failed");
}

TEST(LogNameTest, ANumberTheEnumDoesNotNameIsUnknown) {
  EXPECT_EQ(LogName(static_cast<v1::Termination>(99)), "unknown");
}

}  // namespace
}  // namespace sandboxd

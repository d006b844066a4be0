#include "sandbox/host_features.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sandboxd {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

// The machines this project runs its tests on have every feature (see deploy/README.md);
// a host without one fails here, which says which.
TEST(HostFeaturesTest, FindsEverythingOnASupportedHost) {
  HostFeatures features = DetectHostFeatures("/usr/bin/bwrap");
  EXPECT_THAT(features.bwrap_version, HasSubstr("bubblewrap"));
  EXPECT_TRUE(features.user_namespaces);
  EXPECT_TRUE(features.proc_mount);
  EXPECT_GE(features.landlock_abi, 1);
  EXPECT_TRUE(features.seccomp);
  EXPECT_THAT(features.notes, IsEmpty());
}

TEST(HostFeaturesTest, MissingBwrapIsReported) {
  HostFeatures features = DetectHostFeatures("/nonexistent/bwrap");
  EXPECT_FALSE(features.user_namespaces);
  EXPECT_FALSE(features.proc_mount);
  ASSERT_FALSE(features.notes.empty());
  EXPECT_THAT(features.notes[0], HasSubstr("bwrap does not run at /nonexistent/bwrap"));
}

}  // namespace
}  // namespace sandboxd

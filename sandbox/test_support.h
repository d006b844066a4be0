#ifndef SANDBOXD_SANDBOX_TEST_SUPPORT_H_
#define SANDBOXD_SANDBOX_TEST_SUPPORT_H_

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "sandbox/cgroup.h"

// What the sandbox/ unit tests share.

namespace sandboxd {

// The descriptors this process has open.
int OpenFdCount();

// The sandboxd-launch of the test's runfiles.
std::string LauncherPath();

// Why no launcher can make a network namespace of its own here, for GTEST_SKIP; empty
// when one can (as on CI, which runs as root).
std::string WhyNoPrivateNetns();

// A plain directory laid out like a cgroup v2 parent, removed after the test: the files
// the kernel would provide are whatever the test writes, and joining one is a write
// into a file.
class CgroupDirTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  std::string dir_;
  std::unique_ptr<CgroupParent> parent_;
};

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_TEST_SUPPORT_H_

#ifndef SANDBOXD_SANDBOX_TEST_SUPPORT_H_
#define SANDBOXD_SANDBOX_TEST_SUPPORT_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/time/time.h"
#include "sandbox/launcher/cgroup.h"
#include "sandbox/policy/open_path.h"
#include "sandbox/launcher/prestarted_launcher.h"
#include "sandbox/exec/worker.h"

// What the sandbox/ unit tests share.

namespace sandboxd {

// The descriptors this process has open.
int OpenFdCount();

// The paths of `open`, each checked to be held where it was opened (when held).
std::vector<std::string> PathsOf(const std::vector<OpenPath>& open);

// The sandboxd-launch of the test's runfiles.
std::string LauncherPath();

// Why no launcher can make a network namespace of its own here, for GTEST_SKIP; empty
// when one can (as on CI, which runs as root).
std::string WhyNoPrivateNetns();

// A launch of `command` through `launcher`, with what `order` asks besides, 20 s and
// 1 MiB of output per stream.
Launch Through(PrestartedLauncher* launcher, LaunchOrder order,
               const std::vector<std::string>& command);

// A command that leaves a TCP connection in TIME_WAIT in its network namespace (for
// a minute): its client's end, closed first.
std::vector<std::string> LeaveTimeWaitCommand();

// Polls `condition` until it holds, for up to `wait`; whether it held.
bool Within(absl::Duration wait, const std::function<bool()>& condition);

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

#include "sandbox/test_support.h"

#include <dirent.h>
#include <stdlib.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "sandbox/launcher/launch_order.h"
#include "sandbox/launcher/prestarted_launcher.h"

namespace sandboxd {

std::vector<std::string> PathsOf(const std::vector<OpenPath>& open) {
  std::vector<std::string> paths;
  for (const OpenPath& path : open) {
    if (path.fd != nullptr) EXPECT_EQ(FdPath(path.fd->get()), path.path);
    paths.push_back(path.path);
  }
  return paths;
}

int OpenFdCount() {
  int count = 0;
  DIR* dir = opendir("/proc/self/fd");
  while (readdir(dir) != nullptr) ++count;
  closedir(dir);
  return count;
}

std::string LauncherPath() {
  const char* root = std::getenv("TEST_SRCDIR");
  return absl::StrCat(root != nullptr ? root : ".", "/sandboxd/sandbox/launcher/sandboxd-launch");
}

std::string WhyNoPrivateNetns() {
  absl::Status can = PrestartedLauncher::CanMakeNetns({LauncherPath()});
  return can.ok() ? "" : absl::StrCat("launchers cannot make network namespaces here: ", can.ToString());
}

Launch Through(PrestartedLauncher* launcher, LaunchOrder order,
               const std::vector<std::string>& command) {
  Launch launch;
  *order.mutable_argv() = {command.begin(), command.end()};
  launch.argv = {LauncherPath()};
  std::vector<std::string> args = LauncherArgs(order);
  launch.argv.insert(launch.argv.end(), args.begin(), args.end());
  launch.order = std::move(order);
  launch.timeout = absl::Seconds(20);
  launch.output_limit = 1 << 20;
  launch.starter = launcher;
  return launch;
}

std::vector<std::string> LeaveTimeWaitCommand() {
  return {"/usr/bin/python3", "-c",
          "import socket; s = socket.create_server(('127.0.0.1', 0)); "
          "c = socket.create_connection(s.getsockname()); a, _ = s.accept(); "
          "c.close(); a.close()"};
}

bool Within(absl::Duration wait, const std::function<bool()>& condition) {
  absl::Time deadline = absl::Now() + wait;
  while (!condition()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

void CgroupDirTest::SetUp() {
  char tmpl[] = "/tmp/cgroup_dir_test.XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  dir_ = tmpl;
  parent_ = CgroupParent::V2At(dir_);
}

void CgroupDirTest::TearDown() { std::system(("rm -rf " + dir_).c_str()); }

}  // namespace sandboxd

#include "sandbox/test_support.h"

#include <dirent.h>
#include <stdlib.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "sandbox/prestarted_launcher.h"

namespace sandboxd {

int OpenFdCount() {
  int count = 0;
  DIR* dir = opendir("/proc/self/fd");
  while (readdir(dir) != nullptr) ++count;
  closedir(dir);
  return count;
}

std::string LauncherPath() {
  const char* root = std::getenv("TEST_SRCDIR");
  return absl::StrCat(root != nullptr ? root : ".", "/sandboxd/server/sandboxd-launch");
}

std::string WhyNoPrivateNetns() {
  absl::Status can = PrestartedLauncher::CanMakeNetns(LauncherPath());
  return can.ok() ? "" : absl::StrCat("launchers cannot make network namespaces here: ", can.ToString());
}

void CgroupDirTest::SetUp() {
  char tmpl[] = "/tmp/cgroup_dir_test.XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  dir_ = tmpl;
  parent_ = CgroupParent::V2At(dir_);
}

void CgroupDirTest::TearDown() { std::system(("rm -rf " + dir_).c_str()); }

}  // namespace sandboxd

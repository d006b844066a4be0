#include "sandbox/launcher/cgroup_reaper.h"

#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "sandbox/test_support.h"

// Against v2-shaped cgroups in a plain directory, where removing one is an rmdir.

namespace sandboxd {
namespace {

bool Exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

class CgroupReaperTest : public CgroupDirTest {
 protected:
  std::unique_ptr<Cgroup> Make(const std::string& name) {
    absl::StatusOr<std::unique_ptr<Cgroup>> cgroup = parent_->Create(name);
    EXPECT_TRUE(cgroup.ok()) << cgroup.status();
    return cgroup.ok() ? *std::move(cgroup) : nullptr;
  }
};

TEST_F(CgroupReaperTest, RemovesRetiredCgroupsInTheBackground) {
  CgroupReaper reaper;
  reaper.Retire(Make("one"));
  absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (Exists(dir_ + "/one") && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
  EXPECT_FALSE(Exists(dir_ + "/one"));
}

TEST_F(CgroupReaperTest, StoppingRemovesWhatIsStillQueued) {
  {
    CgroupReaper reaper;
    for (int i = 0; i < 20; ++i) reaper.Retire(Make(absl::StrCat("cmd-", i)));
  }
  for (int i = 0; i < 20; ++i) EXPECT_FALSE(Exists(absl::StrCat(dir_, "/cmd-", i))) << i;
}

}  // namespace
}  // namespace sandboxd

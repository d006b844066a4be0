#include "sandbox/launcher/cgroup.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

#include "base/read_file.h"
#include "sandbox/test_support.h"

// The v2 code against a plain directory laid out like cgroupfs: the files the kernel
// would provide are written by the test. v1 runs for real in tests/limits_test.cc.

namespace sandboxd {
namespace {

using CgroupV2Test = CgroupDirTest;

TEST_F(CgroupV2Test, CreatesAChildWithItsLimits) {
  EXPECT_EQ(parent_->Describe(), "cgroup v2 at " + dir_);
  absl::StatusOr<std::unique_ptr<Cgroup>> cgroup = parent_->Create("cmd-1");
  ASSERT_TRUE(cgroup.ok()) << cgroup.status();
  ASSERT_TRUE((*cgroup)->SetLimits(1 << 20, 32).ok());
  EXPECT_EQ(ReadFileOrEmpty(dir_ + "/cmd-1/memory.max"), "1048576");
  EXPECT_EQ(ReadFileOrEmpty(dir_ + "/cmd-1/memory.swap.max"), "0");
  EXPECT_EQ(ReadFileOrEmpty(dir_ + "/cmd-1/pids.max"), "32");
  EXPECT_EQ((*cgroup)->ProcsFiles(), std::vector<std::string>{dir_ + "/cmd-1/cgroup.procs"});
}

// A reused cgroup loses the limits of the command before.
TEST_F(CgroupV2Test, NoLimitsClearEarlierOnes) {
  absl::StatusOr<std::unique_ptr<Cgroup>> cgroup = parent_->Create("cmd-2");
  ASSERT_TRUE(cgroup.ok()) << cgroup.status();
  ASSERT_TRUE((*cgroup)->SetLimits(1 << 20, 32).ok());
  ASSERT_TRUE((*cgroup)->SetLimits(0, 0).ok());
  EXPECT_EQ(ReadFileOrEmpty(dir_ + "/cmd-2/memory.max"), "max");
  EXPECT_EQ(ReadFileOrEmpty(dir_ + "/cmd-2/memory.swap.max"), "max");
  EXPECT_EQ(ReadFileOrEmpty(dir_ + "/cmd-2/pids.max"), "max");
}

TEST_F(CgroupV2Test, ReadsUsageAndOomKills) {
  absl::StatusOr<std::unique_ptr<Cgroup>> cgroup = parent_->Create("cmd-3");
  ASSERT_TRUE(cgroup.ok()) << cgroup.status();
  std::ofstream(dir_ + "/cmd-3/cpu.stat") << "usage_usec 3500000\nuser_usec 3000000\nsystem_usec 500000\n";
  std::ofstream(dir_ + "/cmd-3/memory.peak") << "123456789\n";
  std::ofstream(dir_ + "/cmd-3/memory.events") << "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n";
  CgroupUsage usage = (*cgroup)->Usage();
  EXPECT_EQ(usage.user_cpu, absl::Seconds(3));
  EXPECT_EQ(usage.system_cpu, absl::Milliseconds(500));
  EXPECT_EQ(usage.peak_memory_bytes, 123456789u);
  EXPECT_TRUE(usage.oom_killed);
}

// After StartCounting, the CPU time and OOM kills since then, and the peak through the
// fd that restarted it.
TEST_F(CgroupV2Test, StartCountingRestartsTheFigures) {
  absl::StatusOr<std::unique_ptr<Cgroup>> cgroup = parent_->Create("cmd-4");
  ASSERT_TRUE(cgroup.ok()) << cgroup.status();
  std::ofstream(dir_ + "/cmd-4/cpu.stat") << "user_usec 3000000\nsystem_usec 500000\n";
  std::ofstream(dir_ + "/cmd-4/memory.events") << "oom_kill 1\n";
  ASSERT_TRUE((*cgroup)->StartCounting().ok());
  EXPECT_EQ(ReadFileOrEmpty(dir_ + "/cmd-4/memory.peak"), "reset\n");
  std::ofstream(dir_ + "/cmd-4/cpu.stat") << "user_usec 3250000\nsystem_usec 600000\n";
  std::ofstream(dir_ + "/cmd-4/memory.peak") << "4096\n";
  CgroupUsage usage = (*cgroup)->Usage();
  EXPECT_EQ(usage.user_cpu, absl::Milliseconds(250));
  EXPECT_EQ(usage.system_cpu, absl::Milliseconds(100));
  EXPECT_EQ(usage.peak_memory_bytes, 4096u);
  EXPECT_FALSE(usage.oom_killed);
  std::ofstream(dir_ + "/cmd-4/memory.events") << "oom_kill 2\n";
  EXPECT_TRUE((*cgroup)->Usage().oom_killed);
}

TEST_F(CgroupV2Test, RemovesOnlyTheStaleEmptyChildren) {
  for (const char* name : {"old-1", "old-2", "current-1"}) {
    ASSERT_EQ(mkdir((dir_ + "/" + name).c_str(), 0755), 0);
  }
  // A plain directory with a file in it stands for a cgroup with processes.
  std::ofstream(dir_ + "/old-2/cgroup.procs") << "123\n";
  int removed = parent_->RemoveStale(
      [](const std::string& name) { return name.rfind("old-", 0) == 0; });
  EXPECT_EQ(removed, 1);
  EXPECT_NE(access((dir_ + "/old-1").c_str(), F_OK), 0);
  EXPECT_EQ(access((dir_ + "/old-2").c_str(), F_OK), 0);
  EXPECT_EQ(access((dir_ + "/current-1").c_str(), F_OK), 0);
}

TEST_F(CgroupV2Test, ExistingNameIsAnError) {
  ASSERT_EQ(mkdir((dir_ + "/taken").c_str(), 0755), 0);
  EXPECT_FALSE(parent_->Create("taken").ok());
}

}  // namespace
}  // namespace sandboxd

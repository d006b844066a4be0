#include "base/remove_tree.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "base/unique_fd.h"

namespace sandboxd {
namespace {

class RemoveTreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = std::string(std::getenv("TEST_TMPDIR")) + "/tree.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    parent_.Reset(open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(parent_.valid());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string dir_;
  UniqueFd parent_;
};

// Deeper than the descriptors the process may hold: a walk that keeps one open per
// level could not finish.
TEST_F(RemoveTreeTest, ATreeDeeperThanTheDescriptorLimitGoes) {
  constexpr int kDepth = 3000;
  ASSERT_EQ(mkdirat(parent_.get(), "deep", 0700), 0);
  UniqueFd level(openat(parent_.get(), "deep", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  for (int i = 0; i < kDepth; ++i) {
    ASSERT_EQ(mkdirat(level.get(), "d", 0700), 0);
    int file = openat(level.get(), "f", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    ASSERT_GE(file, 0);
    close(file);
    level.Reset(openat(level.get(), "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(level.valid());
  }
  level.Reset();
  rlimit before {};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &before), 0);
  rlimit few = before;
  few.rlim_cur = 64;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &few), 0);
  RemoveTree(parent_.get(), "deep");
  setrlimit(RLIMIT_NOFILE, &before);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/deep"));
}

TEST_F(RemoveTreeTest, ASymlinkIsRemovedNotFollowed) {
  std::filesystem::create_directories(dir_ + "/outside");
  std::ofstream(dir_ + "/outside/precious") << "keep";
  std::filesystem::create_directories(dir_ + "/tree/sub");
  std::ofstream(dir_ + "/tree/sub/mine") << "go";
  for (int i = 0; i < 2000; ++i) std::ofstream(dir_ + "/tree/many" + std::to_string(i));
  std::filesystem::create_directory_symlink(dir_ + "/outside", dir_ + "/tree/sub/link");
  std::filesystem::create_symlink(dir_ + "/outside/precious", dir_ + "/tree/file-link");
  RemoveTree(parent_.get(), "tree");
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/tree"));
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/outside/precious"));
}

// A server that is not root owns what its commands made, and takes back what they
// locked it out of: the removal runs as the tree's owner, an unprivileged user.
TEST_F(RemoveTreeTest, DirectoriesMadeUnreadableOrUnwritableGoToo) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root, to remove the tree as another user";
  constexpr uid_t kOwner = 65534;
  std::filesystem::create_directories(dir_ + "/tree/locked/inner");
  std::ofstream(dir_ + "/tree/locked/inner/f") << "x";
  std::filesystem::create_directories(dir_ + "/tree/sealed");
  std::ofstream(dir_ + "/tree/sealed/g") << "y";
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_)) {
    ASSERT_EQ(lchown(entry.path().c_str(), kOwner, kOwner), 0);
  }
  ASSERT_EQ(chown(dir_.c_str(), kOwner, kOwner), 0);
  ASSERT_EQ(chmod((dir_ + "/tree/locked").c_str(), 0), 0);
  ASSERT_EQ(chmod((dir_ + "/tree/sealed").c_str(), 0500), 0);
  // In a child of its own (the test is single-threaded), through the descriptor alone.
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (setgid(kOwner) != 0 || setuid(kOwner) != 0) _exit(2);
    RemoveTree(parent_.get(), "tree");
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/tree"));
}

}  // namespace
}  // namespace sandboxd

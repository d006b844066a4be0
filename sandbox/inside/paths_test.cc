#include "sandbox/inside/paths.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "sandbox/inside/test_support.h"

namespace sandboxd {
namespace {

TEST(CheckPathTest, TakesPlainAbsolutePaths) {
  for (const char* path : {"/", "/a", "/a/b.c", "/a/..b", "/a/.b/c", "/..."}) {
    EXPECT_TRUE(CheckPath(path).ok()) << path;
  }
}

TEST(CheckPathTest, RefusesRelativeEmptyDotAndDotDotComponents) {
  for (const char* path :
       {"", "a", "a/b", "/a/", "//a", "/a//b", "/.", "/..", "/a/./b", "/a/../b", "/a/.."}) {
    HelperStatus status = CheckPath(path);
    EXPECT_EQ(status.exit, kHelperInvalidArgument) << path;
    EXPECT_NE(status.message.find(path), std::string::npos) << status.message;
  }
}

TEST(SplitPathTest, CutsBeforeTheLastComponent) {
  ParentAndName split = SplitPath("/a/b/c");
  EXPECT_EQ(split.parent, "/a/b");
  EXPECT_EQ(split.name, "c");
  split = SplitPath("/a");
  EXPECT_EQ(split.parent, "/");
  EXPECT_EQ(split.name, "a");
  split = SplitPath("/");
  EXPECT_EQ(split.parent, "/");
  EXPECT_EQ(split.name, "");
  EXPECT_EQ(JoinPath("/", "a"), "/a");
  EXPECT_EQ(JoinPath("/a", "b"), "/a/b");
}

class OpenDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    umask(0);
    ASSERT_EQ(mkdir((dir_ / "real").c_str(), 0755), 0);
    ASSERT_EQ(mkdir((dir_ / "real/sub").c_str(), 0755), 0);
    ASSERT_EQ(symlink("real", (dir_ / "link").c_str()), 0);
  }

  // Whether `fd` is the directory `path`.
  static bool Is(const UniqueFd& fd, const std::string& path) {
    struct stat by_fd {};
    struct stat by_path {};
    return fstat(fd.get(), &by_fd) == 0 && stat(path.c_str(), &by_path) == 0 &&
           by_fd.st_ino == by_path.st_ino && by_fd.st_dev == by_path.st_dev;
  }

  TempDir dir_;
};

TEST_F(OpenDirectoryTest, OpensTheRealPath) {
  UniqueFd fd;
  ASSERT_TRUE(OpenDirectoryNoSymlinks(dir_ / "real/sub", false, "p", fd).ok());
  EXPECT_TRUE(Is(fd, dir_ / "real/sub"));
}

TEST_F(OpenDirectoryTest, RefusesASymlinkOnTheWay) {
  UniqueFd fd;
  HelperStatus status = OpenDirectoryNoSymlinks(dir_ / "link/sub", false, "/the/path", fd);
  EXPECT_EQ(status.exit, kHelperFailedPrecondition);
  EXPECT_EQ(status.message.rfind("/the/path: a symlink on the way", 0), 0u) << status.message;
  EXPECT_FALSE(fd.valid());
  // The last component too.
  EXPECT_EQ(OpenDirectoryNoSymlinks(dir_ / "link", false, "p", fd).exit, kHelperFailedPrecondition);
}

TEST_F(OpenDirectoryTest, MissingIsNotFoundUnlessMade) {
  UniqueFd fd;
  EXPECT_EQ(OpenDirectoryNoSymlinks(dir_ / "real/x/y", false, "p", fd).exit, kHelperNotFound);
  ASSERT_TRUE(OpenDirectoryNoSymlinks(dir_ / "real/x/y", true, "p", fd).ok());
  EXPECT_TRUE(Is(fd, dir_ / "real/x/y"));
  struct stat st {};
  ASSERT_EQ(stat((dir_ / "real/x").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);  // The helper's umask is 0.
}

TEST_F(OpenDirectoryTest, MakingMissingOnesRefusesASymlinkOnTheWay) {
  UniqueFd fd;
  EXPECT_EQ(OpenDirectoryNoSymlinks(dir_ / "link/new/y", true, "p", fd).exit,
            kHelperFailedPrecondition);
  EXPECT_NE(access((dir_ / "real/new").c_str(), F_OK), 0);  // Nothing made through it.
  // The control: the same through the real path.
  EXPECT_TRUE(OpenDirectoryNoSymlinks(dir_ / "real/new/y", true, "p", fd).ok());
}

TEST_F(OpenDirectoryTest, AFileOnTheWayIsNotADirectory) {
  int file = open((dir_ / "real/file").c_str(), O_CREAT | O_WRONLY, 0644);
  ASSERT_GE(file, 0);
  close(file);
  UniqueFd fd;
  EXPECT_EQ(OpenDirectoryNoSymlinks(dir_ / "real/file/x", true, "p", fd).exit,
            kHelperFailedPrecondition);
}

}  // namespace
}  // namespace sandboxd

#include "sandbox/policy/open_path.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sandboxd {
namespace {

using ::testing::HasSubstr;

class OpenPathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/open_path_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_EQ(mkdir((dir_ + "/real").c_str(), 0755), 0);
    ASSERT_EQ(symlink("real", (dir_ + "/link").c_str()), 0);
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }
  std::string dir_;
};

TEST_F(OpenPathTest, OpensTheCanonicalPath) {
  absl::StatusOr<OpenPath> open = OpenCanonical(dir_ + "/link/.", "root", true);
  ASSERT_TRUE(open.ok()) << open.status();
  EXPECT_EQ(open->path, dir_ + "/real");
  EXPECT_EQ(FdPath(open->fd->get()), dir_ + "/real");
}

// What the descriptor names is what was checked, wherever the path leads later.
TEST_F(OpenPathTest, TheDescriptorStaysWithWhatWasChecked) {
  absl::StatusOr<OpenPath> open = OpenCanonical(dir_ + "/real", "root", true);
  ASSERT_TRUE(open.ok());
  ASSERT_EQ(rename((dir_ + "/real").c_str(), (dir_ + "/moved").c_str()), 0);
  ASSERT_EQ(symlink("/etc", (dir_ + "/real").c_str()), 0);
  EXPECT_EQ(FdPath(open->fd->get()), dir_ + "/moved");
}

TEST_F(OpenPathTest, RefusesWhatItCannotUse) {
  EXPECT_THAT(OpenCanonical("relative", "root", true).status().message(),
              HasSubstr("must be an absolute path"));
  EXPECT_THAT(OpenCanonical(dir_ + "/missing", "root", true).status().message(),
              HasSubstr("No such file or directory"));
  int fd = open((dir_ + "/file").c_str(), O_CREAT | O_WRONLY, 0644);
  close(fd);
  EXPECT_THAT(OpenCanonical(dir_ + "/file", "root", true).status().message(),
              HasSubstr("is not a directory"));
  EXPECT_TRUE(OpenCanonical(dir_ + "/file", "root", false).ok());
}

TEST_F(OpenPathTest, OpenChildFollowsNoSymlink) {
  absl::StatusOr<OpenPath> dir = OpenCanonical(dir_, "dir", true);
  ASSERT_TRUE(dir.ok());
  EXPECT_EQ(OpenChild(dir->fd->get(), "link"), -ELOOP);
  EXPECT_EQ(OpenChild(dir->fd->get(), "missing"), -ENOENT);
  int fd = OpenChild(dir->fd->get(), "real");
  ASSERT_GE(fd, 0);
  close(fd);
}

TEST(IsUnderTest, ComparesWholeComponents) {
  EXPECT_TRUE(IsUnder("/srv/work", "/srv/work"));
  EXPECT_TRUE(IsUnder("/srv/work/a", "/srv/work"));
  EXPECT_FALSE(IsUnder("/srv/work-b", "/srv/work"));
  EXPECT_TRUE(IsUnder("/anything", "/"));
}

}  // namespace
}  // namespace sandboxd

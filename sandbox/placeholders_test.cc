#include "sandbox/placeholders.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>

namespace sandboxd {
namespace {

class PlaceholdersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/placeholders_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }
  bool Exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

  std::string dir_;
  Placeholders placeholders_;
};

TEST_F(PlaceholdersTest, CreatedWhileHeldAndRemovedAfterTheLastUser) {
  std::string git = dir_ + "/.git";
  {
    Placeholders::Lease first = placeholders_.Acquire({git});
    EXPECT_TRUE(Exists(git));
    {
      Placeholders::Lease second = placeholders_.Acquire({git});
    }
    EXPECT_TRUE(Exists(git));  // Still held by the first.
  }
  EXPECT_FALSE(Exists(git));
}

TEST_F(PlaceholdersTest, LeavesWhatItDidNotCreate) {
  std::string existing = dir_ + "/existing";
  std::ofstream(existing).close();
  { Placeholders::Lease lease = placeholders_.Acquire({existing}); }
  EXPECT_TRUE(Exists(existing));
}

TEST_F(PlaceholdersTest, LeavesAFileThatGotContent) {
  std::string path = dir_ + "/.git";
  {
    Placeholders::Lease lease = placeholders_.Acquire({path});
    std::ofstream(path) << "written meanwhile";
  }
  EXPECT_TRUE(Exists(path));
}

}  // namespace
}  // namespace sandboxd

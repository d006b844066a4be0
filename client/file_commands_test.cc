#include "client/file_commands.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sandboxd {
namespace {

using ::testing::HasSubstr;
namespace v1 = ::sandbox::v1;

TEST(ParseCopyEndsTest, ExactlyOneSideIsTheSandbox) {
  absl::StatusOr<CopyEnds> up = ParseCopyEnds("./a.txt", ":/work/a.txt");
  ASSERT_TRUE(up.ok()) << up.status();
  EXPECT_TRUE(up->upload);
  EXPECT_EQ(up->local, "./a.txt");
  EXPECT_EQ(up->remote, "/work/a.txt");
  absl::StatusOr<CopyEnds> down = ParseCopyEnds(":/work/out.bin", "-");
  ASSERT_TRUE(down.ok()) << down.status();
  EXPECT_FALSE(down->upload);
  EXPECT_EQ(down->local, "-");
  EXPECT_EQ(down->remote, "/work/out.bin");
  EXPECT_THAT(ParseCopyEnds("a", "b").status().message(), HasSubstr("exactly one"));
  EXPECT_THAT(ParseCopyEnds(":/a", ":/b").status().message(), HasSubstr("exactly one"));
  EXPECT_FALSE(ParseCopyEnds(":", "b").ok());
}

TEST(FormatFileInfoTest, TypeModeSizeTimePathAndTarget) {
  v1::FileInfo info;
  info.set_path("/work/a.txt");
  info.set_type(v1::REGULAR);
  info.set_mode(0644);
  info.set_size(12);
  info.mutable_modified()->set_seconds(86400);
  EXPECT_EQ(FormatFileInfo(info), "- 0644 12 1970-01-02T00:00:00Z /work/a.txt");
  info.set_type(v1::SYMLINK);
  info.set_mode(0777);
  info.set_symlink_target("a.txt");
  EXPECT_EQ(FormatFileInfo(info), "l 0777 12 1970-01-02T00:00:00Z /work/a.txt -> a.txt");
  info.set_type(v1::DIRECTORY);
  EXPECT_EQ(FormatFileInfo(info)[0], 'd');
}

ParsedArgs Parse(const std::vector<std::string>& words) {
  absl::StatusOr<ParsedArgs> args = ParseArgs(words, FileScopeOptions(), true);
  EXPECT_TRUE(args.ok()) << args.status();
  return *args;
}

TEST(BuildFileScopeTest, APolicyOnlyWhenOneIsNamed) {
  absl::StatusOr<v1::FileScope> session = BuildFileScope(Parse({"--session=s-1", "/tmp/x"}));
  ASSERT_TRUE(session.ok()) << session.status();
  EXPECT_EQ(session->session_id(), "s-1");
  EXPECT_FALSE(session->has_policy());  // The session's own.
  absl::StatusOr<v1::FileScope> writable =
      BuildFileScope(Parse({"--mode=workspace-write", "--writable=/work"}));
  ASSERT_TRUE(writable.ok()) << writable.status();
  EXPECT_EQ(writable->policy().mode(), v1::WORKSPACE_WRITE);
  EXPECT_EQ(writable->policy().writable_roots(0), "/work");
  EXPECT_FALSE(BuildFileScope(Parse({"--mode=rw"})).ok());
}

TEST(SandboxPathTest, TheColonIsOptional) {
  EXPECT_EQ(SandboxPath(":/work"), "/work");
  EXPECT_EQ(SandboxPath("/work"), "/work");
}

}  // namespace
}  // namespace sandboxd

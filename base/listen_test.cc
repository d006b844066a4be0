#include "base/listen.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sandboxd {
namespace {

using ::testing::HasSubstr;

TEST(ParseListenAddressTest, AcceptsUnixSocketsAndLoopback) {
  for (const char* flag : {"unix:/run/x.sock", "127.0.0.1:50051", "127.1.2.3:1",
                           "localhost:80", "[::1]:50051"}) {
    absl::StatusOr<ListenAddress> address = ParseListenAddress(flag);
    ASSERT_TRUE(address.ok()) << flag << ": " << address.status();
    EXPECT_EQ(address->uri, flag);
  }
  EXPECT_EQ(ParseListenAddress("unix:/run/x.sock")->unix_path, "/run/x.sock");
}

TEST(ParseListenAddressTest, RefusesWhatAnyoneCouldReach) {
  for (const char* flag : {"0.0.0.0:50051", "10.0.0.1:50051", "[::]:50051", "example.com:1"}) {
    absl::StatusOr<ListenAddress> address = ParseListenAddress(flag);
    ASSERT_FALSE(address.ok()) << flag;
    EXPECT_THAT(address.status().message(), HasSubstr("not a loopback address"));
  }
  EXPECT_TRUE(ParseListenAddress("0.0.0.0:50051", /*tls=*/true).ok());
  EXPECT_FALSE(ParseListenAddress("unix:relative.sock").ok());
  EXPECT_FALSE(ParseListenAddress("127.0.0.1").ok());
  EXPECT_FALSE(ParseListenAddress("127.0.0.1:99999").ok());
}

class PrepareUnixSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/listen_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }
  std::string dir_;
};

TEST_F(PrepareUnixSocketTest, CreatesAnOwnerOnlyDirectory) {
  ASSERT_TRUE(PrepareUnixSocket(dir_ + "/run/s.sock").ok());
  struct stat st;
  ASSERT_EQ(stat((dir_ + "/run").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST_F(PrepareUnixSocketTest, RefusesADirectoryOthersCanEnter) {
  chmod(dir_.c_str(), 0755);
  absl::Status status = PrepareUnixSocket(dir_ + "/s.sock");
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("mode 0700"));
}

TEST_F(PrepareUnixSocketTest, NeverRemovesAFileThatIsNotASocket) {
  chmod(dir_.c_str(), 0700);
  std::string path = dir_ + "/precious";
  std::ofstream(path) << "data";
  EXPECT_FALSE(PrepareUnixSocket(path).ok());
  EXPECT_EQ(access(path.c_str(), F_OK), 0);
}

TEST_F(PrepareUnixSocketTest, RemovesAStaleSocket) {
  chmod(dir_.c_str(), 0700);
  std::string path = dir_ + "/stale.sock";
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, sizeof addr.sun_path - 1);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  close(fd);
  EXPECT_TRUE(PrepareUnixSocket(path).ok());
  EXPECT_NE(access(path.c_str(), F_OK), 0);
}

TEST_F(PrepareUnixSocketTest, AGroupGetsOnlyTheSearchRightOfTheDirectory) {
  SocketAccess access;
  access.group = getegid();
  ASSERT_TRUE(PrepareUnixSocket(dir_ + "/run/s.sock", access).ok());
  struct stat st;
  ASSERT_EQ(stat((dir_ + "/run").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0710u);
  EXPECT_EQ(st.st_gid, getegid());
  // The same directory is refused to a server without the group, and one the group
  // may write to is refused with it.
  EXPECT_FALSE(PrepareUnixSocket(dir_ + "/run/s.sock").ok());
  chmod((dir_ + "/run").c_str(), 0730);
  EXPECT_FALSE(PrepareUnixSocket(dir_ + "/run/s.sock", access).ok());
}

TEST(ParseSocketAccessTest, TakesNamesAndNumbers) {
  EXPECT_FALSE(ParseSocketAccess("").value().group.has_value());
  EXPECT_EQ(ParseSocketAccess("4242").value().group, 4242u);
  EXPECT_EQ(ParseSocketAccess("root").value().group, 0u);
  EXPECT_EQ(ParseSocketAccess("no-such-group-x").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sandboxd

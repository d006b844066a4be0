// sandboxd-launch's checks of a sandbox's binds, run for real: --expose, which binds
// each passed descriptor by itself where no command can swap it, and --verify, which
// checks, where the command would run, that each bind is at its place.

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "sandbox/policy/open_path.h"
#include "sandbox/plan/seccomp.h"
#include "sandbox/test_support.h"
#include "sandbox/exec/worker.h"

namespace sandboxd {
namespace {

using ::testing::HasSubstr;

RunResult RunLauncher(std::vector<std::string> argv, std::vector<SharedFd> passed = {}) {
  Launch launch;
  launch.argv = std::move(argv);
  launch.env = {"PATH=/usr/bin:/bin"};
  launch.timeout = absl::Seconds(20);
  launch.output_limit = 1 << 16;
  launch.passed_fds = std::move(passed);
  // Passed descriptors start after a seccomp filter's, which sandboxd-launch leaves to
  // what it execs.
  if (!launch.passed_fds.empty()) launch.seccomp_bpf = *CompileSeccompFilter(SeccompMode::SECCOMP_BASELINE);
  absl::StatusOr<RunResult> result = RunWorker(launch);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? *std::move(result) : RunResult(0);
}

class LaunchMainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/launch_main_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_EQ(mkdir((dir_ + "/work").c_str(), 0755), 0);
    ASSERT_EQ(mkdir((dir_ + "/binds").c_str(), 0700), 0);
    std::ofstream(dir_ + "/work/marker") << "the workspace\n";
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }
  std::string dir_;
};

// The control: the passed directory appears at DIR/0, and nowhere else but there does
// the command find it (its own mount namespace: the host's DIR stays empty).
TEST_F(LaunchMainTest, ExposesEachDescriptorInANamespaceOfItsOwn) {
  absl::StatusOr<OpenPath> work = OpenCanonical(dir_ + "/work", "work", true);
  ASSERT_TRUE(work.ok());
  RunResult result = RunLauncher({LauncherPath(), "--fds", "1", "--expose", dir_ + "/binds", "--",
                          "/bin/sh", "-c", absl::StrCat("cat ", dir_, "/binds/0/marker; test -e /proc/$$/fd/4 && echo fd4; true")},
                         {work->fd});
  EXPECT_EQ(result.exit_code, 0) << result.stderr_data.Contents();
  EXPECT_THAT(result.stdout_data.Contents(), HasSubstr("the workspace"));
  // The descriptor itself is closed: what runs gets the path, not a way around mounts.
  EXPECT_THAT(result.stdout_data.Contents(), ::testing::Not(HasSubstr("fd4")));
  RunResult unexposed = RunLauncher(
      {LauncherPath(), "--", "/bin/sh", "-c", "test -e /proc/$$/fd/4 && echo fd4; true"},
      {work->fd});
  EXPECT_EQ(unexposed.stdout_data.Contents(), "fd4\n");  // The same check can fail.
  struct stat st;
  EXPECT_NE(stat((dir_ + "/binds/0").c_str(), &st), 0);
}

// The attack: after the directory was checked and opened, its path came to lead to
// another object (here a tmpfs mounted over it; a swap for a symlink does it in the
// instant between the launcher reading the path and opening it). What the path leads
// to is not what was checked, so the command does not run.
TEST_F(LaunchMainTest, AnotherObjectAtTheDescriptorsPathStopsTheCommand) {
  absl::StatusOr<OpenPath> work = OpenCanonical(dir_ + "/work", "work", true);
  ASSERT_TRUE(work.ok());
  if (mount("tmpfs", (dir_ + "/work").c_str(), "tmpfs", 0, nullptr) != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here (" << std::strerror(errno)
                 << "); the test needs root, as CI has";
  }
  RunResult result = RunLauncher({LauncherPath(), "--fds", "1", "--expose", dir_ + "/binds", "--",
                          "/bin/echo", "ran"},
                         {work->fd});
  umount2((dir_ + "/work").c_str(), MNT_DETACH);
  EXPECT_EQ(result.exit_code, 126);
  EXPECT_EQ(result.stdout_data.Contents(), "");
  EXPECT_THAT(result.stderr_data.Contents(), HasSubstr("changed while the command was starting"));
}

// What --verify is given to expect, for `path` as it is now.
std::vector<std::string> Expect(const std::string& path, bool writable, bool wrong_ino = false) {
  struct stat st;
  EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
  return {writable ? "--rw" : "--ro", std::to_string(st.st_dev),
          std::to_string(st.st_ino + (wrong_ino ? 1 : 0)), path};
}

bool Writable(const std::string& path) {
  struct statvfs vfs;
  return statvfs(path.c_str(), &vfs) == 0 && (vfs.f_flag & ST_RDONLY) == 0;
}

RunResult Verify(const std::vector<std::string>& expected) {
  std::vector<std::string> argv = {LauncherPath(), "--verify"};
  argv.insert(argv.end(), expected.begin(), expected.end());
  argv.insert(argv.end(), {"--", "echo", "ran"});
  return RunLauncher(argv);
}

// The control: "/" is a mount's root, of the object it is, writable or not as it is.
TEST_F(LaunchMainTest, VerifyRunsTheCommandWhenEveryBindIsAsPlanned) {
  RunResult result = Verify(Expect("/", Writable("/")));
  EXPECT_EQ(result.exit_code, 0) << result.stderr_data.Contents();
  EXPECT_EQ(result.stdout_data.Contents(), "ran\n");
}

// Each way a bind can be off stops the command: another object, the wrong mode, and
// the right object seen through another mount rather than bound there (a directory
// that is no mount's root, as a bind that landed elsewhere leaves it).
TEST_F(LaunchMainTest, VerifyStopsTheCommandWhenABindIsNot) {
  for (const std::vector<std::string>& expected :
       {Expect("/", Writable("/"), /*wrong_ino=*/true), Expect("/", !Writable("/")),
        Expect(dir_ + "/work", Writable(dir_ + "/work"))}) {
    RunResult result = Verify(expected);
    EXPECT_EQ(result.exit_code, 126) << expected[3];
    EXPECT_EQ(result.stdout_data.Contents(), "");
    EXPECT_THAT(result.stderr_data.Contents(), HasSubstr("the sandbox is not as planned"));
  }
}

}  // namespace
}  // namespace sandboxd

#include "sandbox/plan/protection.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/time/clock.h"

#include "sandbox/test_support.h"

namespace sandboxd {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
namespace v1 = ::sandbox::v1;

bool IsEmptyReadOnlyDir(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return false;
  return (st.st_mode & 07777) == 0555 && st.st_nlink == 2;
}

bool Exists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

class ProtectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/protection_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    work_ = Mkdir("work");
    absl::StatusOr<std::unique_ptr<Placeholders>> placeholders = Placeholders::Open(dir_ + "/state");
    ASSERT_TRUE(placeholders.ok()) << placeholders.status();
    placeholders_ = *std::move(placeholders);
  }
  void TearDown() override {
    placeholders_.reset();
    std::system(("chmod -R u+w " + dir_ + "; rm -rf " + dir_).c_str());
  }

  std::string Mkdir(const std::string& name) {
    std::string path = dir_ + "/" + name;
    EXPECT_EQ(mkdir(path.c_str(), 0755), 0) << path;
    return path;
  }

  Policy WorkspaceWrite(std::function<void(v1::SandboxPolicy&)> edit = nullptr) {
    v1::SandboxPolicy proto;
    proto.set_mode(v1::WORKSPACE_WRITE);
    if (edit) edit(proto);
    absl::StatusOr<Policy> policy = Policy::Create(proto, work_, Config());
    EXPECT_TRUE(policy.ok()) << policy.status();
    return *std::move(policy);
  }

  absl::StatusOr<Protection> Protect(const Policy& policy, bool create = true) {
    return placeholders_->Protect(policy, create);
  }

  std::string dir_, work_;
  std::unique_ptr<Placeholders> placeholders_;
};

TEST_F(ProtectionTest, ExistingPathsAreHeldOpen) {
  Mkdir("work/.git");
  absl::StatusOr<Protection> protection = Protect(WorkspaceWrite());
  ASSERT_TRUE(protection.ok()) << protection.status();
  EXPECT_THAT(PathsOf(protection->read_only), ElementsAre(work_ + "/.git"));
  EXPECT_EQ(FdPath(protection->read_only[0].fd->get()), work_ + "/.git");
  EXPECT_EQ(protection->lease, nullptr);
}

// What `git status` prints on stderr in `dir`.
std::string GitSays(const std::string& dir) {
  std::string said;
  if (FILE* git = popen(("git -C " + dir + " status 2>&1 >/dev/null").c_str(), "r")) {
    char buf[512];
    for (size_t n; (n = fread(buf, 1, sizeof buf, git)) > 0;) said.append(buf, n);
    pclose(git);
  }
  return said;
}

// An absent .git gets an empty directory, mode 0555, for as long as a run holds it:
// git outside takes that for no repository, where an empty file would break it.
TEST_F(ProtectionTest, AbsentPathsGetAPlaceholderWhileHeld) {
  std::string git = work_ + "/.git";
  {
    absl::StatusOr<Protection> protection = Protect(WorkspaceWrite());
    ASSERT_TRUE(protection.ok()) << protection.status();
    EXPECT_THAT(PathsOf(protection->read_only), ElementsAre(git));
    EXPECT_TRUE(IsEmptyReadOnlyDir(git));
    EXPECT_EQ(std::system(("git -C " + work_ + " status >/dev/null 2>&1").c_str()) == 0,
              std::system(("git -C " + dir_ + " status >/dev/null 2>&1").c_str()) == 0)
        << "git in the workspace must behave as it does without the placeholder";
    // The exit status is 128 either way; what git says tells the two apart.
    EXPECT_EQ(GitSays(work_), GitSays(dir_));
    EXPECT_THAT(GitSays(dir_), HasSubstr("not a git repository"));
  }
  // The control: an empty file where .git is, what bwrap would need without a
  // directory, breaks git in the workspace.
  std::ofstream(git).close();
  EXPECT_THAT(GitSays(work_), HasSubstr("invalid gitfile format"));
  std::remove(git.c_str());
  EXPECT_FALSE(Exists(git));
}

// The failure this replaced: a second run took the first one's placeholder for a real
// .git, held nothing, and lost its cover when the first run removed it.
TEST_F(ProtectionTest, OverlappingRunsShareAPlaceholderUntilTheLastEnds) {
  std::string git = work_ + "/.git";
  std::optional<absl::StatusOr<Protection>> first = Protect(WorkspaceWrite());
  ASSERT_TRUE(first->ok());
  absl::StatusOr<Protection> second = Protect(WorkspaceWrite());
  ASSERT_TRUE(second.ok());
  ASSERT_NE(second->lease, nullptr);
  first.reset();
  EXPECT_TRUE(IsEmptyReadOnlyDir(git));
  second = absl::CancelledError("released");
  EXPECT_FALSE(Exists(git));
}

TEST_F(ProtectionTest, TheFirstMissingComponentIsCovered) {
  Mkdir("work/config");
  absl::StatusOr<Protection> protection = Protect(WorkspaceWrite([](v1::SandboxPolicy& p) {
    p.add_protected_names("config/secrets/key");
  }));
  ASSERT_TRUE(protection.ok()) << protection.status();
  EXPECT_THAT(PathsOf(protection->read_only),
              ElementsAre(work_ + "/.git", work_ + "/config/secrets"));
  // config is pinned: the command cannot rename it and rebuild it without the cover.
  EXPECT_THAT(PathsOf(protection->pinned), ElementsAre(work_ + "/config"));
}

TEST_F(ProtectionTest, GitWritesPinGitAndCoverConfigAndHooks) {
  Mkdir("work/.git");
  std::ofstream(work_ + "/.git/config") << "[core]\n";
  absl::StatusOr<Protection> protection =
      Protect(WorkspaceWrite([](v1::SandboxPolicy& p) { p.set_allow_git_writes(true); }));
  ASSERT_TRUE(protection.ok()) << protection.status();
  EXPECT_THAT(PathsOf(protection->pinned), ElementsAre(work_ + "/.git"));
  EXPECT_THAT(PathsOf(protection->read_only),
              ElementsAre(work_ + "/.git/config", work_ + "/.git/hooks"));
  EXPECT_TRUE(IsEmptyReadOnlyDir(work_ + "/.git/hooks"));
}

// Another run's placeholder covers what lies below it: nothing is made inside it.
TEST_F(ProtectionTest, APlaceholderCoversNamesBelowIt) {
  absl::StatusOr<Protection> plain = Protect(WorkspaceWrite());
  ASSERT_TRUE(plain.ok());
  absl::StatusOr<Protection> git_writes =
      Protect(WorkspaceWrite([](v1::SandboxPolicy& p) { p.set_allow_git_writes(true); }));
  ASSERT_TRUE(git_writes.ok()) << git_writes.status();
  EXPECT_THAT(PathsOf(git_writes->read_only), ElementsAre(work_ + "/.git"));
  EXPECT_THAT(git_writes->pinned, IsEmpty());
  EXPECT_TRUE(IsEmptyReadOnlyDir(work_ + "/.git"));
}

TEST_F(ProtectionTest, AProtectedSymlinkIsRefused) {
  ASSERT_EQ(symlink("/etc", (work_ + "/.git").c_str()), 0);
  absl::StatusOr<Protection> protection = Protect(WorkspaceWrite());
  EXPECT_EQ(protection.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(protection.status().message(), HasSubstr("is a symlink inside writable root"));
}

// A worktree's .git file names its git directory, which is kept read-only when a
// writable root holds it.
TEST_F(ProtectionTest, AWorktreesGitFileProtectsItsGitDir) {
  std::string git_dir = Mkdir("work/main-repo-git-dir");
  std::ofstream(work_ + "/.git") << "gitdir: main-repo-git-dir\n";
  absl::StatusOr<Protection> protection = Protect(WorkspaceWrite());
  ASSERT_TRUE(protection.ok()) << protection.status();
  EXPECT_THAT(PathsOf(protection->read_only), ElementsAre(git_dir, work_ + "/.git"));
}

// The file is the command's to write: one naming a directory outside the writable
// roots (another tenant's, /proc) gets nothing bound, which would show it.
TEST_F(ProtectionTest, AGitFileNamingADirectoryElsewhereBindsNothing) {
  std::string elsewhere = Mkdir("elsewhere");
  for (const std::string& line : {"gitdir: " + elsewhere, std::string("gitdir: /proc")}) {
    std::ofstream(work_ + "/.git") << line << "\n";
    absl::StatusOr<Protection> protection = Protect(WorkspaceWrite());
    ASSERT_TRUE(protection.ok()) << protection.status();
    EXPECT_THAT(PathsOf(protection->read_only), ElementsAre(work_ + "/.git")) << line;
  }
  // A sparse 2 GiB one is read no further than a path's length.
  ASSERT_EQ(truncate((work_ + "/.git").c_str(), int64_t{2} << 30), 0);
  absl::Time start = absl::Now();
  EXPECT_TRUE(Protect(WorkspaceWrite()).ok());
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(500));
}

TEST_F(ProtectionTest, WithoutCreateNothingIsMade) {
  absl::StatusOr<Protection> protection = Protect(WorkspaceWrite(), /*create=*/false);
  ASSERT_TRUE(protection.ok());
  EXPECT_THAT(PathsOf(protection->read_only), ElementsAre(work_ + "/.git"));
  EXPECT_EQ(protection->read_only[0].fd, nullptr);
  EXPECT_FALSE(Exists(work_ + "/.git"));
}

TEST_F(ProtectionTest, AStateDirectoryServesOneServer) {
  absl::StatusOr<std::unique_ptr<Placeholders>> second = Placeholders::Open(dir_ + "/state");
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(second.status().message(), HasSubstr("another running server's"));
  placeholders_.reset();
  EXPECT_TRUE(Placeholders::Open(dir_ + "/state").ok());
}

// A server killed while a run held a placeholder leaves it; the next one started with
// the same state directory removes it, and only if it is still the one made.
TEST_F(ProtectionTest, TheNextServerRemovesWhatAKilledOneLeft) {
  std::string other = Mkdir("other");
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // A server of its own, killed while both placeholders are held.
    absl::StatusOr<std::unique_ptr<Placeholders>> killed = Placeholders::Open(dir_ + "/state2");
    if (!killed.ok()) _exit(1);
    v1::SandboxPolicy proto;
    proto.set_mode(v1::WORKSPACE_WRITE);
    proto.add_writable_roots(other);
    absl::StatusOr<Policy> policy = Policy::Create(proto, work_, Config());
    if (!policy.ok()) _exit(2);
    static absl::StatusOr<Protection> held = (*killed)->Protect(*policy, true);
    _exit(held.ok() ? 0 : 3);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  ASSERT_TRUE(IsEmptyReadOnlyDir(work_ + "/.git"));
  ASSERT_TRUE(IsEmptyReadOnlyDir(other + "/.git"));
  // Replaced meanwhile by a directory of someone's: not the placeholder, so it stays.
  ASSERT_EQ(rmdir((other + "/.git").c_str()), 0);
  Mkdir("other/.git");
  absl::StatusOr<std::unique_ptr<Placeholders>> next = Placeholders::Open(dir_ + "/state2");
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(Exists(work_ + "/.git"));
  EXPECT_TRUE(Exists(other + "/.git"));
}

}  // namespace
}  // namespace sandboxd

// The file calls of the real helper, run on the host in a directory of the test's own.
// Every refusal has its control: the same call through the real path succeeds.

#include <dirent.h>
#include <fcntl.h>
#include <google/protobuf/io/coded_stream.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "sandbox/inside/protocol.h"
#include "sandbox/inside/test_support.h"
#include "sandbox/v1/sandbox.pb.h"

namespace sandboxd {
namespace {

using sandbox::v1::FileInfo;

std::string Read(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

void Put(const std::string& path, const std::string& content) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << content;
  ASSERT_TRUE(file.good()) << path;
}

bool Exists(const std::string& path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0;
}

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0 ? st.st_mode & 07777 : 0;
}

// The names in `dir`, sorted.
std::vector<std::string> Names(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return names;
  while (const dirent* entry = readdir(d)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

// The delimited FileInfo messages in `out`.
std::vector<FileInfo> Infos(const std::string& out) {
  std::vector<FileInfo> infos;
  google::protobuf::io::CodedInputStream input(reinterpret_cast<const uint8_t*>(out.data()),
                                               static_cast<int>(out.size()));
  uint32_t size = 0;
  while (input.ReadVarint32(&size)) {
    std::string bytes;
    FileInfo info;
    if (!input.ReadString(&bytes, static_cast<int>(size)) || !info.ParseFromString(bytes)) {
      ADD_FAILURE() << "a bad FileInfo in the output";
      break;
    }
    infos.push_back(info);
  }
  return infos;
}

std::vector<std::string> PathsOf(const std::vector<FileInfo>& infos) {
  std::vector<std::string> paths;
  for (const FileInfo& info : infos) paths.push_back(info.path());
  return paths;
}

std::string Data(const std::string& payload) { return MakeFrame(FrameType::kData, payload); }
std::string End() { return MakeFrame(FrameType::kEnd); }

class FileOpsTest : public ::testing::Test {
 protected:
  void SetUp() override { fds_before_ = OpenFdCount(); }
  void TearDown() override { EXPECT_EQ(OpenFdCount(), fds_before_) << "the test leaked fds"; }

  // Runs the helper; a failure must say why in one line, which starts with the path
  // (the server passes it on as the error's message), or with the helper's name for
  // bad usage.
  HelperRun Run(const std::vector<std::string>& args, const std::string& input = "") {
    HelperRun run = RunHelper(args, input);
    if (run.exit != 0) {
      EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << run.err;
      bool usage = run.err.rfind("sandboxd-helper: ", 0) == 0;
      bool path = run.err.rfind("/", 0) == 0 || run.err.rfind("\"", 0) == 0;
      EXPECT_TRUE(path || (usage && run.exit == kHelperInvalidArgument)) << run.err;
    } else {
      EXPECT_EQ(run.err, "");
    }
    return run;
  }

  // Makes `dir_/real` (a directory) and `dir_/link` (a symlink to it).
  void MakeRealAndLink() {
    ASSERT_EQ(mkdir((dir_ / "real").c_str(), 0755), 0);
    ASSERT_EQ(symlink(dir_.path().c_str(), (dir_ / "link").c_str()), 0);
  }

  TempDir dir_;
  int fds_before_ = 0;
};

// ---- read

TEST_F(FileOpsTest, ReadsAWholeFileOrARange) {
  Put(dir_ / "f", "0123456789");
  EXPECT_EQ(Run({"read", dir_ / "f", "0", "0"}).out, "0123456789");
  EXPECT_EQ(Run({"read", dir_ / "f", "2", "3"}).out, "234");
  EXPECT_EQ(Run({"read", dir_ / "f", "7", "0"}).out, "789");
  EXPECT_EQ(Run({"read", dir_ / "f", "8", "100"}).out, "89");
  HelperRun past = Run({"read", dir_ / "f", "100", "0"});
  EXPECT_EQ(past.exit, kHelperOk);
  EXPECT_EQ(past.out, "");
}

TEST_F(FileOpsTest, ReadsALargeFileExactly) {
  std::string content;
  for (int i = 0; content.size() < (5u << 20); ++i) content += std::to_string(i) + ",";
  Put(dir_ / "big", content);
  HelperRun run = Run({"read", dir_ / "big", "0", "0"});
  EXPECT_EQ(run.exit, kHelperOk);
  EXPECT_TRUE(run.out == content) << run.out.size() << " bytes, not " << content.size();
  run = Run({"read", dir_ / "big", "1000", "3000000"});
  EXPECT_TRUE(run.out == content.substr(1000, 3000000));
}

TEST_F(FileOpsTest, ReadFollowsSymlinksAsTheCommandWould) {
  Put(dir_ / "f", "through");
  ASSERT_EQ(symlink("f", (dir_ / "to-f").c_str()), 0);
  EXPECT_EQ(Run({"read", dir_ / "to-f", "0", "0"}).out, "through");
}

TEST_F(FileOpsTest, ReadRefusesWhatIsNotARegularFile) {
  ASSERT_EQ(mkfifo((dir_ / "fifo").c_str(), 0644), 0);  // No writer: an open would block.
  ASSERT_EQ(mkdir((dir_ / "dir").c_str(), 0755), 0);
  for (const std::string& path : {dir_ / "fifo", dir_ / "dir", std::string("/dev/null")}) {
    HelperRun run = Run({"read", path, "0", "0"});
    EXPECT_EQ(run.exit, kHelperFailedPrecondition) << path;
    EXPECT_NE(run.err.find(path + " is not a regular file"), std::string::npos) << run.err;
  }
  EXPECT_EQ(Run({"read", dir_ / "missing", "0", "0"}).exit, kHelperNotFound);
}

// ---- write

TEST_F(FileOpsTest, ReplacingIsAtomic) {
  Put(dir_ / "f", "old");
  std::string payload(1 << 20, 'n');
  HelperProcess helper({"write", dir_ / "f", "644", "-"});
  ASSERT_TRUE(helper.Send(Data(payload)));
  // The new bytes are in a file of the helper's, all of them, before kEnd...
  std::string fd_dir = "/proc/" + std::to_string(helper.pid()) + "/fd";
  EXPECT_TRUE(Within(absl::Milliseconds(5000), [&] {
    for (const std::string& fd : Names(fd_dir)) {
      struct stat st {};
      if (stat((fd_dir + "/" + fd).c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
          st.st_size == static_cast<off_t>(payload.size())) {
        return true;
      }
    }
    return false;
  }));
  // ...while the target is still the old file, and nothing else has a name.
  EXPECT_EQ(Read(dir_ / "f"), "old");
  EXPECT_EQ(Names(dir_.path()), std::vector<std::string>{"f"});
  ASSERT_TRUE(helper.Send(End()));
  helper.CloseStdin();
  ASSERT_EQ(helper.Wait(), kHelperOk) << helper.err();
  EXPECT_TRUE(Read(dir_ / "f") == payload);
  EXPECT_EQ(Names(dir_.path()), std::vector<std::string>{"f"});
  std::vector<FileInfo> infos = Infos(helper.out());
  ASSERT_EQ(infos.size(), 1u);
  EXPECT_EQ(infos[0].path(), dir_ / "f");
  EXPECT_EQ(infos[0].type(), sandbox::v1::REGULAR);
  EXPECT_EQ(infos[0].size(), payload.size());
  EXPECT_EQ(infos[0].mode(), 0644u);
}

TEST_F(FileOpsTest, InputEndingBeforeKEndLeavesTheTargetAndNoTemporaryFile) {
  Put(dir_ / "f", "old");
  HelperRun run = Run({"write", dir_ / "f", "644", "-"}, Data("new") + Data("more"));
  EXPECT_EQ(run.exit, kHelperAborted);
  EXPECT_EQ(Read(dir_ / "f"), "old");
  EXPECT_EQ(Names(dir_.path()), std::vector<std::string>{"f"});
  // A new file is not made either; not even a header's worth of input makes one.
  EXPECT_EQ(Run({"write", dir_ / "new", "644", "-"}, Data("new")).exit, kHelperAborted);
  EXPECT_EQ(Run({"write", dir_ / "new", "644", "-"}, "d\1").exit, kHelperAborted);
  EXPECT_EQ(Names(dir_.path()), std::vector<std::string>{"f"});
  // The control: with kEnd, the same input replaces it.
  EXPECT_EQ(Run({"write", dir_ / "f", "644", "-"}, Data("new") + Data("more") + End()).exit,
            kHelperOk);
  EXPECT_EQ(Read(dir_ / "f"), "newmore");
}

TEST_F(FileOpsTest, AMalformedFrameLeavesTheTarget) {
  Put(dir_ / "f", "old");
  EXPECT_EQ(Run({"write", dir_ / "f", "644", "-"}, Data("new") + std::string("z\0\0\0\0", 5)).exit,
            kHelperInvalidArgument);
  EXPECT_EQ(Run({"write", dir_ / "f", "644", "-"},
                MakeFrame(FrameType::kResize, ResizePayload(1, 1)) + End())
                .exit,
            kHelperInvalidArgument);
  EXPECT_EQ(Read(dir_ / "f"), "old");
  EXPECT_EQ(Names(dir_.path()), std::vector<std::string>{"f"});
}

TEST_F(FileOpsTest, WritesManyFramesAndLargeOnes) {
  std::string input, expected;
  for (int i = 0; i < 100; ++i) {
    std::string chunk(i * 997, static_cast<char>('a' + i % 26));
    input += Data(chunk);
    expected += chunk;
  }
  std::string large(kMaxFramePayload, 'L');
  input += Data(large) + End();
  expected += large;
  for (const char* flags : {"-", "a"}) {
    std::string path = dir_ / (std::string("f") + flags);
    HelperRun run = Run({"write", path, "600", flags}, input);
    ASSERT_EQ(run.exit, kHelperOk) << run.err;
    EXPECT_TRUE(Read(path) == expected) << flags;
    std::vector<FileInfo> infos = Infos(run.out);
    ASSERT_EQ(infos.size(), 1u);
    EXPECT_EQ(infos[0].size(), expected.size());
  }
}

TEST_F(FileOpsTest, AppendAddsToTheEnd) {
  Put(dir_ / "f", "abc");
  HelperRun run = Run({"write", dir_ / "f", "644", "a"}, Data("def") + Data("ghi") + End());
  ASSERT_EQ(run.exit, kHelperOk) << run.err;
  EXPECT_EQ(Read(dir_ / "f"), "abcdefghi");
  std::vector<FileInfo> infos = Infos(run.out);
  ASSERT_EQ(infos.size(), 1u);
  EXPECT_EQ(infos[0].size(), 9u);
  // It makes the file when there is none, with the mode asked for.
  ASSERT_EQ(Run({"write", dir_ / "new", "640", "a"}, Data("x") + End()).exit, kHelperOk);
  EXPECT_EQ(Read(dir_ / "new"), "x");
  EXPECT_EQ(ModeOf(dir_ / "new"), 0640u);
}

TEST_F(FileOpsTest, ExclusiveRefusesAnExistingTarget) {
  Put(dir_ / "f", "old");
  for (const char* flags : {"x", "ax"}) {
    HelperRun run = Run({"write", dir_ / "f", "644", flags}, Data("new") + End());
    EXPECT_EQ(run.exit, kHelperAlreadyExists) << flags;
    EXPECT_EQ(Read(dir_ / "f"), "old");
  }
  // A dangling symlink is something there too.
  ASSERT_EQ(symlink("nowhere", (dir_ / "dangling").c_str()), 0);
  EXPECT_EQ(Run({"write", dir_ / "dangling", "644", "x"}, Data("new") + End()).exit,
            kHelperAlreadyExists);
  EXPECT_FALSE(Exists(dir_ / "nowhere"));
  // The control: a new name.
  for (const char* flags : {"x", "ax"}) {
    std::string path = dir_ / (std::string("new-") + flags);
    EXPECT_EQ(Run({"write", path, "644", flags}, Data("new") + End()).exit, kHelperOk);
    EXPECT_EQ(Read(path), "new");
  }
  EXPECT_EQ(Names(dir_.path()), (std::vector<std::string>{"dangling", "f", "new-ax", "new-x"}));
}

TEST_F(FileOpsTest, MakesMissingParentsOnlyWhenAsked) {
  HelperRun run = Run({"write", dir_ / "a/b/c/f", "644", "-"}, Data("x") + End());
  EXPECT_EQ(run.exit, kHelperNotFound);
  EXPECT_FALSE(Exists(dir_ / "a"));
  run = Run({"write", dir_ / "a/b/c/f", "644", "p"}, Data("x") + End());
  ASSERT_EQ(run.exit, kHelperOk) << run.err;
  EXPECT_EQ(Read(dir_ / "a/b/c/f"), "x");
  EXPECT_EQ(ModeOf(dir_ / "a"), 0755u);
  EXPECT_EQ(ModeOf(dir_ / "a/b/c"), 0755u);
}

TEST_F(FileOpsTest, ModesAreExact) {
  for (const char* mode : {"600", "755", "4711", "0"}) {
    std::string path = dir_ / (std::string("m") + mode);
    ASSERT_EQ(Run({"write", path, mode, "-"}, Data("x") + End()).exit, kHelperOk);
    EXPECT_EQ(ModeOf(path), std::stoul(mode, nullptr, 8)) << mode;
  }
  // Replacing takes the new mode too.
  ASSERT_EQ(Run({"write", dir_ / "m600", "640", "-"}, Data("y") + End()).exit, kHelperOk);
  EXPECT_EQ(ModeOf(dir_ / "m600"), 0640u);
}

TEST_F(FileOpsTest, ReplacingASymlinkReplacesItNotItsTarget) {
  Put(dir_ / "target", "original");
  ASSERT_EQ(symlink("target", (dir_ / "link").c_str()), 0);
  ASSERT_EQ(Run({"write", dir_ / "link", "644", "-"}, Data("new") + End()).exit, kHelperOk);
  EXPECT_EQ(Read(dir_ / "target"), "original");
  struct stat st {};
  ASSERT_EQ(lstat((dir_ / "link").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(Read(dir_ / "link"), "new");
}

TEST_F(FileOpsTest, AppendNeverWritesThroughASymlink) {
  Put(dir_ / "target", "original");
  ASSERT_EQ(symlink("target", (dir_ / "link").c_str()), 0);
  EXPECT_EQ(Run({"write", dir_ / "link", "644", "a"}, Data("more") + End()).exit,
            kHelperFailedPrecondition);
  EXPECT_EQ(Read(dir_ / "target"), "original");
  // The control: the real path.
  EXPECT_EQ(Run({"write", dir_ / "target", "644", "a"}, Data("more") + End()).exit, kHelperOk);
  EXPECT_EQ(Read(dir_ / "target"), "originalmore");
}

TEST_F(FileOpsTest, AppendRefusesAFifoWithoutBlocking) {
  ASSERT_EQ(mkfifo((dir_ / "fifo").c_str(), 0644), 0);
  // No reader: the open fails at once (ENXIO) instead of waiting for one.
  HelperRun run = Run({"write", dir_ / "fifo", "644", "a"}, Data("x") + End());
  EXPECT_NE(run.exit, kHelperOk);
  EXPECT_NE(run.exit, -1) << "it hung";
}

TEST_F(FileOpsTest, WritingADirectoryIsRefusedBeforeTheInput) {
  ASSERT_EQ(mkdir((dir_ / "d").c_str(), 0755), 0);
  EXPECT_EQ(Run({"write", dir_ / "d", "644", "-"}).exit, kHelperFailedPrecondition);
  EXPECT_EQ(Run({"write", "/", "644", "-"}).exit, kHelperFailedPrecondition);
}

TEST_F(FileOpsTest, WriteRefusesASymlinkOnTheWay) {
  MakeRealAndLink();  // link -> the test's directory, so link/real is real.
  for (const char* flags : {"-", "a", "x", "p"}) {
    HelperRun run = Run({"write", dir_ / "link/real/f", "644", flags}, Data("x") + End());
    EXPECT_EQ(run.exit, kHelperFailedPrecondition) << flags;
    EXPECT_NE(run.err.find(dir_ / "link/real/f: a symlink on the way"), std::string::npos)
        << run.err;
  }
  EXPECT_EQ(Run({"write", dir_ / "link/real/new/f", "644", "p"}, Data("x") + End()).exit,
            kHelperFailedPrecondition);
  EXPECT_EQ(Names(dir_ / "real"), std::vector<std::string>{});
  // The control: the real path.
  EXPECT_EQ(Run({"write", dir_ / "real/f", "644", "-"}, Data("x") + End()).exit, kHelperOk);
  EXPECT_EQ(Run({"write", dir_ / "real/new/f", "644", "p"}, Data("x") + End()).exit, kHelperOk);
  EXPECT_EQ(Read(dir_ / "real/new/f"), "x");
}

// Where /proc is not there to link an O_TMPFILE by, the new content is a named hidden
// file beside the target: the same guarantees, with a name.
TEST_F(FileOpsTest, WithoutProcTheTemporaryFileIsNamedAndRemoved) {
  std::string why = WhyNoSandbox();
  if (!why.empty()) GTEST_SKIP() << why;
  std::vector<std::string> sandbox = Sandbox(dir_.path(), /*proc=*/false);
  Put(dir_ / "f", "old");
  std::string payload(1 << 20, 'n');
  {
    HelperProcess helper({"write", dir_ / "f", "644", "-"}, nullptr, sandbox);
    ASSERT_TRUE(helper.Send(Data(payload)));
    std::string temp;
    EXPECT_TRUE(Within(absl::Milliseconds(5000), [&] {
      for (const std::string& name : Names(dir_.path())) {
        struct stat st {};
        if (name.rfind(".f.sandboxd-", 0) == 0 && stat((dir_ / name).c_str(), &st) == 0 &&
            st.st_size == static_cast<off_t>(payload.size())) {
          temp = name;
          return true;
        }
      }
      return false;
    })) << "no named temporary file";
    EXPECT_EQ(Read(dir_ / "f"), "old");
    helper.CloseStdin();  // Without kEnd.
    EXPECT_EQ(helper.Wait(), kHelperAborted);
  }
  EXPECT_EQ(Read(dir_ / "f"), "old");
  EXPECT_EQ(Names(dir_.path()), std::vector<std::string>{"f"});
  // With kEnd it replaces the target, and with x it refuses one.
  HelperRun run = RunHelper({"write", dir_ / "f", "600", "-"}, Data(payload) + End(), sandbox);
  ASSERT_EQ(run.exit, kHelperOk) << run.err;
  EXPECT_TRUE(Read(dir_ / "f") == payload);
  EXPECT_EQ(ModeOf(dir_ / "f"), 0600u);
  EXPECT_EQ(RunHelper({"write", dir_ / "f", "644", "x"}, Data("x") + End(), sandbox).exit,
            kHelperAlreadyExists);
  EXPECT_EQ(RunHelper({"write", dir_ / "g", "644", "x"}, Data("x") + End(), sandbox).exit,
            kHelperOk);
  EXPECT_EQ(Names(dir_.path()), (std::vector<std::string>{"f", "g"}));
}

// ---- stat

TEST_F(FileOpsTest, StatDescribesThePathItself) {
  Put(dir_ / "f", "12345");
  ASSERT_EQ(chmod((dir_ / "f").c_str(), 0640), 0);
  ASSERT_EQ(symlink("f", (dir_ / "link").c_str()), 0);
  struct stat st {};
  ASSERT_EQ(stat((dir_ / "f").c_str(), &st), 0);

  std::vector<FileInfo> infos = Infos(Run({"stat", dir_ / "f"}).out);
  ASSERT_EQ(infos.size(), 1u);
  EXPECT_EQ(infos[0].path(), dir_ / "f");
  EXPECT_EQ(infos[0].type(), sandbox::v1::REGULAR);
  EXPECT_EQ(infos[0].size(), 5u);
  EXPECT_EQ(infos[0].mode(), 0640u);
  EXPECT_EQ(infos[0].modified().seconds(), st.st_mtim.tv_sec);
  EXPECT_EQ(infos[0].modified().nanos(), st.st_mtim.tv_nsec);
  EXPECT_EQ(infos[0].symlink_target(), "");

  infos = Infos(Run({"stat", dir_ / "link"}).out);
  ASSERT_EQ(infos.size(), 1u);
  EXPECT_EQ(infos[0].type(), sandbox::v1::SYMLINK);
  EXPECT_EQ(infos[0].symlink_target(), "f");
  EXPECT_EQ(infos[0].size(), 1u);

  infos = Infos(Run({"stat", dir_.path()}).out);
  ASSERT_EQ(infos.size(), 1u);
  EXPECT_EQ(infos[0].type(), sandbox::v1::DIRECTORY);
  infos = Infos(Run({"stat", "/dev/null"}).out);
  ASSERT_EQ(infos.size(), 1u);
  EXPECT_EQ(infos[0].type(), sandbox::v1::OTHER);

  EXPECT_EQ(Run({"stat", dir_ / "missing"}).exit, kHelperNotFound);
  EXPECT_EQ(Run({"stat", dir_ / "f/x"}).exit, kHelperFailedPrecondition);  // ENOTDIR.
}

// ---- list

class ListTest : public FileOpsTest {
 protected:
  void SetUp() override {
    FileOpsTest::SetUp();
    top_ = dir_ / "top";
    for (const char* sub : {"", "/a", "/a/y"}) ASSERT_EQ(mkdir((top_ + sub).c_str(), 0755), 0);
    Put(top_ + "/b.txt", "b");
    Put(top_ + "/a/z.txt", "z");
    Put(top_ + "/a/y/deep.txt", "deep");
    ASSERT_EQ(symlink("a", (top_ + "/c").c_str()), 0);
  }

  std::vector<std::string> List(const std::string& path, const char* depth, const char* max,
                                std::vector<FileInfo>* infos = nullptr) {
    HelperRun run = Run({"list", path, depth, max});
    EXPECT_EQ(run.exit, kHelperOk) << run.err;
    std::vector<FileInfo> listed = Infos(run.out);
    if (infos != nullptr) *infos = listed;
    return PathsOf(listed);
  }

  std::vector<std::string> Under(const std::vector<std::string>& names) {
    std::vector<std::string> paths;
    for (const std::string& name : names) paths.push_back(top_ + "/" + name);
    return paths;
  }

  std::string top_;
};

TEST_F(ListTest, ListsDepthFirstInNameOrder) {
  std::vector<FileInfo> infos;
  EXPECT_EQ(List(top_, "1", "100", &infos), Under({"a", "b.txt", "c"}));
  ASSERT_EQ(infos.size(), 3u);
  EXPECT_EQ(infos[0].type(), sandbox::v1::DIRECTORY);
  EXPECT_EQ(infos[1].type(), sandbox::v1::REGULAR);
  EXPECT_EQ(infos[1].size(), 1u);
  EXPECT_EQ(infos[2].type(), sandbox::v1::SYMLINK);
  EXPECT_EQ(infos[2].symlink_target(), "a");
  EXPECT_EQ(List(top_, "2", "100"), Under({"a", "a/y", "a/z.txt", "b.txt", "c"}));
  // The symlink c is listed, never entered: a/ only once, at any depth.
  EXPECT_EQ(List(top_, "3", "100"), Under({"a", "a/y", "a/y/deep.txt", "a/z.txt", "b.txt", "c"}));
  EXPECT_EQ(List(top_, "16", "100"), List(top_, "3", "100"));
}

TEST_F(ListTest, StopsAfterMaxEntriesPlusOne) {
  EXPECT_EQ(List(top_, "3", "2"), Under({"a", "a/y", "a/y/deep.txt"}));
  EXPECT_EQ(List(top_, "3", "0"), Under({"a"}));
  EXPECT_EQ(List(top_, "3", "6").size(), 6u);  // All there are: the caller sees no more.
}

TEST_F(ListTest, ThePathItselfMayBeASymlink) {
  EXPECT_EQ(List(top_ + "/c", "1", "100"),
            (std::vector<std::string>{top_ + "/c/y", top_ + "/c/z.txt"}));
}

TEST_F(ListTest, RefusesWhatIsNotADirectory) {
  EXPECT_EQ(Run({"list", top_ + "/b.txt", "1", "10"}).exit, kHelperFailedPrecondition);
  EXPECT_EQ(Run({"list", top_ + "/missing", "1", "10"}).exit, kHelperNotFound);
  EXPECT_EQ(Run({"list", top_, "0", "10"}).exit, kHelperInvalidArgument);
}

// FileInfo.path and symlink_target are proto3 strings, which a parser refuses unless
// they are valid UTF-8; a file name is any bytes.
TEST_F(FileOpsTest, NamesThatAreNotUtf8AreSanitized) {
  constexpr char kFffd[] = "\xEF\xBF\xBD";
  std::string top = dir_ / "names";
  ASSERT_EQ(mkdir(top.c_str(), 0755), 0);
  Put(top + "/m\xff", "m");
  ASSERT_EQ(symlink("t\xfe", (top + "/link").c_str()), 0);
  // The control: valid UTF-8 comes back as it is.
  Put(top + "/\xC3\xA9.txt", "e");
  ASSERT_EQ(symlink("\xC3\xA9.txt", (top + "/good-link").c_str()), 0);

  HelperRun run = Run({"list", top, "1", "100"});
  ASSERT_EQ(run.exit, kHelperOk) << run.err;
  std::vector<FileInfo> infos = Infos(run.out);
  EXPECT_EQ(PathsOf(infos), (std::vector<std::string>{top + "/good-link", top + "/link",
                                                      top + "/m" + kFffd, top + "/\xC3\xA9.txt"}));
  ASSERT_EQ(infos.size(), 4u);
  EXPECT_EQ(infos[0].symlink_target(), "\xC3\xA9.txt");
  EXPECT_EQ(infos[1].symlink_target(), std::string("t") + kFffd);
  EXPECT_EQ(infos[2].size(), 1u);

  infos = Infos(Run({"stat", top + "/m\xff"}).out);
  ASSERT_EQ(infos.size(), 1u);
  EXPECT_EQ(infos[0].path(), top + "/m" + kFffd);
  EXPECT_EQ(infos[0].type(), sandbox::v1::REGULAR);
  infos = Infos(Run({"stat", top + "/link"}).out);
  ASSERT_EQ(infos.size(), 1u);
  EXPECT_EQ(infos[0].symlink_target(), std::string("t") + kFffd);
  infos = Infos(Run({"stat", top + "/\xC3\xA9.txt"}).out);
  ASSERT_EQ(infos.size(), 1u);
  EXPECT_EQ(infos[0].path(), top + "/\xC3\xA9.txt");
  infos = Infos(Run({"stat", top + "/good-link"}).out);
  ASSERT_EQ(infos.size(), 1u);
  EXPECT_EQ(infos[0].symlink_target(), "\xC3\xA9.txt");
}

TEST_F(ListTest, ListsTheRoot) {
  std::vector<std::string> paths = List("/", "1", "100000");
  EXPECT_NE(std::find(paths.begin(), paths.end(), "/proc"), paths.end());
}

// ---- mkdir

TEST_F(FileOpsTest, MakesADirectory) {
  HelperRun run = Run({"mkdir", dir_ / "d", "750", "0"});
  ASSERT_EQ(run.exit, kHelperOk) << run.err;
  EXPECT_EQ(ModeOf(dir_ / "d"), 0750u);
  std::vector<FileInfo> infos = Infos(run.out);
  ASSERT_EQ(infos.size(), 1u);
  EXPECT_EQ(infos[0].path(), dir_ / "d");
  EXPECT_EQ(infos[0].type(), sandbox::v1::DIRECTORY);
  EXPECT_EQ(infos[0].mode(), 0750u);
  // Again: only with PARENTS is one already there fine.
  EXPECT_EQ(Run({"mkdir", dir_ / "d", "750", "0"}).exit, kHelperAlreadyExists);
  EXPECT_EQ(Run({"mkdir", dir_ / "d", "750", "1"}).exit, kHelperOk);
  EXPECT_EQ(Run({"mkdir", dir_ / "x/y/z", "700", "0"}).exit, kHelperNotFound);
  ASSERT_EQ(Run({"mkdir", dir_ / "x/y/z", "700", "1"}).exit, kHelperOk);
  EXPECT_EQ(ModeOf(dir_ / "x/y"), 0755u);
  EXPECT_EQ(ModeOf(dir_ / "x/y/z"), 0700u);
  // A file in the way is no directory, PARENTS or not.
  Put(dir_ / "f", "");
  EXPECT_EQ(Run({"mkdir", dir_ / "f", "755", "1"}).exit, kHelperAlreadyExists);
  EXPECT_EQ(Run({"mkdir", "/", "755", "1"}).exit, kHelperOk);
  EXPECT_EQ(Run({"mkdir", "/", "755", "0"}).exit, kHelperAlreadyExists);
}

TEST_F(FileOpsTest, MkdirRefusesASymlinkOnTheWay) {
  MakeRealAndLink();
  ASSERT_EQ(symlink("real", (dir_ / "real-link").c_str()), 0);
  EXPECT_EQ(Run({"mkdir", dir_ / "link/real/d", "755", "0"}).exit, kHelperFailedPrecondition);
  EXPECT_EQ(Run({"mkdir", dir_ / "link/real/d/e", "755", "1"}).exit, kHelperFailedPrecondition);
  // A symlink to a directory is not one, even with PARENTS.
  EXPECT_EQ(Run({"mkdir", dir_ / "real-link", "755", "1"}).exit, kHelperAlreadyExists);
  EXPECT_EQ(Names(dir_ / "real"), std::vector<std::string>{});
  // The control.
  EXPECT_EQ(Run({"mkdir", dir_ / "real/d", "755", "0"}).exit, kHelperOk);
  EXPECT_EQ(Run({"mkdir", dir_ / "real/d/e/f", "755", "1"}).exit, kHelperOk);
}

// ---- move

TEST_F(FileOpsTest, MovesWithoutOverwritingUnlessAsked) {
  Put(dir_ / "a", "A");
  Put(dir_ / "b", "B");
  HelperRun run = Run({"move", dir_ / "a", dir_ / "b", "0"});
  EXPECT_EQ(run.exit, kHelperAlreadyExists);
  EXPECT_NE(run.err.find(dir_ / "b"), std::string::npos) << run.err;
  EXPECT_EQ(Read(dir_ / "a"), "A");
  EXPECT_EQ(Read(dir_ / "b"), "B");
  run = Run({"move", dir_ / "a", dir_ / "b", "1"});
  ASSERT_EQ(run.exit, kHelperOk) << run.err;
  EXPECT_FALSE(Exists(dir_ / "a"));
  EXPECT_EQ(Read(dir_ / "b"), "A");
  std::vector<FileInfo> infos = Infos(run.out);
  ASSERT_EQ(infos.size(), 1u);
  EXPECT_EQ(infos[0].path(), dir_ / "b");
  EXPECT_EQ(infos[0].size(), 1u);
  EXPECT_EQ(Run({"move", dir_ / "b", dir_ / "c", "0"}).exit, kHelperOk);
  EXPECT_EQ(Read(dir_ / "c"), "A");
  EXPECT_EQ(Run({"move", dir_ / "missing", dir_ / "d", "0"}).exit, kHelperNotFound);
}

TEST_F(FileOpsTest, MovesASymlinkItself) {
  Put(dir_ / "target", "T");
  ASSERT_EQ(symlink("target", (dir_ / "link").c_str()), 0);
  HelperRun run = Run({"move", dir_ / "link", dir_ / "moved", "0"});
  ASSERT_EQ(run.exit, kHelperOk);
  std::vector<FileInfo> infos = Infos(run.out);
  ASSERT_EQ(infos.size(), 1u);
  EXPECT_EQ(infos[0].type(), sandbox::v1::SYMLINK);
  EXPECT_EQ(infos[0].symlink_target(), "target");
  EXPECT_EQ(Read(dir_ / "target"), "T");
}

TEST_F(FileOpsTest, MoveRefusesASymlinkOnEitherWay) {
  MakeRealAndLink();
  Put(dir_ / "real/f", "F");
  EXPECT_EQ(Run({"move", dir_ / "link/real/f", dir_ / "real/g", "0"}).exit,
            kHelperFailedPrecondition);
  EXPECT_EQ(Run({"move", dir_ / "real/f", dir_ / "link/real/g", "0"}).exit,
            kHelperFailedPrecondition);
  EXPECT_EQ(Names(dir_ / "real"), std::vector<std::string>{"f"});
  // The control.
  EXPECT_EQ(Run({"move", dir_ / "real/f", dir_ / "real/g", "0"}).exit, kHelperOk);
  EXPECT_EQ(Names(dir_ / "real"), std::vector<std::string>{"g"});
}

TEST_F(FileOpsTest, TheRootCannotBeMovedOrRemoved) {
  EXPECT_EQ(Run({"move", "/", dir_ / "root", "0"}).exit, kHelperFailedPrecondition);
  EXPECT_EQ(Run({"move", dir_.path(), "/", "1"}).exit, kHelperFailedPrecondition);
  EXPECT_EQ(Run({"remove", "/", "1"}).exit, kHelperFailedPrecondition);
  EXPECT_TRUE(Exists(dir_.path()));
}

// ---- remove

TEST_F(FileOpsTest, RemovesFilesAndEmptyDirectories) {
  Put(dir_ / "f", "");
  ASSERT_EQ(mkdir((dir_ / "empty").c_str(), 0755), 0);
  ASSERT_EQ(mkdir((dir_ / "full").c_str(), 0755), 0);
  Put(dir_ / "full/f", "");
  HelperRun run = Run({"remove", dir_ / "f", "0"});
  EXPECT_EQ(run.exit, kHelperOk);
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(Run({"remove", dir_ / "empty", "0"}).exit, kHelperOk);
  run = Run({"remove", dir_ / "full", "0"});
  EXPECT_EQ(run.exit, kHelperFailedPrecondition);
  EXPECT_NE(run.err.find("not empty"), std::string::npos) << run.err;
  EXPECT_EQ(Run({"remove", dir_ / "f", "0"}).exit, kHelperNotFound);
  EXPECT_EQ(Names(dir_.path()), std::vector<std::string>{"full"});
  EXPECT_EQ(Run({"remove", dir_ / "full", "1"}).exit, kHelperOk);
  EXPECT_EQ(Names(dir_.path()), std::vector<std::string>{});
}

TEST_F(FileOpsTest, RemovingRecursivelyNeverFollowsASymlink) {
  ASSERT_EQ(mkdir((dir_ / "outside").c_str(), 0755), 0);
  Put(dir_ / "outside/keep", "K");
  for (const char* sub : {"tree", "tree/sub", "tree/sub/deeper"}) {
    ASSERT_EQ(mkdir((dir_ / sub).c_str(), 0755), 0);
  }
  Put(dir_ / "tree/own", "");
  Put(dir_ / "tree/sub/deeper/own", "");
  ASSERT_EQ(symlink((dir_ / "outside").c_str(), (dir_ / "tree/sub/to-outside").c_str()), 0);
  ASSERT_EQ(symlink((dir_ / "outside/keep").c_str(), (dir_ / "tree/to-keep").c_str()), 0);
  ASSERT_EQ(Run({"remove", dir_ / "tree", "1"}).exit, kHelperOk);
  // The tree's own files are gone (the control), what its symlinks pointed at is not.
  EXPECT_FALSE(Exists(dir_ / "tree"));
  EXPECT_EQ(Read(dir_ / "outside/keep"), "K");
  // A symlink to a directory, removed recursively, is only a symlink.
  ASSERT_EQ(symlink("outside", (dir_ / "link").c_str()), 0);
  EXPECT_EQ(Run({"remove", dir_ / "link", "1"}).exit, kHelperOk);
  EXPECT_FALSE(Exists(dir_ / "link"));
  EXPECT_EQ(Read(dir_ / "outside/keep"), "K");
}

TEST_F(FileOpsTest, RemoveRefusesASymlinkOnTheWay) {
  MakeRealAndLink();
  Put(dir_ / "real/f", "");
  ASSERT_EQ(mkdir((dir_ / "real/d").c_str(), 0755), 0);
  EXPECT_EQ(Run({"remove", dir_ / "link/real/f", "0"}).exit, kHelperFailedPrecondition);
  EXPECT_EQ(Run({"remove", dir_ / "link/real/d", "1"}).exit, kHelperFailedPrecondition);
  EXPECT_EQ(Names(dir_ / "real"), (std::vector<std::string>{"d", "f"}));
  // The control.
  EXPECT_EQ(Run({"remove", dir_ / "real/f", "0"}).exit, kHelperOk);
  EXPECT_EQ(Run({"remove", dir_ / "real/d", "1"}).exit, kHelperOk);
  EXPECT_EQ(Names(dir_ / "real"), std::vector<std::string>{});
}

// Root passes every permission check; the command's user does not.
TEST_F(FileOpsTest, AsAnUnprivilegedUser) {
  if (geteuid() != 0) GTEST_SKIP() << "becoming another user needs root";
  if (std::system("/usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups /bin/true") != 0) {
    GTEST_SKIP() << "uid 65534 cannot be taken here (a user namespace without it?)";
  }
  // Below /tmp, which the user can reach (the runfiles and TEST_TMPDIR are below
  // root's home).
  char made[] = "/tmp/helper_test_nobody.XXXXXX";
  ASSERT_NE(mkdtemp(made), nullptr);
  std::string top = made;
  struct RemoveAfter {
    ~RemoveAfter() { std::system(("rm -rf '" + dir + "'").c_str()); }
    std::string dir;
  } remove_after{top};
  ASSERT_EQ(chmod(top.c_str(), 0755), 0);
  std::string helper = top + "/sandboxd-helper";
  Put(helper, Read(HelperPath()));
  ASSERT_EQ(chmod(helper.c_str(), 0755), 0);
  for (const char* sub : {"/open", "/closed"}) ASSERT_EQ(mkdir((top + sub).c_str(), 0755), 0);
  Put(top + "/open/a", "a");
  Put(top + "/closed/b", "b");
  ASSERT_EQ(chmod((top + "/closed").c_str(), 0700), 0);

  // A directory it may not read is listed, without its entries.
  HelperRun run = RunHelper({"list", top, "2", "100"}, "", AsNobody(helper));
  ASSERT_EQ(run.exit, kHelperOk) << run.err;
  EXPECT_EQ(PathsOf(Infos(run.out)),
            (std::vector<std::string>{top + "/closed", top + "/open", top + "/open/a",
                                      top + "/sandboxd-helper"}));
  // The control: root sees into it.
  EXPECT_EQ(PathsOf(Infos(Run({"list", top + "/closed", "1", "100"}).out)),
            std::vector<std::string>{top + "/closed/b"});
  run = RunHelper({"list", top + "/closed", "1", "100"}, "", AsNobody(helper));
  EXPECT_EQ(run.exit, kHelperPermissionDenied) << run.err;
  // Writing where it may not: PERMISSION_DENIED, saying so.
  run = RunHelper({"write", top + "/open/new", "644", "-"}, Data("x") + End(), AsNobody(helper));
  EXPECT_EQ(run.exit, kHelperPermissionDenied);
  EXPECT_NE(run.err.find(top + "/open/new: permission denied"), std::string::npos) << run.err;
  EXPECT_EQ(RunHelper({"read", top + "/closed/b", "0", "0"}, "", AsNobody(helper)).exit,
            kHelperPermissionDenied);
  EXPECT_EQ(RunHelper({"remove", top + "/open/a", "0"}, "", AsNobody(helper)).exit,
            kHelperPermissionDenied);
  EXPECT_EQ(Read(top + "/open/a"), "a");
}

// ---- usage

TEST_F(FileOpsTest, BadUsageAndBadPathsAreInvalidArguments) {
  Put(dir_ / "f", "");
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {},
           {"frobnicate"},
           {"read", dir_ / "f", "0"},
           {"read", dir_ / "f", "-1", "0"},
           {"read", dir_ / "f", "x", "0"},
           {"write", dir_ / "g", "999", "-"},
           {"write", dir_ / "g", "644", "q"},
           {"mkdir", dir_ / "g", "755", "2"},
           {"move", dir_ / "f", dir_ / "g"},
           {"remove", dir_ / "f", "yes"},
           {"stat", "relative"},
           {"stat", dir_ / "f/../f"},
           {"stat", dir_ / "./f"},
           {"stat", dir_.path() + "//f"},
           {"remove", dir_ / "f/", "0"},
           {"pty", "24", "80", "/bin/true"},
       }) {
    HelperRun run = Run(args);
    EXPECT_EQ(run.exit, kHelperInvalidArgument) << (args.empty() ? "" : args[0]) << " " << run.err;
  }
  EXPECT_TRUE(Exists(dir_ / "f"));
  EXPECT_FALSE(Exists(dir_ / "g"));
}

}  // namespace
}  // namespace sandboxd

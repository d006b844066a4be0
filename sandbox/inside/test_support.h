#ifndef SANDBOXD_SANDBOX_INSIDE_TEST_SUPPORT_H_
#define SANDBOXD_SANDBOX_INSIDE_TEST_SUPPORT_H_

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "sandbox/inside/protocol.h"
#include "sandbox/test_support.h"  // Within, OpenFdCount.

// What the tests of sandbox/inside share: the real helper, run as a process of its own
// with pipes for its stdio, and never waited for without a deadline.

namespace sandboxd {

using std::chrono::milliseconds;

// The sandboxd-helper of the test's runfiles.
std::string HelperPath();

// A directory of the test's own below TEST_TMPDIR, by its real path (no symlink on the
// way, which the helper would refuse), removed with everything in it afterwards.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // `name` inside it.
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A frame of protocol.h.
std::string MakeFrame(FrameType type, const std::string& payload = "");

// The helper with `args`, in a process group of its own (as the server starts it),
// stdin, stdout and stderr being pipes of the test's. With `env`, that is its whole
// environment; else it inherits the test's. `helper` is the command line that runs the
// helper itself (a bwrap one: see Sandbox); by default HelperPath().
class HelperProcess {
 public:
  explicit HelperProcess(const std::vector<std::string>& args,
                         const std::vector<std::string>* env = nullptr,
                         const std::vector<std::string>& helper = {});
  ~HelperProcess();  // Kills and reaps it if it still runs.
  HelperProcess(const HelperProcess&) = delete;
  HelperProcess& operator=(const HelperProcess&) = delete;

  pid_t pid() const { return pid_; }

  // Writes `bytes` to its stdin (reading its output meanwhile); false if not all of
  // them went within `wait`.
  bool Send(const std::string& bytes, milliseconds wait = milliseconds(5000));
  // How much of `bytes` its stdin took within `wait`; the rest is dropped.
  size_t Offer(const std::string& bytes, milliseconds wait);
  void CloseStdin();
  // Closes the test's end of its stdout: the helper's writes then fail with EPIPE.
  void CloseStdout();

  // Reads its stdout until what came since the last Expect contains `text`, and
  // consumes that far; false if it did not come within `wait`.
  bool Expect(const std::string& text, milliseconds wait = milliseconds(5000));

  // Waits for it to exit and its output to end: its exit code, or 128+N if signal N
  // killed it; -1 if it did not exit within `wait` (it is killed then).
  int Wait(milliseconds wait = milliseconds(10000));

  // All of stdout and stderr so far.
  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }

 private:
  // Moves bytes between the pipes until `done` holds or `wait` is over; whether `done`.
  bool Pump(milliseconds wait, const std::function<bool()>& done);
  void Reap(bool block);

  pid_t pid_ = -1;
  int status_ = -1;
  bool exited_ = false;
  int stdin_ = -1;
  int stdout_ = -1;
  int stderr_ = -1;
  std::string pending_;  // For stdin.
  std::string out_;
  size_t expected_ = 0;  // Where the next Expect looks from.
  std::string err_;
};

struct HelperRun {
  int exit = -1;
  std::string out;
  std::string err;
};

// Runs the helper with `args` and `input` on its stdin to its end (at most 10 s).
HelperRun RunHelper(const std::vector<std::string>& args, const std::string& input = "",
                    const std::vector<std::string>& helper = {});

// The helper in a bwrap sandbox, as the server runs it there: a tmpfs
// root with /usr (and /bin, /lib, /lib64 as links into it), a /dev of its own (with a
// devpts of its own), /proc (with `proc`; else an empty tmpfs), `writable` bound at
// the same path, the helper at kHelperPathInSandbox, as uid and gid 65534 in a user
// namespace.
std::vector<std::string> Sandbox(const std::string& writable, bool proc = true);

// The helper at `path` as uid and gid 65534, without groups (setpriv).
std::vector<std::string> AsNobody(const std::string& path);

// Why no bwrap sandbox can be made here, for GTEST_SKIP; empty when one can.
std::string WhyNoSandbox();

// Whether `pid` exists and is not a zombie.
bool Alive(pid_t pid);

// A process below `root` whose command name is `comm`, waited for up to `wait`; -1
// if none came.
pid_t FindDescendant(pid_t root, const std::string& comm, milliseconds wait);

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_INSIDE_TEST_SUPPORT_H_

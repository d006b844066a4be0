// sandboxd-helper: what the server runs inside a sandbox, as the command's user and
// under the command's seccomp filter (bound at kHelperPathInSandbox), for terminals and
// file calls. One subcommand per run (protocol.h has the wire format):
//
//   sandboxd-helper pty ROWS COLS -- PROGRAM [ARGS...]   (pty.h)
//   sandboxd-helper read PATH OFFSET LENGTH              (LENGTH 0: to the end)
//   sandboxd-helper write PATH MODE FLAGS                (MODE octal; FLAGS "-" or
//                                                         letters of "axp": append,
//                                                         exclusive, make parents)
//   sandboxd-helper stat PATH
//   sandboxd-helper list PATH DEPTH MAX_ENTRIES
//   sandboxd-helper mkdir PATH MODE PARENTS              (PARENTS 0 or 1)
//   sandboxd-helper move SOURCE DESTINATION OVERWRITE    (OVERWRITE 0 or 1)
//   sandboxd-helper remove PATH RECURSIVE                (RECURSIVE 0 or 1)
//
// A file call exits with a HelperExit and says why on stderr, in one line that starts
// with the path; a terminal exits as its command did. Bad usage is
// kHelperInvalidArgument, "sandboxd-helper: usage...".
//
// Linked statically: only /usr, /lib and /etc may be visible in a sandbox, and a static
// binary needs none of them, and starts faster.

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "sandbox/inside/file_ops.h"
#include "sandbox/inside/helper_status.h"
#include "sandbox/inside/protocol.h"
#include "sandbox/inside/pty.h"

namespace sandboxd {
namespace {

constexpr char kUsage[] =
    "usage: sandboxd-helper pty ROWS COLS -- PROGRAM [ARGS...] | read PATH OFFSET LENGTH | "
    "write PATH MODE FLAGS | stat PATH | list PATH DEPTH MAX_ENTRIES | "
    "mkdir PATH MODE PARENTS | move SOURCE DESTINATION OVERWRITE | remove PATH RECURSIVE";

// The server passes a file call's stderr on as its error's message, which therefore
// starts with the path, not with the helper's name.
[[noreturn]] void Exit(const HelperStatus& status) {
  if (!status.ok()) {
    std::string line = status.message + "\n";
    ssize_t ignored = write(STDERR_FILENO, line.data(), line.size());
    (void)ignored;
  }
  _exit(status.exit);
}

[[noreturn]] void Usage(const std::string& what) {
  Exit(HelperError(kHelperInvalidArgument, "sandboxd-helper: " + what + " (" + kUsage + ")"));
}

// `text`, all digits in `base`, at most `max`; or Usage.
uint64_t Number(const std::string& text, const char* name, uint64_t max, int base = 10) {
  char* end = nullptr;
  errno = 0;
  uint64_t value = std::strtoull(text.c_str(), &end, base);
  bool digits = !text.empty() && text[0] >= '0' && text[0] <= '9';
  if (!digits || errno != 0 || *end != '\0' || value > max) {
    Usage("bad " + std::string(name) + " \"" + text + "\"");
  }
  return value;
}

bool Flag(const std::string& text, const char* name) { return Number(text, name, 1) == 1; }

void ExpectArgs(const std::vector<std::string>& args, size_t count) {
  if (args.size() != count) Usage("wrong number of arguments for " + args[0]);
}

[[noreturn]] void RunTerminal(const std::vector<std::string>& args) {
  if (args.size() < 5 || args[3] != "--") Usage("pty needs ROWS COLS -- PROGRAM");
  TerminalCommand command;
  command.rows = static_cast<uint16_t>(Number(args[1], "ROWS", UINT16_MAX));
  command.cols = static_cast<uint16_t>(Number(args[2], "COLS", UINT16_MAX));
  command.argv.assign(args.begin() + 4, args.end());
  exit(RunOnTerminal(command));
}

WriteOptions ParseWriteOptions(const std::string& mode, const std::string& flags) {
  WriteOptions options;
  options.mode = static_cast<mode_t>(Number(mode, "MODE", 07777, 8));
  if (flags == "-") return options;
  for (char flag : flags) {
    if (flag == 'a') {
      options.append = true;
    } else if (flag == 'x') {
      options.exclusive = true;
    } else if (flag == 'p') {
      options.make_parents = true;
    } else {
      Usage("bad FLAGS \"" + flags + "\" (\"-\" or letters of \"axp\")");
    }
  }
  return options;
}

// The file calls take modes as given: no umask of the server's applies inside.
HelperStatus RunFileCall(const std::vector<std::string>& args) {
  const std::string& call = args[0];
  umask(0);
  // A write past RLIMIT_FSIZE then fails with EFBIG instead of killing the helper.
  signal(SIGXFSZ, SIG_IGN);
  // A reader gone away is an EPIPE to report, not a death.
  signal(SIGPIPE, SIG_IGN);
  if (call == "read") {
    ExpectArgs(args, 4);
    return ReadFile(args[1], Number(args[2], "OFFSET", INT64_MAX),
                    Number(args[3], "LENGTH", INT64_MAX), STDOUT_FILENO);
  }
  if (call == "write") {
    ExpectArgs(args, 4);
    return WriteFile(args[1], ParseWriteOptions(args[2], args[3]), STDIN_FILENO, STDOUT_FILENO);
  }
  if (call == "stat") {
    ExpectArgs(args, 2);
    return StatFile(args[1], STDOUT_FILENO);
  }
  if (call == "list") {
    ExpectArgs(args, 4);
    uint64_t depth = Number(args[2], "DEPTH", UINT32_MAX);
    if (depth == 0) Usage("DEPTH is at least 1 (the directory's entries)");
    return ListFiles(args[1], static_cast<uint32_t>(depth),
                     Number(args[3], "MAX_ENTRIES", UINT64_MAX - 1), STDOUT_FILENO);
  }
  if (call == "mkdir") {
    ExpectArgs(args, 4);
    return MakeDirectory(args[1], static_cast<mode_t>(Number(args[2], "MODE", 07777, 8)),
                         Flag(args[3], "PARENTS"), STDOUT_FILENO);
  }
  if (call == "move") {
    ExpectArgs(args, 4);
    return MoveFile(args[1], args[2], Flag(args[3], "OVERWRITE"), STDOUT_FILENO);
  }
  if (call == "remove") {
    ExpectArgs(args, 3);
    return RemoveFile(args[1], Flag(args[2], "RECURSIVE"));
  }
  Usage("unknown subcommand \"" + call + "\"");
}

}  // namespace
}  // namespace sandboxd

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) sandboxd::Usage("no subcommand");
  if (args[0] == "pty") sandboxd::RunTerminal(args);
  sandboxd::Exit(sandboxd::RunFileCall(args));
}

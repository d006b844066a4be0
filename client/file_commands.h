#ifndef SANDBOXD_CLIENT_FILE_COMMANDS_H_
#define SANDBOXD_CLIENT_FILE_COMMANDS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/args.h"
#include "client/cli.h"
#include "sandbox/v1/sandbox.pb.h"

// sandboxctl's file commands: cp, ls, cat, stat, mkdir, mv, rm. Each runs in a scope
// (FileScope): a session's (--session) or a policy the exec policy options describe
// (--mode, --writable, ...; writing needs --mode=workspace-write with the path in a
// --writable root, or in a session's /tmp).

namespace sandboxd {

const std::vector<Subcommand>& FileCommands();

// The options that make a FileScope.
const std::vector<OptionSpec>& FileScopeOptions();

// The scope those options describe: the session's, with a policy only when a policy
// option is given. INVALID_ARGUMENT for unusable values.
absl::StatusOr<sandbox::v1::FileScope> BuildFileScope(const ParsedArgs& args);

// A path in the sandbox as written: "/work/a" or ":/work/a" (as cp wants it).
std::string SandboxPath(const std::string& word);

// One line for `ls`: type letter (- d l ?), permission bits in octal, size, mtime,
// path, and "-> target" for a symlink:
//   "- 0644 12 2024-05-01T12:00:00Z /work/a.txt".
std::string FormatFileInfo(const sandbox::v1::FileInfo& info);

// Where `cp` goes: the words SRC and DST, exactly one of which names the sandbox with a
// leading ':'. `upload` says which; `local` is the other side ("-": stdin or stdout),
// `remote` the sandbox's path without the ':'. INVALID_ARGUMENT unless exactly one is.
struct CopyEnds {
  bool upload = false;
  std::string local;
  std::string remote;
};
absl::StatusOr<CopyEnds> ParseCopyEnds(const std::string& source, const std::string& destination);

}  // namespace sandboxd

#endif  // SANDBOXD_CLIENT_FILE_COMMANDS_H_

#ifndef SANDBOXD_SANDBOX_INSIDE_FILE_OPS_H_
#define SANDBOXD_SANDBOX_INSIDE_FILE_OPS_H_

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "sandbox/inside/helper_status.h"

// The helper's file calls, run inside a sandbox as the command's user: what the command
// could do itself, done so that a tree the command made cannot trick them. Every path
// is checked (CheckPath). Calls that change the tree resolve their parent directories
// with no symlink on the way (paths.h) and never follow a symlink as their last
// component. Each writes its answer to `out` (protocol.h): raw bytes for ReadFile,
// delimited FileInfo messages for the others but RemoveFile. Modes are taken exactly:
// the caller sets the umask to 0 (helper_main.cc).

namespace sandboxd {

// Sends `length` bytes (0: all) of the regular file `path` from `offset` on to `out`,
// with sendfile(2). Follows symlinks, as the command's own reads would. Anything but a
// regular file (a FIFO, a device) is refused, kHelperFailedPrecondition, before any
// read: it is opened non-blocking (a FIFO does not wait for a writer) and checked.
HelperStatus ReadFile(const std::string& path, uint64_t offset, uint64_t length, int out);

struct WriteOptions {
  mode_t mode = 0644;
  // Add to the end of the file (creating it) instead of replacing it.
  bool append = false;
  // kHelperAlreadyExists when the target exists (checked atomically at the end).
  bool exclusive = false;
  // Make missing parent directories (0755).
  bool make_parents = false;
};

// Writes the kData payloads read from `in` to `path` until kEnd, then writes the file's
// FileInfo to `out`. Replacing, readers of `path` see the old file or the new one,
// never part of it: the bytes go to a file of their own in the same directory, moved
// over `path` at kEnd. Input that ends before kEnd (kHelperAborted), or any failure,
// leaves `path` as it was and no temporary file behind; appending, what was appended
// stays. A symlink at `path` is replaced, never written through.
HelperStatus WriteFile(const std::string& path, const WriteOptions& options, int in, int out);

// The FileInfo of `path` itself (lstat: a symlink's own, with its target).
HelperStatus StatFile(const std::string& path, int out);

// The FileInfo of each entry below the directory `path` (which may be reached through
// a symlink), `depth` levels deep (1: its entries), depth-first, each directory's
// entries sorted by name after its own FileInfo. Symlinks are listed, never entered;
// a directory that cannot be read is listed without its entries. Stops after
// `max_entries` + 1, so that the caller knows there were more.
HelperStatus ListFiles(const std::string& path, uint32_t depth, uint64_t max_entries, int out);

// Makes the directory `path` with `mode`; with `parents`, makes missing parents (0755)
// and is fine with a directory already there (as mkdir -p). Writes its FileInfo.
HelperStatus MakeDirectory(const std::string& path, mode_t mode, bool parents, int out);

// Renames `source` to `destination`, replacing what is there only with `overwrite`
// (else kHelperAlreadyExists), and writes the destination's FileInfo. A symlink is
// moved itself. The root cannot be moved.
HelperStatus MoveFile(const std::string& source, const std::string& destination, bool overwrite,
                      int out);

// Removes `path`: a file, symlink or empty directory; with `recursive`, a directory with
// everything in it, never following a symlink (one is removed, its target is not
// touched). The root cannot be removed.
HelperStatus RemoveFile(const std::string& path, bool recursive);

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_INSIDE_FILE_OPS_H_

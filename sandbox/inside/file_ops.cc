#include "sandbox/inside/file_ops.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "base/unique_fd.h"
#include "base/utf8.h"
#include "sandbox/inside/frames.h"
#include "sandbox/inside/paths.h"
#include "sandbox/v1/sandbox.pb.h"

namespace sandboxd {
namespace {

using sandbox::v1::FileInfo;

// One sendfile(2) asks for this much: into a pipe it moves what fits and returns, so
// the count only has to be large enough never to be what stops it.
constexpr size_t kSendfileCount = size_t{1} << 30;
// Where neither sendfile nor splice will do, bytes go through a buffer this large.
constexpr size_t kCopyBufferSize = size_t{1} << 20;
// FileInfo messages go out in batches of about this much.
constexpr size_t kInfoBatchBytes = 64 << 10;
// Tries at an unused temporary name before giving up.
constexpr int kTempNameTries = 100;

void WaitFor(int fd, short events) {
  pollfd wait{fd, events, 0};
  poll(&wait, 1, -1);
}

// Writes all of `size` bytes, through EINTR, short writes and a non-blocking `fd`.
bool WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = write(fd, data, size);
    if (n > 0) {
      data += n;
      size -= static_cast<size_t>(n);
    } else if (n < 0 && errno == EAGAIN) {
      WaitFor(fd, POLLOUT);
    } else if (n == 0 || errno != EINTR) {
      if (n == 0) errno = EPIPE;
      return false;
    }
  }
  return true;
}

HelperStatus OutputError() {
  return HelperError(kHelperInternal,
                     std::string("writing the answer to stdout: ") + std::strerror(errno));
}

// Delimited FileInfo messages (each after its length as a varint) for `fd`, batched.
class InfoWriter {
 public:
  explicit InfoWriter(int fd) : fd_(fd) {}

  bool Add(const FileInfo& info) {
    uint64_t size = info.ByteSizeLong();
    while (size >= 0x80) {
      buffer_.push_back(static_cast<char>(size | 0x80));
      size >>= 7;
    }
    buffer_.push_back(static_cast<char>(size));
    info.AppendToString(&buffer_);
    return buffer_.size() < kInfoBatchBytes || Flush();
  }

  bool Flush() {
    bool ok = WriteAll(fd_, buffer_.data(), buffer_.size());
    buffer_.clear();
    return ok;
  }

 private:
  int fd_;
  std::string buffer_;
};

sandbox::v1::FileType TypeOf(mode_t mode) {
  if (S_ISREG(mode)) return sandbox::v1::REGULAR;
  if (S_ISDIR(mode)) return sandbox::v1::DIRECTORY;
  if (S_ISLNK(mode)) return sandbox::v1::SYMLINK;
  return sandbox::v1::OTHER;
}

// FileInfo's path and symlink_target are proto3 strings, which the server's parser
// refuses unless they are valid UTF-8 (the whole message is lost then); a file name
// or a symlink's target is any bytes. Both go through SanitizeUtf8.
void Fill(const struct stat& st, const std::string& path, FileInfo& info) {
  info.set_path(SanitizeUtf8(path));
  info.set_type(TypeOf(st.st_mode));
  info.set_size(static_cast<uint64_t>(st.st_size));
  info.set_mode(st.st_mode & 07777);
  info.mutable_modified()->set_seconds(st.st_mtim.tv_sec);
  info.mutable_modified()->set_nanos(static_cast<int32_t>(st.st_mtim.tv_nsec));
}

// What the symlink `name` in `dir` points to, raw; empty if it cannot be read.
std::string ReadLinkAt(int dir, const char* name) {
  std::string target(256, '\0');
  for (;;) {
    ssize_t n = readlinkat(dir, name, target.data(), target.size());
    if (n < 0) return "";
    // A full buffer may have cut the target short (lstat's size is 0 in /proc).
    if (static_cast<size_t>(n) < target.size() || target.size() >= (size_t{1} << 16)) {
      target.resize(static_cast<size_t>(n));
      return target;
    }
    target.resize(target.size() * 2);
  }
}

// The FileInfo of `name` in `dir` itself, not following a symlink; false (errno set)
// if it cannot be had.
bool Describe(int dir, const char* name, const std::string& path, FileInfo& info) {
  struct stat st {};
  if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return false;
  Fill(st, path, info);
  if (S_ISLNK(st.st_mode)) info.set_symlink_target(SanitizeUtf8(ReadLinkAt(dir, name)));
  return true;
}

// Writes the FileInfo of `name` in `dir` (see Describe) to `out`.
HelperStatus Answer(int dir, const char* name, const std::string& path, int out) {
  FileInfo info;
  if (!Describe(dir, name, path, info)) return ErrnoError(path, errno);
  InfoWriter writer(out);
  return writer.Add(info) && writer.Flush() ? HelperOk() : OutputError();
}

// Reads and writes of a regular file wait as they would have without O_NONBLOCK
// (which only the open needed) on a file system that heeds it, such as FUSE.
void ClearNonBlock(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK); }

HelperStatus NotRegular(const std::string& path) {
  return HelperError(kHelperFailedPrecondition,
                     path + " is not a regular file (only regular files can be read or written)");
}

// The entries of the directory `fd` but "." and "..", sorted by name; false (errno
// set) if it cannot be read.
bool ReadNames(int fd, std::vector<std::string>& names) {
  // fdopendir takes the descriptor it is given; the caller keeps `fd`.
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return false;
  DIR* dir = fdopendir(copy);
  if (dir == nullptr) {
    int err = errno;
    close(copy);
    errno = err;
    return false;
  }
  errno = 0;
  while (const dirent* entry = readdir(dir)) {
    if (std::strcmp(entry->d_name, ".") != 0 && std::strcmp(entry->d_name, "..") != 0) {
      names.emplace_back(entry->d_name);
    }
    errno = 0;
  }
  int err = errno;
  closedir(dir);
  errno = err;
  std::sort(names.begin(), names.end());
  return err == 0;
}

// ---- ReadFile

// The rest of a range, where sendfile refuses (EINVAL: a file system without
// splice_read, an O_APPEND output): pread and write.
HelperStatus CopyRange(int in, const std::string& path, off_t position, uint64_t left, int out) {
  std::vector<char> buffer(kCopyBufferSize);
  while (left > 0) {
    ssize_t n = pread(in, buffer.data(), std::min<uint64_t>(left, buffer.size()), position);
    if (n == 0) break;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError(path, errno);
    if (!WriteAll(out, buffer.data(), static_cast<size_t>(n))) return OutputError();
    position += n;
    left -= static_cast<uint64_t>(n);
  }
  return HelperOk();
}

// sendfile from a file into a pipe is splice: the page cache's pages are passed on,
// not copied, which is how it keeps up with (and passes) `cat FILE |`.
HelperStatus SendRange(int in, const std::string& path, uint64_t offset, uint64_t length, int out) {
  off_t position = static_cast<off_t>(offset);
  uint64_t left = length == 0 ? UINT64_MAX : length;
  while (left > 0) {
    ssize_t n = sendfile(out, in, &position, std::min<uint64_t>(left, kSendfileCount));
    if (n > 0) {
      left -= static_cast<uint64_t>(n);
    } else if (n == 0) {
      break;  // The end of the file.
    } else if (errno == EAGAIN) {
      WaitFor(out, POLLOUT);  // The caller's pipe is non-blocking.
    } else if (errno == EINVAL || errno == ENOSYS) {
      return CopyRange(in, path, position, left, out);
    } else if (errno != EINTR) {
      return ErrnoError(path, errno);
    }
  }
  return HelperOk();
}

// ---- WriteFile

HelperStatus InputEnded(const std::string& path, bool append) {
  return HelperError(kHelperAborted,
                     path + ": the input ended before it was complete; " +
                         (append ? "what came before is appended" : "the file is unchanged"));
}

// Copies frame payloads from `in` into a file: with splice(2) from a pipe, which moves
// the pipe's pages into the page cache with one copy and no trip through user memory;
// through a buffer where splice refuses (EINVAL: `in` is no pipe, or the file is
// O_APPEND, which splice does not write to).
class PayloadCopier {
 public:
  PayloadCopier(int in, int file, const std::string& path, bool append)
      : in_(in), file_(file), path_(path), append_(append) {}

  HelperStatus Copy(uint32_t length) {
    uint64_t left = length;
    while (left > 0) {
      ssize_t n = use_splice_
                      ? splice(in_, nullptr, file_, nullptr, left, SPLICE_F_MOVE | SPLICE_F_MORE)
                      : Buffered(left);
      if (n > 0) {
        left -= static_cast<uint64_t>(n);
      } else if (n == 0) {
        return InputEnded(path_, append_);
      } else if (errno == EAGAIN) {
        WaitFor(in_, POLLIN);  // The server's pipe is non-blocking.
      } else if (errno == EINVAL && use_splice_) {
        use_splice_ = false;  // Nothing moved; the buffer takes over.
      } else if (errno != EINTR) {
        return ErrnoError(path_, errno);
      }
    }
    return HelperOk();
  }

 private:
  // One read from `in_`, all of it written to the file: what splice would have done.
  ssize_t Buffered(uint64_t left) {
    if (buffer_.empty()) buffer_.resize(kCopyBufferSize);
    ssize_t n = read(in_, buffer_.data(), std::min<uint64_t>(left, buffer_.size()));
    if (n > 0 && !WriteAll(file_, buffer_.data(), static_cast<size_t>(n))) return -1;
    return n;
  }

  int in_;
  int file_;
  const std::string& path_;
  bool append_;
  bool use_splice_ = true;
  std::vector<char> buffer_;
};

// Copies the kData payloads from `in` to `file` until kEnd.
HelperStatus CopyFrames(int in, int file, const std::string& path, bool append) {
  PayloadCopier copier(in, file, path, append);
  for (;;) {
    Frame frame;
    HeaderRead read = ReadFrameHeader(in, frame);
    if (read == HeaderRead::kEndOfFile) return InputEnded(path, append);
    if (read == HeaderRead::kError) {
      return HelperError(kHelperInternal, path + ": reading the input: " + std::strerror(errno));
    }
    if (read == HeaderRead::kMalformed || frame.type == FrameType::kResize) {
      return HelperError(kHelperInvalidArgument,
                         path + ": a malformed frame in the input (see protocol.h)");
    }
    if (frame.type == FrameType::kEnd) return HelperOk();
    HelperStatus copied = copier.Copy(frame.length);
    if (!copied.ok()) return copied;
  }
}

// A hidden name for a temporary file beside `name`: ".NAME.sandboxd-XXXXXX".
std::string TempName(const std::string& name) {
  static constexpr char kAlphabet[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  static unsigned counter = 0;
  unsigned char random[6];
  if (getrandom(random, sizeof random, GRND_NONBLOCK) != sizeof random) {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    unsigned long mix =
        static_cast<unsigned long>(now.tv_nsec) ^ (getpid() * 2654435761u) ^ ++counter;
    for (unsigned char& r : random) r = static_cast<unsigned char>(mix >>= 5);
  }
  // Cut NAME so that the whole stays within NAME_MAX (255).
  std::string temp = "." + name.substr(0, 200) + ".sandboxd-";
  for (unsigned char r : random) temp += kAlphabet[r % (sizeof kAlphabet - 1)];
  return temp;
}

// The new content of a file being replaced: a file in the target's directory that no
// one sees under the target's name until Commit, and that is gone unless committed.
// Preferably an O_TMPFILE, which has no name at all while it is written (so none is
// left behind whatever kills the helper); else a named temporary file.
class TempFile {
 public:
  TempFile(int dir, const std::string& name, const std::string& path)
      : dir_(dir), name_(name), path_(path) {}
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (!committed_ && !temp_name_.empty()) unlinkat(dir_, temp_name_.c_str(), 0);
  }

  // Makes the file; Commit gives it `mode`.
  HelperStatus Create(mode_t mode) {
    fd_.Reset(openat(dir_, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600));
    if (fd_.valid() && ProcLinkWorks()) {
      anonymous_ = true;
    } else {
      // No O_TMPFILE here (a file system without it), or no /proc to link it by.
      HelperStatus named = CreateNamed();
      if (!named.ok()) return named;
    }
    mode_ = mode;
    return HelperOk();
  }

  int fd() const { return fd_.get(); }

  // Puts the file at the target's name: replacing what is there, or with `exclusive`
  // only if nothing is (kHelperAlreadyExists).
  HelperStatus Commit(bool exclusive) {
    // The mode goes last: a write clears the set-user-ID and set-group-ID bits (of a
    // user without CAP_FSETID), and until now only the helper's user could read it.
    if (fchmod(fd_.get(), mode_) != 0) return ErrnoError(path_, errno);
    if (anonymous_ && exclusive) {
      // A link fails if the name exists: exclusive, and atomic.
      if (linkat(AT_FDCWD, ProcPath().c_str(), dir_, name_.c_str(), AT_SYMLINK_FOLLOW) != 0) {
        return ErrnoError(path_, errno);
      }
      committed_ = true;
      return HelperOk();
    }
    if (anonymous_) {
      // rename(2) is the one atomic replace, and it takes a name, not a descriptor.
      HelperStatus named = LinkUnderTempName();
      if (!named.ok()) return named;
    }
    const char* temp = temp_name_.c_str();
    if (!exclusive) {
      if (renameat(dir_, temp, dir_, name_.c_str()) != 0) return ErrnoError(path_, errno);
    } else if (renameat2(dir_, temp, dir_, name_.c_str(), RENAME_NOREPLACE) != 0) {
      if (errno != EINVAL) return ErrnoError(path_, errno);
      // A file system without RENAME_NOREPLACE: a hard link is exclusive too.
      if (linkat(dir_, temp, dir_, name_.c_str(), 0) != 0) return ErrnoError(path_, errno);
      unlinkat(dir_, temp, 0);
    }
    committed_ = true;
    return HelperOk();
  }

 private:
  std::string ProcPath() const { return "/proc/self/fd/" + std::to_string(fd_.get()); }

  // Whether /proc/self/fd/N is this file, so that linkat can give it a name at the end.
  bool ProcLinkWorks() const {
    struct stat ours {};
    struct stat proc {};
    return fstat(fd_.get(), &ours) == 0 && stat(ProcPath().c_str(), &proc) == 0 &&
           ours.st_dev == proc.st_dev && ours.st_ino == proc.st_ino;
  }

  HelperStatus CreateNamed() {
    anonymous_ = false;
    for (int i = 0; i < kTempNameTries; ++i) {
      std::string temp = TempName(name_);
      fd_.Reset(
          openat(dir_, temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
      if (fd_.valid()) {
        temp_name_ = temp;
        return HelperOk();
      }
      if (errno != EEXIST) return ErrnoError(path_, errno);
    }
    return ErrnoError(path_, EEXIST);
  }

  HelperStatus LinkUnderTempName() {
    for (int i = 0; i < kTempNameTries; ++i) {
      std::string temp = TempName(name_);
      if (linkat(AT_FDCWD, ProcPath().c_str(), dir_, temp.c_str(), AT_SYMLINK_FOLLOW) == 0) {
        temp_name_ = temp;
        return HelperOk();
      }
      if (errno != EEXIST) return ErrnoError(path_, errno);
    }
    return ErrnoError(path_, EEXIST);
  }

  int dir_;
  const std::string& name_;
  const std::string& path_;
  UniqueFd fd_;
  mode_t mode_ = 0600;
  bool anonymous_ = false;
  // The temporary file's name in `dir_`, once it has one.
  std::string temp_name_;
  bool committed_ = false;
};

// Writes the FileInfo of the file open at `fd`, named `path`.
HelperStatus AnswerOpen(int fd, const std::string& path, int out) {
  struct stat st {};
  if (fstat(fd, &st) != 0) return ErrnoError(path, errno);
  FileInfo info;
  Fill(st, path, info);
  InfoWriter writer(out);
  return writer.Add(info) && writer.Flush() ? HelperOk() : OutputError();
}

HelperStatus Append(int dir, const std::string& name, const std::string& path,
                    const WriteOptions& options, int in, int out) {
  // O_NOFOLLOW: never through a symlink. O_NONBLOCK: a FIFO planted at the name does
  // not hold the open up; it is refused below like anything but a regular file.
  int flags = O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC |
              (options.exclusive ? O_EXCL : 0);
  UniqueFd fd(openat(dir, name.c_str(), flags, options.mode));
  if (!fd.valid()) return ErrnoError(path, errno);
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) return ErrnoError(path, errno);
  if (!S_ISREG(st.st_mode)) return NotRegular(path);
  ClearNonBlock(fd.get());
  HelperStatus copied = CopyFrames(in, fd.get(), path, /*append=*/true);
  if (!copied.ok()) return copied;
  return AnswerOpen(fd.get(), path, out);
}

HelperStatus Replace(int dir, const std::string& name, const std::string& path,
                     const WriteOptions& options, int in, int out) {
  TempFile temp(dir, name, path);
  HelperStatus status = temp.Create(options.mode);
  if (status.ok()) status = CopyFrames(in, temp.fd(), path, /*append=*/false);
  if (status.ok()) status = temp.Commit(options.exclusive);
  if (!status.ok()) return status;
  return AnswerOpen(temp.fd(), path, out);
}

// ---- ListFiles

class Lister {
 public:
  Lister(int out, uint64_t max_entries) : writer_(out), left_(max_entries + 1) {}

  // Lists the entries of the directory `dir`, named `path`, `depth` levels down. A
  // directory that cannot be read fails the call only when it is the top one.
  HelperStatus List(int dir, const std::string& path, uint32_t depth, bool top) {
    std::vector<std::string> names;
    if (!ReadNames(dir, names)) return top ? ErrnoError(path, errno) : HelperOk();
    for (const std::string& name : names) {
      if (left_ == 0) break;
      struct stat st {};
      if (fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;  // Gone.
      std::string entry = JoinPath(path, name);
      FileInfo info;
      Fill(st, entry, info);
      if (S_ISLNK(st.st_mode)) {
        info.set_symlink_target(SanitizeUtf8(ReadLinkAt(dir, name.c_str())));
      }
      if (!writer_.Add(info)) return OutputError();
      --left_;
      if (!S_ISDIR(st.st_mode) || depth <= 1) continue;
      // O_NOFOLLOW: a directory swapped for a symlink since the fstatat is not entered.
      UniqueFd sub(openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!sub.valid()) continue;
      HelperStatus listed = List(sub.get(), entry, depth - 1, /*top=*/false);
      if (!listed.ok()) return listed;
    }
    return HelperOk();
  }

  HelperStatus Finish() { return writer_.Flush() ? HelperOk() : OutputError(); }

 private:
  InfoWriter writer_;
  uint64_t left_;
};

// ---- RemoveFile

// Removes `name` in `dir`, with all inside it if it is a directory (named `path`).
HelperStatus RemoveTree(int dir, const std::string& name, const std::string& path, bool top) {
  UniqueFd sub(openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!sub.valid()) {
    if (errno == ENOENT && !top) return HelperOk();  // Removed meanwhile.
    // Anything but a directory, a symlink to one included, goes itself.
    if (errno != ENOTDIR && errno != ELOOP) return ErrnoError(path, errno);
    if (unlinkat(dir, name.c_str(), 0) != 0 && (top || errno != ENOENT)) {
      return ErrnoError(path, errno);
    }
    return HelperOk();
  }
  std::vector<std::string> names;
  if (!ReadNames(sub.get(), names)) return ErrnoError(path, errno);
  for (const std::string& entry : names) {
    HelperStatus removed = RemoveTree(sub.get(), entry, JoinPath(path, entry), false);
    if (!removed.ok()) return removed;
  }
  if (unlinkat(dir, name.c_str(), AT_REMOVEDIR) != 0) {
    return ErrnoError(path, errno == EEXIST ? ENOTEMPTY : errno);
  }
  return HelperOk();
}

// Opens the parent of the checked `path` (see OpenDirectoryNoSymlinks) into `dir`.
HelperStatus OpenParent(const std::string& path, bool make_missing, ParentAndName& where,
                        UniqueFd& dir) {
  where = SplitPath(path);
  return OpenDirectoryNoSymlinks(where.parent, make_missing, path, dir);
}

HelperStatus RootRefused(const char* what) {
  return HelperError(kHelperFailedPrecondition, std::string("/: the root cannot be ") + what);
}

HelperStatus MoveError(const std::string& source, const std::string& destination, int err) {
  if (err == EEXIST || err == ENOTEMPTY) {
    return HelperError(
        ExitForErrno(err),
        destination + (err == EEXIST ? ": already exists (ask to overwrite it)"
                                     : ": a directory that is not empty is in the way"));
  }
  if (err == ENOENT) return ErrnoError(source, err);
  return ErrnoError(source + " -> " + destination, err);
}

}  // namespace

HelperStatus ReadFile(const std::string& path, uint64_t offset, uint64_t length, int out) {
  HelperStatus checked = CheckPath(path);
  if (!checked.ok()) return checked;
  // O_NONBLOCK: opening a FIFO must not wait for a writer; O_NOCTTY: a terminal must
  // not become ours. Neither is read before fstat says it is a regular file.
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) return ErrnoError(path, errno);
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) return ErrnoError(path, errno);
  if (!S_ISREG(st.st_mode)) return NotRegular(path);
  ClearNonBlock(fd.get());
  return SendRange(fd.get(), path, offset, length, out);
}

HelperStatus WriteFile(const std::string& path, const WriteOptions& options, int in, int out) {
  HelperStatus status = CheckPath(path);
  if (!status.ok()) return status;
  if (path == "/") return ErrnoError(path, EISDIR);
  ParentAndName where;
  UniqueFd dir;
  status = OpenParent(path, options.make_parents, where, dir);
  if (!status.ok()) return status;
  // Refused before any input is taken; the commit checks exclusivity again, atomically.
  struct stat st {};
  if (fstatat(dir.get(), where.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (options.exclusive) return ErrnoError(path, EEXIST);
    if (S_ISDIR(st.st_mode)) return ErrnoError(path, EISDIR);
  }
  return options.append ? Append(dir.get(), where.name, path, options, in, out)
                        : Replace(dir.get(), where.name, path, options, in, out);
}

HelperStatus StatFile(const std::string& path, int out) {
  HelperStatus checked = CheckPath(path);
  if (!checked.ok()) return checked;
  return Answer(AT_FDCWD, path.c_str(), path, out);
}

HelperStatus ListFiles(const std::string& path, uint32_t depth, uint64_t max_entries, int out) {
  HelperStatus status = CheckPath(path);
  if (!status.ok()) return status;
  UniqueFd dir(open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid() && errno == ENOTDIR) {
    return HelperError(kHelperFailedPrecondition,
                       path + " is not a directory (only a directory can be listed)");
  }
  if (!dir.valid()) return ErrnoError(path, errno);
  Lister lister(out, max_entries);
  status = lister.List(dir.get(), path, depth, /*top=*/true);
  HelperStatus flushed = lister.Finish();
  return status.ok() ? flushed : status;
}

HelperStatus MakeDirectory(const std::string& path, mode_t mode, bool parents, int out) {
  HelperStatus status = CheckPath(path);
  if (!status.ok()) return status;
  if (path == "/") return parents ? Answer(AT_FDCWD, "/", path, out) : ErrnoError(path, EEXIST);
  ParentAndName where;
  UniqueFd dir;
  status = OpenParent(path, parents, where, dir);
  if (!status.ok()) return status;
  const char* name = where.name.c_str();
  if (mkdirat(dir.get(), name, mode) != 0) {
    int err = errno;
    struct stat st {};
    bool is_directory = err == EEXIST && fstatat(dir.get(), name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                        S_ISDIR(st.st_mode);
    if (!parents || !is_directory) return ErrnoError(path, err);
  }
  return Answer(dir.get(), name, path, out);
}

HelperStatus MoveFile(const std::string& source, const std::string& destination, bool overwrite,
                      int out) {
  for (const std::string* path : {&source, &destination}) {
    HelperStatus checked = CheckPath(*path);
    if (!checked.ok()) return checked;
    if (*path == "/") return RootRefused("moved");
  }
  ParentAndName from, to;
  UniqueFd from_dir, to_dir;
  HelperStatus status = OpenParent(source, false, from, from_dir);
  if (status.ok()) status = OpenParent(destination, false, to, to_dir);
  if (!status.ok()) return status;
  const char* from_name = from.name.c_str();
  const char* to_name = to.name.c_str();
  int moved =
      renameat2(from_dir.get(), from_name, to_dir.get(), to_name, overwrite ? 0 : RENAME_NOREPLACE);
  if (moved != 0 && errno == EINVAL && !overwrite) {
    // EINVAL is also a file system without RENAME_NOREPLACE: check, then rename. (A
    // rename that is invalid in itself fails again below.)
    struct stat st {};
    if (fstatat(to_dir.get(), to_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
      errno = EEXIST;
    } else {
      moved = renameat(from_dir.get(), from_name, to_dir.get(), to_name);
    }
  }
  if (moved != 0) return MoveError(source, destination, errno);
  return Answer(to_dir.get(), to_name, destination, out);
}

HelperStatus RemoveFile(const std::string& path, bool recursive) {
  HelperStatus status = CheckPath(path);
  if (!status.ok()) return status;
  if (path == "/") return RootRefused("removed");
  ParentAndName where;
  UniqueFd dir;
  status = OpenParent(path, false, where, dir);
  if (!status.ok()) return status;
  const char* name = where.name.c_str();
  if (recursive) return RemoveTree(dir.get(), where.name, path, /*top=*/true);
  if (unlinkat(dir.get(), name, 0) == 0) return HelperOk();
  if (errno != EISDIR) return ErrnoError(path, errno);
  if (unlinkat(dir.get(), name, AT_REMOVEDIR) == 0) return HelperOk();
  return ErrnoError(path, errno == EEXIST ? ENOTEMPTY : errno);
}

}  // namespace sandboxd

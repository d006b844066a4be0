#include "client/file_commands.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/enum_name.h"
#include "base/unique_fd.h"
#include "base/write_all.h"
#include "client/exec_command.h"
#include "sandbox/v1/sandbox.grpc.pb.h"

namespace sandboxd {
namespace {

namespace v1 = ::sandbox::v1;
using Stub = v1::SandboxService::Stub;

// The size of each piece a file goes up in: the server's frames are no larger, and a
// message stays far below its largest request.
constexpr size_t kChunkBytes = size_t{1} << 20;

std::unique_ptr<Stub> NewStub(const Connection& connection) {
  return v1::SandboxService::NewStub(connection.NewChannel());
}

// The last component of `path` ("" for "/" or a path ending in '/').
std::string BaseName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool IsLocalDirectory(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::vector<OptionSpec> WithScope(std::vector<OptionSpec> specs) {
  specs.insert(specs.end(), FileScopeOptions().begin(), FileScopeOptions().end());
  return specs;
}

absl::StatusOr<uint32_t> FileMode(const ParsedArgs& args, uint32_t fallback) {
  if (!args.Has("file-mode")) return fallback;
  const std::string text = args.Get("file-mode");
  char* end = nullptr;
  errno = 0;
  unsigned long mode = std::strtoul(text.c_str(), &end, 8);
  if (text.empty() || *end != '\0' || errno != 0 || mode > 07777 || text[0] == '-') {
    return absl::InvalidArgumentError(
        absl::StrCat("--file-mode=", args.Get("file-mode"), " is not permission bits in octal (0644)"));
  }
  return static_cast<uint32_t>(mode);
}

// Parses the words of a file command that runs in a scope; see ParseCommand.
std::optional<ParsedArgs> ParseFileCommand(const Subcommand& self, std::vector<OptionSpec> specs,
                                           const std::vector<std::string>& words, int min_words,
                                           int max_words, v1::FileScope& scope, int& exit_code) {
  std::optional<ParsedArgs> args = ParseCommand(self, WithScope(std::move(specs)), words,
                                                /*interspersed=*/true, min_words, max_words,
                                                exit_code);
  if (!args.has_value()) return std::nullopt;
  absl::StatusOr<v1::FileScope> built = BuildFileScope(*args);
  if (!built.ok()) {
    exit_code = Fail(std::string(built.status().message()));
    return std::nullopt;
  }
  scope = *std::move(built);
  return args;
}

// Streams the file at `path` (fd `fd`, or stdin) to the sandbox's `remote`.
int Upload(const Connection& connection, const ParsedArgs& args, const v1::FileScope& scope,
           const std::string& local, const std::string& remote, bool json) {
  UniqueFd file;
  int fd = STDIN_FILENO;
  uint32_t local_mode = 0644;
  std::optional<uint64_t> size;
  if (local != "-") {
    file.Reset(open(local.c_str(), O_RDONLY | O_CLOEXEC));
    if (file.get() < 0) return Fail(absl::StrCat("cannot open ", local, ": ", strerror(errno)));
    struct stat st;
    if (fstat(file.get(), &st) == 0) {
      if (S_ISDIR(st.st_mode)) return Fail(absl::StrCat(local, " is a directory"));
      local_mode = st.st_mode & 0777;  // As cp keeps it (less the umask, there).
      // The server then writes the file only if all of it came.
      if (S_ISREG(st.st_mode)) size = static_cast<uint64_t>(st.st_size);
    }
    fd = file.get();
  }
  absl::StatusOr<uint32_t> mode = FileMode(args, local_mode);
  if (!mode.ok()) return Fail(std::string(mode.status().message()));
  v1::WriteFileRequest message;
  v1::WriteFileHeader& header = *message.mutable_header();
  header.set_path(remote);
  *header.mutable_scope() = scope;
  header.set_mode(*mode);
  header.set_append(args.Has("append"));
  header.set_exclusive(args.Has("exclusive"));
  header.set_make_parents(args.Has("parents"));
  if (size.has_value()) header.set_size(*size);
  auto stub = NewStub(connection);
  std::unique_ptr<grpc::ClientContext> context = NewContext(connection, absl::InfiniteDuration());
  v1::FileInfo info;
  std::unique_ptr<grpc::ClientWriter<v1::WriteFileRequest>> writer =
      stub->WriteFile(context.get(), &info);
  bool flowing = writer->Write(message);
  std::string buf(kChunkBytes, '\0');
  int read_error = 0;
  while (flowing) {
    // A whole chunk when the file has one, so that pieces are large.
    size_t have = 0;
    while (have < buf.size()) {
      ssize_t n = read(fd, buf.data() + have, buf.size() - have);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) read_error = errno;
      if (n <= 0) break;
      have += static_cast<size_t>(n);
    }
    if (read_error != 0) break;
    if (have == 0) break;
    message.Clear();
    message.set_data(buf.data(), have);
    flowing = writer->Write(message);
    if (have < buf.size()) break;  // The end of the file.
  }
  if (read_error != 0) {
    // Cancelled, the call leaves the target as it was.
    context->TryCancel();
    writer->Finish();
    return Fail(absl::StrCat("cannot read ", local == "-" ? "stdin" : local, ": ",
                             strerror(read_error)));
  }
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  if (!status.ok()) return RpcFailure(connection, status);
  if (json) PrintJson(info);
  return 0;
}

// Writes the chunks of the sandbox's `remote` to `local` (or stdout) as they come. A
// local file is made at the first chunk (or at the end, for an empty one), so that a
// refused call leaves it as it was.
int Download(const Connection& connection, const v1::FileScope& scope, const std::string& remote,
             const std::string& local) {
  v1::ReadFileRequest request;
  request.set_path(remote);
  *request.mutable_scope() = scope;
  auto stub = NewStub(connection);
  std::unique_ptr<grpc::ClientContext> context = NewContext(connection, absl::InfiniteDuration());
  std::unique_ptr<grpc::ClientReader<v1::FileChunk>> reader = stub->ReadFile(context.get(), request);
  UniqueFd file;
  auto open_local = [&]() -> bool {
    if (local == "-" || file.get() >= 0) return true;
    file.Reset(open(local.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666));
    return file.get() >= 0;
  };
  std::string failure;
  uint64_t expected = 0;
  v1::FileChunk chunk;
  while (failure.empty() && reader->Read(&chunk)) {
    if (chunk.offset() != expected) {
      failure = absl::StrCat("the server sent bytes from ", chunk.offset(), " where ", expected,
                             " were due");
    } else if (!open_local()) {
      failure = absl::StrCat("cannot create ", local, ": ", strerror(errno));
    } else if (!WriteAll(local == "-" ? STDOUT_FILENO : file.get(), chunk.data())) {
      failure = absl::StrCat("cannot write ", local == "-" ? "stdout" : local, ": ",
                             strerror(errno));
    }
    expected += chunk.data().size();
  }
  if (!failure.empty()) {
    context->TryCancel();
    reader->Finish();
    return Fail(failure);
  }
  grpc::Status status = reader->Finish();
  if (!status.ok()) return RpcFailure(connection, status);
  if (!open_local()) return Fail(absl::StrCat("cannot create ", local, ": ", strerror(errno)));
  if (file.get() >= 0 && close(file.Release()) != 0) {
    return Fail(absl::StrCat("cannot write ", local, ": ", strerror(errno)));
  }
  return 0;
}

int Copy(const Subcommand& self, const Connection& connection,
         const std::vector<std::string>& words, bool json) {
  v1::FileScope scope;
  int exit_code = 0;
  std::optional<ParsedArgs> args = ParseFileCommand(
      self,
      {{"file-mode", "OCTAL", "permission bits of a new file (default: the local file's, or 0644)"},
       {"append", "", "add to the end of the file instead of replacing it"},
       {"exclusive", "", "fail when the file exists"},
       {"parents", "", "make missing parent directories"}},
      words, 2, 2, scope, exit_code);
  if (!args.has_value()) return exit_code;
  absl::StatusOr<CopyEnds> ends = ParseCopyEnds(args->rest[0], args->rest[1]);
  if (!ends.ok()) return Fail(std::string(ends.status().message()));
  if (ends->upload) {
    if (absl::EndsWith(ends->remote, "/")) {
      if (ends->local == "-") return Fail("name the file to write stdin to, not a directory");
      ends->remote += BaseName(ends->local);
    }
    return Upload(connection, *args, scope, ends->local, ends->remote, json);
  }
  if (ends->local != "-" && (absl::EndsWith(ends->local, "/") || IsLocalDirectory(ends->local))) {
    ends->local = absl::StrCat(ends->local, absl::EndsWith(ends->local, "/") ? "" : "/",
                               BaseName(ends->remote));
  }
  return Download(connection, scope, ends->remote, ends->local);
}

int Cat(const Subcommand& self, const Connection& connection,
        const std::vector<std::string>& words, bool) {
  v1::FileScope scope;
  int exit_code = 0;
  std::optional<ParsedArgs> args = ParseFileCommand(self, {}, words, 1, -1, scope, exit_code);
  if (!args.has_value()) return exit_code;
  for (const std::string& path : args->rest) {
    if (int code = Download(connection, scope, SandboxPath(path), "-"); code != 0) return code;
  }
  return 0;
}

int List(const Subcommand& self, const Connection& connection,
         const std::vector<std::string>& words, bool json) {
  v1::FileScope scope;
  int exit_code = 0;
  std::optional<ParsedArgs> args = ParseFileCommand(
      self, {{"depth", "N", "levels to list below PATH (default 1, at most 16)", false, false, 'd'}},
      words, 1, 1, scope, exit_code);
  if (!args.has_value()) return exit_code;
  v1::ListFilesRequest request;
  request.set_path(SandboxPath(args->rest[0]));
  *request.mutable_scope() = scope;
  if (args->Has("depth")) {
    uint32_t depth = 0;
    if (!absl::SimpleAtoi(args->Get("depth"), &depth)) return Fail("--depth needs a whole number");
    request.set_depth(depth);
  }
  v1::ListFilesResponse response;
  std::unique_ptr<grpc::ClientContext> context = NewContext(connection, kCallTimeout);
  grpc::Status status = NewStub(connection)->ListFiles(context.get(), request, &response);
  if (!status.ok()) return RpcFailure(connection, status);
  if (json) {
    PrintJson(response);
    return 0;
  }
  for (const v1::FileInfo& info : response.entries()) std::cout << FormatFileInfo(info) << "\n";
  if (response.truncated()) {
    std::cerr << "sandboxctl: more entries than the server lists at once; list less deeply\n";
  }
  return 0;
}

int Stat(const Subcommand& self, const Connection& connection,
         const std::vector<std::string>& words, bool json) {
  v1::FileScope scope;
  int exit_code = 0;
  std::optional<ParsedArgs> args = ParseFileCommand(self, {}, words, 1, -1, scope, exit_code);
  if (!args.has_value()) return exit_code;
  auto stub = NewStub(connection);
  for (const std::string& path : args->rest) {
    v1::StatFileRequest request;
    request.set_path(SandboxPath(path));
    *request.mutable_scope() = scope;
    v1::FileInfo info;
    std::unique_ptr<grpc::ClientContext> context = NewContext(connection, kCallTimeout);
    grpc::Status status = stub->StatFile(context.get(), request, &info);
    if (!status.ok()) return RpcFailure(connection, status);
    if (json) {
      PrintJson(info);
      continue;
    }
    std::cout << "path: " << info.path() << "\ntype: " << LogName(info.type())
              << "\nsize: " << info.size() << "\nmode: " << absl::StrFormat("%04o", info.mode())
              << "\nmodified: " << FormatTimestamp(info.modified()) << "\n";
    if (info.type() == v1::SYMLINK) std::cout << "target: " << info.symlink_target() << "\n";
  }
  return 0;
}

int MakeDirectory(const Subcommand& self, const Connection& connection,
                  const std::vector<std::string>& words, bool json) {
  v1::FileScope scope;
  int exit_code = 0;
  std::optional<ParsedArgs> args = ParseFileCommand(
      self,
      {{"parents", "", "make missing parents too, and succeed when it exists", false, false, 'p'},
       {"file-mode", "OCTAL", "permission bits (default 0755)"}},
      words, 1, -1, scope, exit_code);
  if (!args.has_value()) return exit_code;
  absl::StatusOr<uint32_t> mode = FileMode(*args, 0);
  if (!mode.ok()) return Fail(std::string(mode.status().message()));
  auto stub = NewStub(connection);
  for (const std::string& path : args->rest) {
    v1::MakeDirectoryRequest request;
    request.set_path(SandboxPath(path));
    *request.mutable_scope() = scope;
    request.set_mode(*mode);
    request.set_parents(args->Has("parents"));
    v1::FileInfo info;
    std::unique_ptr<grpc::ClientContext> context = NewContext(connection, kCallTimeout);
    grpc::Status status = stub->MakeDirectory(context.get(), request, &info);
    if (!status.ok()) return RpcFailure(connection, status);
    if (json) PrintJson(info);
  }
  return 0;
}

int Move(const Subcommand& self, const Connection& connection,
         const std::vector<std::string>& words, bool json) {
  v1::FileScope scope;
  int exit_code = 0;
  std::optional<ParsedArgs> args = ParseFileCommand(
      self, {{"overwrite", "", "replace what is at DST", false, false, 'f'}}, words, 2, 2, scope,
      exit_code);
  if (!args.has_value()) return exit_code;
  v1::MoveFileRequest request;
  request.set_source(SandboxPath(args->rest[0]));
  request.set_destination(SandboxPath(args->rest[1]));
  *request.mutable_scope() = scope;
  request.set_overwrite(args->Has("overwrite"));
  v1::FileInfo info;
  std::unique_ptr<grpc::ClientContext> context = NewContext(connection, kCallTimeout);
  grpc::Status status = NewStub(connection)->MoveFile(context.get(), request, &info);
  if (!status.ok()) return RpcFailure(connection, status);
  if (json) PrintJson(info);
  return 0;
}

int Remove(const Subcommand& self, const Connection& connection,
           const std::vector<std::string>& words, bool) {
  v1::FileScope scope;
  int exit_code = 0;
  std::optional<ParsedArgs> args = ParseFileCommand(
      self,
      {{"recursive", "", "a directory with everything in it (symlinks are not followed)", false,
        false, 'r'}},
      words, 1, -1, scope, exit_code);
  if (!args.has_value()) return exit_code;
  auto stub = NewStub(connection);
  for (const std::string& path : args->rest) {
    v1::RemoveFileRequest request;
    request.set_path(SandboxPath(path));
    *request.mutable_scope() = scope;
    request.set_recursive(args->Has("recursive"));
    v1::RemoveFileResponse response;
    std::unique_ptr<grpc::ClientContext> context = NewContext(connection, kCallTimeout);
    grpc::Status status = stub->RemoveFile(context.get(), request, &response);
    if (!status.ok()) return RpcFailure(connection, status);
  }
  return 0;
}

char TypeLetter(v1::FileType type) {
  switch (type) {
    case v1::REGULAR:
      return '-';
    case v1::DIRECTORY:
      return 'd';
    case v1::SYMLINK:
      return 'l';
    default:
      return '?';
  }
}

}  // namespace

const std::vector<OptionSpec>& FileScopeOptions() {
  static const auto* options = [] {
    const std::vector<std::string> names = {"session",  "mode",      "writable",
                                            "readable", "deny-read", "protect",
                                            "allow-git-writes"};
    auto* specs = new std::vector<OptionSpec>();
    for (const std::string& name : names) {
      for (const OptionSpec& spec : ExecOptions()) {
        if (spec.name == name) specs->push_back(spec);
      }
    }
    (*specs)[0].help = "in this session: its /tmp, and its policy unless options here name one";
    return specs;
  }();
  return *options;
}

absl::StatusOr<v1::FileScope> BuildFileScope(const ParsedArgs& args) {
  v1::FileScope scope;
  scope.set_session_id(args.Get("session"));
  if (NamesPolicy(args)) {
    absl::StatusOr<v1::SandboxPolicy> policy = BuildPolicy(args);
    if (!policy.ok()) return policy.status();
    *scope.mutable_policy() = *std::move(policy);
  }
  return scope;
}

std::string SandboxPath(const std::string& word) {
  return absl::StartsWith(word, ":") ? word.substr(1) : word;
}

std::string FormatFileInfo(const v1::FileInfo& info) {
  std::string line = absl::StrFormat("%c %04o %d %s %s", TypeLetter(info.type()), info.mode(),
                                     info.size(), FormatTimestamp(info.modified()), info.path());
  if (info.type() == v1::SYMLINK) absl::StrAppend(&line, " -> ", info.symlink_target());
  return line;
}

absl::StatusOr<CopyEnds> ParseCopyEnds(const std::string& source, const std::string& destination) {
  bool from_sandbox = absl::StartsWith(source, ":");
  bool to_sandbox = absl::StartsWith(destination, ":");
  if (from_sandbox == to_sandbox) {
    return absl::InvalidArgumentError(
        "cp copies between here and the sandbox: write exactly one of SRC and DST as "
        ":/path/in/the/sandbox (cp ./a.txt :/work/a.txt, cp :/work/out.bin .)");
  }
  CopyEnds ends;
  ends.upload = to_sandbox;
  ends.local = to_sandbox ? source : destination;
  ends.remote = SandboxPath(to_sandbox ? destination : source);
  if (ends.local.empty() || ends.remote.empty()) {
    return absl::InvalidArgumentError("cp needs a path on each side");
  }
  return ends;
}

const std::vector<Subcommand>& FileCommands() {
  static const auto* commands = new std::vector<Subcommand>{
      {"cp", "[options] SRC DST",
       "copy a file in (DST :/path) or out (SRC :/path); - is stdin or stdout", Copy},
      {"ls", "[-d DEPTH] PATH", "list a directory: type, mode, size, mtime, path", List},
      {"cat", "PATH...", "print files", Cat},
      {"stat", "PATH...", "describe files (symlinks not followed)", Stat},
      {"mkdir", "[-p] [--file-mode=OCTAL] PATH...", "make directories", MakeDirectory},
      {"mv", "[-f] SRC DST", "move or rename a file within the sandbox", Move},
      {"rm", "[-r] PATH...", "remove files (with -r, directories)", Remove},
  };
  return *commands;
}

}  // namespace sandboxd

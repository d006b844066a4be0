// The service's file calls. Each runs sandboxd-helper inside a sandbox made from the
// call's scope exactly as a command's would be (same policy checks, mounts, user,
// seccomp), so a file call can touch only what a command of the same request could:
// the kernel enforces the writable roots, protected paths and hidden paths, not code
// of ours that could get them wrong. The helper refuses symlinks on the way of a
// change besides (sandbox/inside/).
#include <fcntl.h>
#include <poll.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <deque>
#include <cstring>
#include <limits>
#include <optional>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/util/delimited_message_util.h"
#include "sandbox/inside/protocol.h"
#include "server/response.h"
#include "server/service.h"
#include "server/status.h"

namespace sandboxd {
namespace {

namespace v1 = ::sandbox::v1;

// Entries one ListFiles returns at most, and its deepest level.
constexpr int kMaxListEntries = 10000;
constexpr uint32_t kMaxListDepth = 16;
// What a file call's helper may print besides file data: ListFiles' entries.
constexpr size_t kMaxInfoBytes = size_t{16} << 20;
constexpr size_t kMaxMessageBytes = 4096;

// INVALID_ARGUMENT unless `path` is absolute, without empty, "." or ".." components.
absl::Status CheckPath(const std::string& path, const char* field) {
  bool ok = absl::StartsWith(path, "/") && path.size() <= 4096 &&
            path.find('\0') == std::string::npos;
  for (absl::string_view part : absl::StrSplit(path.substr(std::min<size_t>(1, path.size())), '/')) {
    if (path == "/") break;
    ok = ok && !part.empty() && part != "." && part != "..";
  }
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      field, " \"", path, "\" must be an absolute path without empty, \".\" or \"..\" "
      "components (as the sandbox sees it: /work/src/main.c)"));
}

std::string Octal(uint32_t mode) { return absl::StrFormat("%o", mode); }

// The helper's failure as a status: its exit status is the code, its stderr the why.
absl::Status HelperStatus(const RunResult& result, const std::string& errors) {
  std::string why(absl::StripTrailingAsciiWhitespace(errors));
  if (result.termination == Termination::EXITED && result.exit_code == kHelperOk) {
    return absl::OkStatus();
  }
  // Only the statuses the helper gives: anything else is bwrap's or the launcher's.
  bool helpers = false;
  for (int code : {kHelperInvalidArgument, kHelperNotFound, kHelperAlreadyExists,
                   kHelperPermissionDenied, kHelperResourceExhausted, kHelperFailedPrecondition,
                   kHelperAborted, kHelperInternal}) {
    helpers = helpers || result.exit_code == code;
  }
  if (result.termination == Termination::EXITED && helpers && !why.empty()) {
    return absl::Status(static_cast<absl::StatusCode>(result.exit_code), why);
  }
  if (result.termination == Termination::TIMED_OUT) {
    return absl::DeadlineExceededError("the file call ran past its timeout");
  }
  if (result.termination == Termination::CANCELLED) {
    return absl::CancelledError("the file call was cancelled");
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "the file call's sandbox failed: ", result.message.empty() ? why : result.message));
}

// The FileInfo messages `bytes` holds, each preceded by its length; `cut`: the helper
// printed more than `bytes`, whose last message may then be cut short. DATA_LOSS for
// anything else that does not parse.
absl::StatusOr<std::vector<v1::FileInfo>> ParseInfos(const std::string& bytes, bool cut) {
  std::vector<v1::FileInfo> infos;
  google::protobuf::io::ArrayInputStream input(bytes.data(), static_cast<int>(bytes.size()));
  while (true) {
    v1::FileInfo info;
    bool clean_eof = false;
    if (google::protobuf::util::ParseDelimitedFromZeroCopyStream(&info, &input, &clean_eof)) {
      infos.push_back(std::move(info));
      continue;
    }
    if (clean_eof || cut) return infos;
    return absl::DataLossError(absl::StrCat(
        "sandboxd-helper's answer did not parse after ", infos.size(), " entries"));
  }
}

// Writes all of `parts` to the non-blocking `fd`, unless `stop` says to give up.
absl::Status WriteAll(int fd, std::vector<absl::string_view> parts,
                      const std::atomic<bool>& stop) {
  size_t part = 0, done = 0;
  while (part < parts.size()) {
    iovec io[2];
    int n = 0;
    for (size_t i = part; i < parts.size() && n < 2; ++i, ++n) {
      size_t skip = i == part ? done : 0;
      io[n] = {const_cast<char*>(parts[i].data() + skip), parts[i].size() - skip};
    }
    ssize_t wrote = writev(fd, io, n);
    if (wrote < 0 && errno != EAGAIN && errno != EINTR) {
      return absl::AbortedError(absl::StrCat("the file's writer ended early: ", strerror(errno)));
    }
    for (ssize_t left = std::max<ssize_t>(wrote, 0); left > 0 && part < parts.size();) {
      size_t now = std::min<size_t>(static_cast<size_t>(left), parts[part].size() - done);
      done += now;
      left -= static_cast<ssize_t>(now);
      if (done == parts[part].size()) {
        ++part;
        done = 0;
      }
    }
    while (part < parts.size() && parts[part].size() == done) {
      ++part;
      done = 0;
    }
    if (part == parts.size()) break;
    if (wrote <= 0) {
      if (stop.load()) return absl::AbortedError("the file's writer ended early");
      pollfd wait{fd, POLLOUT, 0};
      poll(&wait, 1, 100);
    }
  }
  return absl::OkStatus();
}

// Writes an upload's frames into the helper's stdin on a thread of its own, so that
// reading the client's next message overlaps writing the last one (with the two taking
// turns on the call's thread, uploads ran at about 600 MiB/s). Holds at most
// kBacklogBytes of the client's data at once.
class Feeder {
 public:
  static constexpr size_t kBacklogBytes = size_t{8} << 20;

  // `helper_done`: the helper has exited, so nothing will drain `fd` any more.
  Feeder(int fd, const std::atomic<bool>& helper_done)
      : fd_(fd), helper_done_(helper_done), thread_([this] { Run(); }) {}
  ~Feeder() { Finish(false); }

  // Queues `data`, waiting while the backlog is full; false once feeding failed.
  bool Add(std::string data) {
    absl::MutexLock lock(&mu_);
    auto room = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return queued_ < kBacklogBytes || !status_.ok();
    };
    mu_.Await(absl::Condition(&room));
    if (!status_.ok()) return false;
    queued_ += data.size();
    queue_.push_back(std::move(data));
    return true;
  }

  // No more data; with `complete`, the end frame follows it (else the helper leaves
  // the target as it was). Waits for the thread; says how feeding went.
  absl::Status Finish(bool complete) {
    {
      absl::MutexLock lock(&mu_);
      if (!closed_) complete_ = complete;
      closed_ = true;
    }
    if (thread_.joinable()) thread_.join();
    absl::MutexLock lock(&mu_);
    return status_;
  }

 private:
  void Run() {
    while (true) {
      std::string data;
      bool end = false;
      {
        absl::MutexLock lock(&mu_);
        auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return !queue_.empty() || closed_;
        };
        mu_.Await(absl::Condition(&ready));
        if (queue_.empty()) {
          end = complete_;
        } else {
          data = std::move(queue_.front());
          queue_.pop_front();
        }
      }
      absl::Status s = data.empty() ? absl::OkStatus() : Write(data);
      if (s.ok() && data.empty() && end) {
        s = WriteAll(fd_, {FrameHeader(FrameType::kEnd, 0)}, helper_done_);
      }
      absl::MutexLock lock(&mu_);
      queued_ -= data.size();
      if (!s.ok()) status_ = s;
      if (!s.ok() || (data.empty() && closed_ && queue_.empty())) return;
    }
  }

  absl::Status Write(absl::string_view data) {
    for (size_t at = 0; at < data.size(); at += kMaxFramePayload) {
      absl::string_view piece = data.substr(at, kMaxFramePayload);
      std::string head = FrameHeader(FrameType::kData, static_cast<uint32_t>(piece.size()));
      if (absl::Status s = WriteAll(fd_, {head, piece}, helper_done_); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  const int fd_;
  const std::atomic<bool>& helper_done_;
  absl::Mutex mu_;
  std::deque<std::string> queue_ ABSL_GUARDED_BY(mu_);
  size_t queued_ ABSL_GUARDED_BY(mu_) = 0;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  bool complete_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace

absl::StatusOr<Plan> SandboxServiceImpl::FilePlan(const v1::FileScope& scope,
                                                  std::vector<std::string> args,
                                                  const std::string& client) const {
  v1::ExecRequest request;
  request.add_argv(kHelperPathInSandbox);
  if (scope.has_policy()) *request.mutable_policy() = scope.policy();
  request.set_session_id(scope.session_id());
  // Outside a session no cwd is named, so none may become a writable root.
  if (scope.session_id().empty()) {
    request.set_cwd("/");
    request.mutable_policy()->set_exclude_cwd(true);
  }
  // Large files take their time; the client's deadline still bounds the call.
  SetDuration(LongestTimeoutFor(client), *request.mutable_timeout());
  absl::StatusOr<Plan> plan = PlanFor(request, client);
  if (!plan.ok()) return plan.status();
  if (absl::Status s = UseHelper(*plan, std::move(args), /*command_follows=*/false); !s.ok()) {
    return s;
  }
  return plan;
}

Alarms::Armed SandboxServiceImpl::CancelAt(grpc::ServerContext& context, absl::Time when) {
  return alarms_.Set(when, [&context] { context.TryCancel(); });
}

absl::StatusOr<RunQueue::Ticket> SandboxServiceImpl::FileTurn(
    const Plan& plan, const std::function<bool()>& cancelled) {
  // A session that ends meanwhile ends the wait too.
  return queue_.Acquire(absl::Now() + plan.timeout, [&] {
    return cancelled() || (plan.ended && plan.ended());
  });
}

absl::Status SandboxServiceImpl::RunFileCall(const Plan& plan, RunIo& io,
                                             std::vector<v1::FileInfo>* infos,
                                             bool* cut) const {
  io.timeout = plan.timeout;
  io.cancel_fd = cancel_read_.get();
  if (io.output_limit == 0) io.output_limit = kMaxInfoBytes;
  std::string printed, errors;
  auto stream = std::move(io.on_output);
  io.on_output = [&](int fd, uint64_t offset, absl::string_view data) {
    if (fd == 2) {
      absl::string_view kept =
          data.substr(0, kMaxMessageBytes - std::min(errors.size(), kMaxMessageBytes));
      errors.append(kept.data(), kept.size());
    } else if (stream) {
      stream(fd, offset, data);
    } else {
      printed.append(data.data(), data.size());
    }
  };
  absl::StatusOr<RunResult> result = runner_.Run(plan, io);
  if (!result.ok()) return result.status();
  if (absl::Status s = HelperStatus(*result, errors); !s.ok()) return s;
  bool more = result->stdout_data.total_bytes() > printed.size() && !stream;
  if (cut != nullptr) *cut = more;
  if (infos == nullptr) return absl::OkStatus();
  absl::StatusOr<std::vector<v1::FileInfo>> parsed = ParseInfos(printed, more);
  if (!parsed.ok()) return parsed.status();
  *infos = *std::move(parsed);
  return absl::OkStatus();
}

grpc::Status SandboxServiceImpl::ReadFile(grpc::ServerContext* context,
                                          const v1::ReadFileRequest* request,
                                          grpc::ServerWriter<v1::FileChunk>* writer) {
  CallRecord call(*this, "file", "ReadFile");
  absl::StatusOr<std::string> client = Identify(*context, call.log);
  if (!client.ok()) return Refuse(client.status(), call);
  if (absl::Status s = CheckPath(request->path(), "path"); !s.ok()) return Refuse(s, call);
  absl::StatusOr<Plan> plan =
      FilePlan(request->scope(),
               {"read", request->path(), absl::StrCat(request->offset()),
                absl::StrCat(request->length())},
               *client);
  if (!plan.ok()) return Refuse(plan.status(), call);
  std::atomic<bool> gone{false};
  RunIo io;
  io.output_limit = std::numeric_limits<size_t>::max();
  io.is_cancelled = [&] { return gone.load() || context->IsCancelled(); };
  absl::StatusOr<RunQueue::Ticket> ticket = FileTurn(*plan, io.is_cancelled);
  if (!ticket.ok()) return Refuse(ticket.status(), call);
  Alarms::Armed whole = CancelAt(*context, absl::Now() + plan->timeout);
  uint64_t start = request->offset();
  io.on_output = [&](int, uint64_t offset, absl::string_view data) {
    if (gone.load()) return;
    v1::FileChunk chunk;
    chunk.set_offset(start + offset);
    chunk.set_data(data.data(), data.size());
    // Blocks while the client is behind: the helper then waits on a full pipe, so a
    // slow reader costs the server a chunk, not the file. The worker cannot check its
    // deadline meanwhile, so a client that stops taking chunks is cancelled here.
    Alarms::Armed stalled = CancelAt(*context, absl::Now() + bounds_.stream_stall);
    if (!writer->Write(chunk)) gone = true;
  };
  absl::Status s = RunFileCall(*plan, io, nullptr);
  if (!s.ok()) return Refuse(s, call);
  call.log.set_status("OK");
  WriteLog(call.log);
  return grpc::Status::OK;
}

grpc::Status SandboxServiceImpl::WriteFile(grpc::ServerContext* context,
                                           grpc::ServerReader<v1::WriteFileRequest>* reader,
                                           v1::FileInfo* response) {
  CallRecord call(*this, "file", "WriteFile");
  absl::StatusOr<std::string> client = Identify(*context, call.log);
  if (!client.ok()) return Refuse(client.status(), call);
  // Until its turn, the call holds a place among the waiting: streams that send
  // nothing cannot pile up (each holds a thread of the server's).
  absl::StatusOr<RunQueue::Place> held = queue_.Hold();
  if (!held.ok()) return Refuse(held.status(), call);
  std::optional<RunQueue::Place> place(*std::move(held));
  v1::WriteFileRequest message;
  bool read;
  {
    Alarms::Armed stalled = CancelAt(*context, absl::Now() + bounds_.stream_stall);
    read = reader->Read(&message);
  }
  if (!read || !message.has_header()) {
    return Refuse(absl::InvalidArgumentError("a WriteFile stream starts with its header"), call);
  }
  const v1::WriteFileHeader header = message.header();
  if (absl::Status s = CheckPath(header.path(), "header.path"); !s.ok()) return Refuse(s, call);
  if (header.mode() > 07777) {
    return Refuse(absl::InvalidArgumentError("header.mode must be permission bits (0644)"), call);
  }
  std::string flags = absl::StrCat(header.append() ? "a" : "", header.exclusive() ? "x" : "",
                                   header.make_parents() ? "p" : "");
  absl::StatusOr<Plan> plan =
      FilePlan(header.scope(),
               {"write", header.path(), Octal(header.mode() == 0 ? 0644 : header.mode()),
                flags.empty() ? "-" : flags},
               *client);
  if (!plan.ok()) return Refuse(plan.status(), call);
  place.reset();  // Waiting for a turn counts instead.
  absl::StatusOr<RunQueue::Ticket> ticket =
      FileTurn(*plan, [context] { return context->IsCancelled(); });
  if (!ticket.ok()) return Refuse(ticket.status(), call);
  Alarms::Armed whole = CancelAt(*context, absl::Now() + plan->timeout);
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return Refuse(absl::InternalError("pipe2"), call);
  UniqueFd data_read(fds[0]), data_write(fds[1]);
  fcntl(data_write.get(), F_SETFL, O_NONBLOCK);
  fcntl(data_write.get(), F_SETPIPE_SZ, 1 << 20);  // Best effort.
  std::atomic<bool> done{false};
  absl::Status ran;
  std::vector<v1::FileInfo> infos;
  RunIo io;
  io.stdin_fd = data_read.get();
  io.is_cancelled = [context] { return context->IsCancelled(); };
  std::thread run([&] {
    ran = RunFileCall(*plan, io, &infos);
    done = true;
  });
  // What the client got wrong (it wins over what the helper then says: it aborted).
  absl::Status misused;
  absl::Status fed;
  uint64_t bytes = 0;
  {
    Feeder feeder(data_write.get(), done);
    bool feeding = true;
    auto next = [&] {
      Alarms::Armed stalled = CancelAt(*context, absl::Now() + bounds_.stream_stall);
      return reader->Read(&message);
    };
    while (feeding && next()) {
      if (message.has_header()) {
        misused = absl::InvalidArgumentError("a WriteFile stream has one header, first");
        break;
      }
      std::string data = std::move(message.has_text() ? *message.mutable_text()
                                                      : *message.mutable_data());
      bytes += data.size();
      if (!data.empty()) feeding = feeder.Add(std::move(data));
    }
    if (misused.ok() && header.has_size() && bytes != header.size()) {
      misused = absl::InvalidArgumentError(absl::StrCat(
          "the stream carried ", bytes, " bytes, and its header said size ", header.size(),
          "; the file was left as it was"));
    }
    // Only a stream the client ended itself is complete: without kEnd the helper leaves
    // the target as it was.
    fed = feeder.Finish(misused.ok() && !context->IsCancelled());
  }
  data_write.Reset();
  run.join();
  if (!misused.ok()) ran = misused;
  if (!fed.ok() && ran.ok()) ran = fed;
  if (!ran.ok()) return Refuse(ran, call);
  if (infos.empty()) return Refuse(absl::InternalError("sandboxd-helper said nothing of the file"), call);
  *response = infos[0];
  call.log.set_stdout_bytes(static_cast<double>(bytes));
  call.log.set_status("OK");
  WriteLog(call.log);
  return grpc::Status::OK;
}

grpc::Status SandboxServiceImpl::ListFiles(grpc::ServerContext* context,
                                           const v1::ListFilesRequest* request,
                                           v1::ListFilesResponse* response) {
  CallRecord call(*this, "file", "ListFiles");
  absl::StatusOr<std::string> client = Identify(*context, call.log);
  if (!client.ok()) return Refuse(client.status(), call);
  if (absl::Status s = CheckPath(request->path(), "path"); !s.ok()) return Refuse(s, call);
  if (request->depth() > kMaxListDepth) {
    return Refuse(absl::InvalidArgumentError(absl::StrCat("depth must be at most ", kMaxListDepth)),
                  call);
  }
  absl::StatusOr<Plan> plan = FilePlan(
      request->scope(),
      {"list", request->path(), absl::StrCat(request->depth() == 0 ? 1 : request->depth()),
       absl::StrCat(kMaxListEntries)},
      *client);
  if (!plan.ok()) return Refuse(plan.status(), call);
  RunIo io;
  io.is_cancelled = [context] { return context->IsCancelled(); };
  absl::StatusOr<RunQueue::Ticket> ticket = FileTurn(*plan, io.is_cancelled);
  if (!ticket.ok()) return Refuse(ticket.status(), call);
  std::vector<v1::FileInfo> infos;
  bool cut = false;
  if (absl::Status s = RunFileCall(*plan, io, &infos, &cut); !s.ok()) return Refuse(s, call);
  response->set_truncated(cut || infos.size() > kMaxListEntries);
  if (infos.size() > kMaxListEntries) infos.resize(kMaxListEntries);
  for (v1::FileInfo& info : infos) *response->add_entries() = std::move(info);
  call.log.set_status("OK");
  WriteLog(call.log);
  return grpc::Status::OK;
}

grpc::Status SandboxServiceImpl::PathCall(grpc::ServerContext* context, const char* method,
                                          const v1::FileScope& scope, const absl::Status& checked,
                                          std::vector<std::string> args, v1::FileInfo* info) {
  CallRecord call(*this, "file", method);
  absl::StatusOr<std::string> client = Identify(*context, call.log);
  if (!client.ok()) return Refuse(client.status(), call);
  if (!checked.ok()) return Refuse(checked, call);
  absl::StatusOr<Plan> plan = FilePlan(scope, std::move(args), *client);
  if (!plan.ok()) return Refuse(plan.status(), call);
  RunIo io;
  io.is_cancelled = [context] { return context->IsCancelled(); };
  absl::StatusOr<RunQueue::Ticket> ticket = FileTurn(*plan, io.is_cancelled);
  if (!ticket.ok()) return Refuse(ticket.status(), call);
  std::vector<v1::FileInfo> infos;
  if (absl::Status s = RunFileCall(*plan, io, &infos); !s.ok()) return Refuse(s, call);
  if (info != nullptr && !infos.empty()) *info = infos[0];
  call.log.set_status("OK");
  WriteLog(call.log);
  return grpc::Status::OK;
}

grpc::Status SandboxServiceImpl::StatFile(grpc::ServerContext* context,
                                          const v1::StatFileRequest* request,
                                          v1::FileInfo* response) {
  return PathCall(context, "StatFile", request->scope(), CheckPath(request->path(), "path"),
                  {"stat", request->path()}, response);
}

grpc::Status SandboxServiceImpl::MakeDirectory(grpc::ServerContext* context,
                                               const v1::MakeDirectoryRequest* request,
                                               v1::FileInfo* response) {
  absl::Status checked = request->mode() > 07777
                             ? absl::InvalidArgumentError("mode must be permission bits (0755)")
                             : CheckPath(request->path(), "path");
  return PathCall(context, "MakeDirectory", request->scope(), checked,
                  {"mkdir", request->path(), Octal(request->mode() == 0 ? 0755 : request->mode()),
                   request->parents() ? "1" : "0"},
                  response);
}

grpc::Status SandboxServiceImpl::MoveFile(grpc::ServerContext* context,
                                          const v1::MoveFileRequest* request,
                                          v1::FileInfo* response) {
  absl::Status checked = CheckPath(request->source(), "source");
  if (checked.ok()) checked = CheckPath(request->destination(), "destination");
  return PathCall(context, "MoveFile", request->scope(), checked,
                  {"move", request->source(), request->destination(),
                   request->overwrite() ? "1" : "0"},
                  response);
}

grpc::Status SandboxServiceImpl::RemoveFile(grpc::ServerContext* context,
                                            const v1::RemoveFileRequest* request,
                                            v1::RemoveFileResponse*) {
  return PathCall(context, "RemoveFile", request->scope(), CheckPath(request->path(), "path"),
                  {"remove", request->path(), request->recursive() ? "1" : "0"}, nullptr);
}

}  // namespace sandboxd

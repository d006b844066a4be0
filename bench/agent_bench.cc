#include "bench/agent_bench.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <tuple>
#include <utility>
#include <vector>

#include <grpcpp/client_context.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

extern char** environ;

namespace sandboxd::bench {
namespace {

namespace v1 = ::sandbox::v1;

constexpr size_t kChunk = size_t{1} << 20;
constexpr int kFileRuns = 3;
constexpr int kEchoWarmUp = 5;

absl::Status Failed(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

void SetTimeout(grpc::ClientContext& context, absl::Duration timeout) {
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
}

double MibPerSecond(uint64_t bytes, absl::Duration elapsed) {
  return bytes / 1048576.0 / absl::ToDoubleSeconds(elapsed);
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// Writes `bytes` to `path` in chunks of 1 MiB: one buffer, sent again and again with its
// first bytes changed, so that the client holds a chunk, never the file.
absl::StatusOr<absl::Duration> Upload(v1::SandboxService::Stub& stub, const std::string& path,
                                      uint64_t bytes, const v1::SandboxPolicy& policy) {
  grpc::ClientContext context;
  SetTimeout(context, absl::Minutes(10));
  v1::FileInfo info;
  absl::Time begin = absl::Now();
  auto writer = stub.WriteFile(&context, &info);
  v1::WriteFileRequest message;
  message.mutable_header()->set_path(path);
  *message.mutable_header()->mutable_scope()->mutable_policy() = policy;
  bool open = writer->Write(message);
  std::string& data = *message.mutable_data();
  data.assign(kChunk, 'x');
  for (uint64_t sent = 0; open && sent < bytes; sent += data.size()) {
    data.resize(std::min<uint64_t>(kChunk, bytes - sent));
    std::memcpy(&data[0], &sent, std::min(sizeof sent, data.size()));
    open = writer->Write(message);
  }
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  absl::Duration elapsed = absl::Now() - begin;
  if (!status.ok()) return Failed(status);
  if (info.size() != bytes) {
    return absl::InternalError(absl::StrCat("wrote ", info.size(), " bytes"));
  }
  return elapsed;
}

// Reads `path` through ReadFile, counting its bytes.
absl::StatusOr<absl::Duration> Download(v1::SandboxService::Stub& stub, const std::string& path,
                                        uint64_t bytes) {
  grpc::ClientContext context;
  SetTimeout(context, absl::Minutes(10));
  v1::ReadFileRequest request;
  request.set_path(path);
  absl::Time begin = absl::Now();
  auto reader = stub.ReadFile(&context, request);
  v1::FileChunk chunk;
  uint64_t received = 0;
  bool in_order = true;
  while (reader->Read(&chunk)) {
    in_order = in_order && chunk.offset() == received;
    received += chunk.data().size();
  }
  grpc::Status status = reader->Finish();
  absl::Duration elapsed = absl::Now() - begin;
  if (!status.ok()) return Failed(status);
  if (!in_order || received != bytes) {
    return absl::InternalError(absl::StrCat("read ", received, " bytes, in order: ", in_order));
  }
  return elapsed;
}

// `cat path` on the host into a pipe, drained here in reads of 1 MiB.
absl::StatusOr<absl::Duration> CatThroughPipe(const std::string& path, uint64_t bytes) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return absl::InternalError("pipe2");
  std::vector<char> buf(kChunk);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  char* argv[] = {const_cast<char*>("/bin/cat"), const_cast<char*>(path.c_str()), nullptr};
  absl::Time begin = absl::Now();
  pid_t pid;
  int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  uint64_t received = 0;
  ssize_t n;
  while (rc == 0 && (n = read(fds[0], buf.data(), buf.size())) > 0) received += n;
  close(fds[0]);
  if (rc != 0) return absl::InternalError(absl::StrCat("posix_spawn: ", rc));
  int status = 0;
  waitpid(pid, &status, 0);
  absl::Duration elapsed = absl::Now() - begin;
  if (status != 0 || received != bytes) {
    return absl::InternalError(absl::StrCat("cat: status ", status, ", ", received, " bytes"));
  }
  return elapsed;
}

absl::Status MeasureFiles(v1::SandboxService::Stub& stub, const std::string& workspace,
                          AgentFigures& figures) {
  std::string path = workspace + "/agent-bench.bin";
  v1::SandboxPolicy policy;
  policy.set_mode(v1::WORKSPACE_WRITE);
  policy.add_writable_roots(workspace);
  std::vector<double> upload, download, cat;
  for (int run = 0; run < kFileRuns; ++run) {
    sync();  // So that no run pays for the writeback of the one before.
    absl::StatusOr<absl::Duration> up = Upload(stub, path, figures.file_bytes, policy);
    if (!up.ok()) return up.status();
    upload.push_back(MibPerSecond(figures.file_bytes, *up));
  }
  sync();
  // Once untimed, so that the page cache holds the file for both readers.
  if (absl::StatusOr<absl::Duration> warm = CatThroughPipe(path, figures.file_bytes); !warm.ok()) {
    return warm.status();
  }
  for (int run = 0; run < kFileRuns; ++run) {
    absl::StatusOr<absl::Duration> down = Download(stub, path, figures.file_bytes);
    if (!down.ok()) return down.status();
    download.push_back(MibPerSecond(figures.file_bytes, *down));
    absl::StatusOr<absl::Duration> piped = CatThroughPipe(path, figures.file_bytes);
    if (!piped.ok()) return piped.status();
    cat.push_back(MibPerSecond(figures.file_bytes, *piped));
  }
  std::filesystem::remove(path);
  figures.upload_mib_s = Median(upload);
  figures.download_mib_s = Median(download);
  figures.cat_pipe_mib_s = Median(cat);
  return absl::OkStatus();
}

// Times `samples` round trips of a line ("ping N\n") to cat on a terminal (after a few
// untimed ones): `send` writes it, `receive` adds what came back to its argument, until
// that holds the line twice, "ping N\r\n" as the terminal echoes it and as cat prints it.
// Returns p50 and p90.
absl::StatusOr<std::pair<absl::Duration, absl::Duration>> TimeEchoes(
    int samples, const std::function<absl::Status(const std::string&)>& send,
    const std::function<absl::Status(std::string&)>& receive) {
  std::vector<absl::Duration> times;
  for (int i = 0; i < kEchoWarmUp + samples; ++i) {
    std::string back = absl::StrCat("ping ", i, "\r\n");
    std::string seen;
    absl::Time begin = absl::Now();
    if (absl::Status s = send(absl::StrCat("ping ", i, "\n")); !s.ok()) return s;
    size_t first;
    while ((first = seen.find(back)) == std::string::npos ||
           seen.find(back, first + 1) == std::string::npos) {
      if (absl::Now() - begin > absl::Seconds(10)) {
        return absl::DeadlineExceededError(absl::StrCat("no echo of ping ", i, " in 10 s"));
      }
      if (absl::Status s = receive(seen); !s.ok()) return s;
    }
    if (i >= kEchoWarmUp) times.push_back(absl::Now() - begin);
  }
  std::sort(times.begin(), times.end());
  auto at = [&](double q) { return times[std::min(times.size() - 1, size_t(q * times.size()))]; };
  return std::make_pair(at(0.5), at(0.9));
}

absl::Status MeasureServerEcho(v1::SandboxService::Stub& stub, AgentFigures& figures) {
  v1::StartProcessRequest start;
  start.mutable_exec()->add_argv("cat");
  start.mutable_terminal();
  v1::ProcessOutput started;
  grpc::ClientContext start_context;
  SetTimeout(start_context, absl::Seconds(30));
  grpc::Status status = stub.StartProcess(&start_context, start, &started);
  if (!status.ok()) return Failed(status);
  const std::string& id = started.process_id();
  uint64_t offset = started.stdout().next_offset();
  auto send = [&](const std::string& line) {
    v1::WriteProcessRequest request;
    request.set_process_id(id);
    request.set_data(line);
    v1::WriteProcessResponse response;
    grpc::ClientContext context;
    SetTimeout(context, absl::Seconds(10));
    return Failed(stub.WriteProcess(&context, request, &response));
  };
  // A long poll from where the last read ended.
  auto receive = [&](std::string& seen) {
    v1::ReadProcessRequest request;
    request.set_process_id(id);
    request.set_stdout_offset(offset);
    request.mutable_wait()->set_seconds(5);
    v1::ProcessOutput output;
    grpc::ClientContext context;
    SetTimeout(context, absl::Seconds(15));
    grpc::Status read = stub.ReadProcess(&context, request, &output);
    if (!read.ok()) return Failed(read);
    if (!output.running()) return absl::InternalError("cat on the terminal ended");
    seen += output.stdout().data();
    offset = output.stdout().next_offset();
    return absl::OkStatus();
  };
  absl::StatusOr<std::pair<absl::Duration, absl::Duration>> times =
      TimeEchoes(figures.echo_samples, send, receive);
  v1::KillProcessRequest kill;
  kill.set_process_id(id);
  v1::KillProcessResponse killed;
  grpc::ClientContext kill_context;
  SetTimeout(kill_context, absl::Seconds(10));
  stub.KillProcess(&kill_context, kill, &killed);
  if (!times.ok()) return times.status();
  std::tie(figures.echo_p50, figures.echo_p90) = *times;
  return absl::OkStatus();
}

// The same round trips through a pty of the host's, to a cat started here.
absl::Status MeasureLocalEcho(AgentFigures& figures) {
  int master, slave;
  if (openpty(&master, &slave, nullptr, nullptr, nullptr) != 0) {
    return absl::InternalError(absl::StrCat("openpty: ", std::strerror(errno)));
  }
  // Only cat may hold the terminal's other end: its reads fail once ours is closed.
  fcntl(master, F_SETFD, FD_CLOEXEC);
  fcntl(slave, F_SETFD, FD_CLOEXEC);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  for (int fd : {0, 1, 2}) posix_spawn_file_actions_adddup2(&actions, slave, fd);
  char* argv[] = {const_cast<char*>("/bin/cat"), nullptr};
  pid_t pid;
  int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  close(slave);
  if (rc != 0) {
    close(master);
    return absl::InternalError(absl::StrCat("posix_spawn: ", rc));
  }
  auto send = [&](const std::string& line) {
    return write(master, line.data(), line.size()) == static_cast<ssize_t>(line.size())
               ? absl::OkStatus()
               : absl::InternalError("writing to the pty");
  };
  auto receive = [&](std::string& seen) {
    pollfd ready = {master, POLLIN, 0};
    if (poll(&ready, 1, 1000) != 1) return absl::OkStatus();  // TimeEchoes gives up.
    char buf[4096];
    ssize_t n = read(master, buf, sizeof buf);
    if (n <= 0) return absl::InternalError("reading the pty");
    seen.append(buf, n);
    return absl::OkStatus();
  };
  absl::StatusOr<std::pair<absl::Duration, absl::Duration>> times =
      TimeEchoes(figures.echo_samples, send, receive);
  close(master);
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  if (!times.ok()) return times.status();
  std::tie(figures.local_echo_p50, figures.local_echo_p90) = *times;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<AgentFigures> MeasureAgent(v1::SandboxService::Stub& stub,
                                          const std::string& workspace, uint64_t file_bytes,
                                          int echo_samples) {
  AgentFigures figures;
  figures.file_bytes = file_bytes;
  figures.file_runs = kFileRuns;
  figures.echo_samples = std::max(echo_samples, 1);
  if (absl::Status s = MeasureFiles(stub, workspace, figures); !s.ok()) return s;
  if (absl::Status s = MeasureServerEcho(stub, figures); !s.ok()) return s;
  if (absl::Status s = MeasureLocalEcho(figures); !s.ok()) return s;
  return figures;
}

}  // namespace sandboxd::bench

#include "bench/benchmark.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <thread>

#include <grpcpp/client_context.h>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "sandbox/plan/seccomp.h"
#include "sandbox/v1/sandbox.grpc.pb.h"
#include "tests/sandboxd_process.h"

namespace sandboxd::bench {
namespace {

namespace v1 = ::sandbox::v1;
using testing::SandboxdProcess;

// Runs `argv` (bwrap with the server's flags) as a shell loop would: posix_spawn, the
// seccomp filter on fd 3 as bwrap expects it, stdout and stderr to /dev/null, waitpid.
absl::Status RunBare(const std::vector<std::string>& argv, const std::string& bpf,
                     int stdout_fd = -1) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return absl::InternalError("pipe2");
  ssize_t written = write(pipe_fds[1], bpf.data(), bpf.size());
  close(pipe_fds[1]);
  if (written != static_cast<ssize_t>(bpf.size())) {
    close(pipe_fds[0]);
    return absl::InternalError("writing the filter");
  }
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  char* env[] = {const_cast<char*>("PATH=/usr/bin:/bin"), nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (stdout_fd >= 0) {
    posix_spawn_file_actions_adddup2(&actions, stdout_fd, 1);
  } else {
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  }
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[0], 3);
  pid_t pid;
  int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), env);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[0]);
  if (rc != 0) return absl::InternalError(absl::StrCat("posix_spawn: ", rc));
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat("bare bwrap failed with status ", status));
  }
  return absl::OkStatus();
}

// Latencies and busy time gathered over one or more batches of calls.
struct Samples {
  std::vector<absl::Duration> latencies;
  absl::Duration elapsed;

  LatencyFigures Figures() {
    std::sort(latencies.begin(), latencies.end());
    auto at = [&](double q) {
      return latencies[std::min(latencies.size() - 1, static_cast<size_t>(q * latencies.size()))];
    };
    return LatencyFigures{at(0.50), at(0.90), at(0.99),
                          static_cast<double>(latencies.size()) / absl::ToDoubleSeconds(elapsed)};
  }
};

// Runs `call` `total` times over `concurrency` threads, adding to `samples`.
template <typename Call>
absl::Status RunBatch(int concurrency, int total, Call call, Samples& samples) {
  std::vector<std::vector<absl::Duration>> latencies(concurrency);
  std::vector<absl::Status> errors(concurrency);
  absl::Time start = absl::Now();
  std::vector<std::thread> threads;
  for (int t = 0; t < concurrency; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < total; i += concurrency) {
        absl::Time before = absl::Now();
        absl::Status status = call();
        if (!status.ok()) {
          errors[t] = status;
          return;
        }
        latencies[t].push_back(absl::Now() - before);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  samples.elapsed += absl::Now() - start;
  for (const absl::Status& error : errors) {
    if (!error.ok()) return error;
  }
  for (const auto& list : latencies) {
    samples.latencies.insert(samples.latencies.end(), list.begin(), list.end());
  }
  return absl::OkStatus();
}

// Runs `call` `total` times over `concurrency` threads; returns percentiles and rate.
template <typename Call>
absl::StatusOr<LatencyFigures> Measure(int concurrency, int total, Call call) {
  Samples samples;
  if (absl::Status s = RunBatch(concurrency, total, call, samples); !s.ok()) return s;
  return samples.Figures();
}

// Measures `a` and `b` (`total` calls each) in alternating batches, so that a shared
// machine getting busier or quieter during the run weighs on both sides alike; each
// batch starts after `settle` of quiet (see Options::settle).
template <typename CallA, typename CallB>
absl::StatusOr<std::pair<LatencyFigures, LatencyFigures>> MeasureSideBySide(
    int concurrency, int total, absl::Duration settle, CallA a, CallB b) {
  constexpr int kRounds = 8;
  Samples samples_a, samples_b;
  // Each batch a multiple of the callers, so that every thread makes the same number.
  int batch = std::max(concurrency, (total / kRounds) / concurrency * concurrency);
  for (int round = 0; round < kRounds; ++round) {
    absl::SleepFor(settle);
    if (absl::Status s = RunBatch(concurrency, batch, a, samples_a); !s.ok()) return s;
    absl::SleepFor(settle);
    if (absl::Status s = RunBatch(concurrency, batch, b, samples_b); !s.ok()) return s;
  }
  return std::make_pair(samples_a.Figures(), samples_b.Figures());
}

v1::ExecRequest TrueRequest() {
  v1::ExecRequest request;
  request.add_argv("/bin/true");
  return request;
}

absl::Status ExecOnce(v1::SandboxService::Stub& stub, const v1::ExecRequest& request) {
  grpc::ClientContext context;
  v1::ExecResponse response;
  grpc::Status status = stub.Exec(&context, request, &response);
  if (!status.ok()) return absl::InternalError(status.error_message());
  if (response.exit_code() != 0) return absl::InternalError("the command failed");
  return absl::OkStatus();
}

// bwrap and its arguments for `request`, as the server would run it, without the
// launcher that joins cgroups and sets rlimits in front of it.
absl::StatusOr<std::vector<std::string>> BareArgv(v1::SandboxService::Stub& stub,
                                                   const v1::ExecRequest& request) {
  grpc::ClientContext context;
  v1::ExplainResponse explanation;
  grpc::Status status = stub.Explain(&context, request, &explanation);
  if (!status.ok()) return absl::InternalError(status.error_message());
  std::vector<std::string> argv(explanation.argv().begin(), explanation.argv().end());
  auto bwrap = std::find(argv.begin(), argv.end(), "/usr/bin/bwrap");
  if (bwrap == argv.end()) return absl::InternalError("the server does not run bwrap");
  return std::vector<std::string>(bwrap, argv.end());
}

uint64_t RssBytes(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

// The streaming command: `bytes` of zeros to stdout.
std::vector<std::string> StreamCommand(uint64_t bytes) {
  return {"head", "-c", absl::StrCat(bytes), "/dev/zero"};
}

double MibPerSecond(uint64_t bytes, absl::Duration elapsed) {
  return bytes / 1048576.0 / absl::ToDoubleSeconds(elapsed);
}

absl::StatusOr<double> StreamServer(v1::SandboxService::Stub& stub, uint64_t bytes) {
  grpc::ClientContext context;
  auto stream = stub.ExecStream(&context);
  v1::ExecStreamRequest start;
  for (const std::string& arg : StreamCommand(bytes)) start.mutable_start()->add_argv(arg);
  start.mutable_start()->set_output_limit_bytes(bytes);
  absl::Time begin = absl::Now();
  stream->Write(start);
  stream->WritesDone();
  v1::ExecStreamResponse message;
  uint64_t received = 0;
  while (stream->Read(&message)) received += message.output().data().size();
  grpc::Status status = stream->Finish();
  absl::Duration elapsed = absl::Now() - begin;
  if (!status.ok()) return absl::InternalError(status.error_message());
  if (received != bytes) return absl::InternalError(absl::StrCat("received ", received, " bytes"));
  return MibPerSecond(bytes, elapsed);
}

// MiB/s of `argv` writing `bytes` into a pipe that a thread here drains, as a client
// of bare bwrap would read it.
absl::StatusOr<double> BarePipeRate(const std::vector<std::string>& argv, const std::string& bpf,
                                    uint64_t bytes) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return absl::InternalError("pipe2");
  uint64_t received = 0;
  std::thread reader([&] {
    std::vector<char> buf(65536);
    ssize_t n;
    while ((n = read(fds[0], buf.data(), buf.size())) > 0) received += static_cast<uint64_t>(n);
  });
  absl::Time begin = absl::Now();
  absl::Status status = RunBare(argv, bpf, fds[1]);
  close(fds[1]);
  reader.join();
  absl::Duration elapsed = absl::Now() - begin;
  close(fds[0]);
  if (!status.ok()) return status;
  if (received != bytes) return absl::InternalError("the pipe lost bytes");
  return MibPerSecond(bytes, elapsed);
}

// p50 of bare bwrap running /bin/true under growing subsets of `full` (the server's
// flags), to show what each part costs.
absl::Status MeasureBreakdown(const std::vector<std::string>& full, const std::string& bpf,
                              int iterations, Report& report) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> steps = {
      {"user namespace, read-only root", {"--unshare-user", "--ro-bind", "/", "/"}},
      {"+ pid, ipc, uts, cgroup and net namespaces",
       {"--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
        "--unshare-net"}},
      {"+ fresh /dev", {"--dev", "/dev"}},
      {"+ fresh /proc, /proc/sys covered", {"--proc", "/proc", "--ro-bind", "/proc/sys", "/proc/sys"}},
      {"+ private /tmp", {"--tmpfs", "/tmp"}},
      {"+ new session, die-with-parent, no userns, no caps",
       {"--new-session", "--die-with-parent", "--disable-userns", "--cap-drop", "ALL"}},
  };
  std::vector<std::string> argv = {full.front()};
  for (const auto& [name, flags] : steps) {
    argv.insert(argv.end(), flags.begin(), flags.end());
    std::vector<std::string> run = argv;
    run.insert(run.end(), {"--", "/bin/true"});
    absl::StatusOr<LatencyFigures> figures =
        Measure(1, iterations, [&] { return RunBare(run, bpf); });
    if (!figures.ok()) return figures.status();
    report.breakdown.emplace_back(name, figures->p50);
  }
  absl::StatusOr<LatencyFigures> all = Measure(1, iterations, [&] { return RunBare(full, bpf); });
  if (!all.ok()) return all.status();
  report.breakdown.emplace_back("+ seccomp filter: the server's exact flags", all->p50);
  return absl::OkStatus();
}

// What the server says about its cgroups and network namespaces.
absl::Status DescribeServer(v1::SandboxService::Stub& stub, Report& report) {
  grpc::ClientContext context;
  v1::GetCapabilitiesResponse response;
  grpc::Status status = stub.GetCapabilities(&context, v1::GetCapabilitiesRequest(), &response);
  if (!status.ok()) return absl::InternalError(status.error_message());
  report.server_cgroups = response.cgroups();
  report.server_network_namespaces = response.network_namespaces();
  report.server_proxy = response.proxy();
  return absl::OkStatus();
}

// p50 of `calls` GetCapabilities calls, each after `quiet`.
absl::StatusOr<absl::Duration> RpcFloor(v1::SandboxService::Stub& stub, int calls,
                                        absl::Duration quiet) {
  std::vector<absl::Duration> latencies;
  for (int i = 0; i < std::max(calls, 1); ++i) {
    absl::SleepFor(quiet);
    grpc::ClientContext context;
    v1::GetCapabilitiesResponse response;
    absl::Time before = absl::Now();
    grpc::Status status = stub.GetCapabilities(&context, v1::GetCapabilitiesRequest(), &response);
    if (!status.ok()) return absl::InternalError(status.error_message());
    latencies.push_back(absl::Now() - before);
  }
  std::sort(latencies.begin(), latencies.end());
  return latencies[latencies.size() / 2];
}

void MeasureMemory(const Options& options, SandboxdProcess& server, Report& report) {
  report.idle_rss_bytes = RssBytes(server.pid());
  std::vector<std::thread> holders;
  v1::ExecRequest sleep;
  for (const char* arg : {"sleep", "3"}) sleep.add_argv(arg);
  for (int i = 0; i < options.in_flight; ++i) {
    holders.emplace_back([&] {
      auto stub = v1::SandboxService::NewStub(server.channel());
      ExecOnce(*stub, sleep).IgnoreError();
    });
  }
  absl::SleepFor(absl::Milliseconds(1500));
  uint64_t busy = RssBytes(server.pid());
  for (std::thread& holder : holders) holder.join();
  report.rss_per_in_flight_bytes =
      busy > report.idle_rss_bytes ? (busy - report.idle_rss_bytes) / options.in_flight : 0;
}

}  // namespace

absl::StatusOr<Report> Run(const Options& options) {
  SandboxdProcess::Options server_options;
  server_options.flags = {absl::StrCat("--max_output_limit=", options.stream_bytes),
                          "--max_concurrent=64", "--max_queued=64",
                          // The proxy benchmark's origin listens there.
                          "--proxy_allow_destination=127.0.0.1"};
  server_options.flags.insert(server_options.flags.end(), options.server_flags.begin(),
                              options.server_flags.end());
  server_options.log_path = "/dev/null";
  absl::StatusOr<std::unique_ptr<SandboxdProcess>> server = SandboxdProcess::Start(server_options);
  if (!server.ok()) return server.status();
  auto stub = v1::SandboxService::NewStub((*server)->channel());
  Report report;
  absl::StatusOr<std::vector<std::string>> bare = BareArgv(*stub, TrueRequest());
  if (!bare.ok()) return bare.status();
  report.bare_argv = *bare;
  if (absl::Status s = DescribeServer(*stub, report); !s.ok()) return s;
  absl::StatusOr<std::string> bpf = CompileSeccompFilter(SeccompMode::SECCOMP_RESTRICTED);
  if (!bpf.ok()) return bpf.status();

  // Warm both paths up: page cache, gRPC connection, the server's thread pool.
  for (int i = 0; i < 10; ++i) {
    if (absl::Status s = ExecOnce(*stub, TrueRequest()); !s.ok()) return s;
    if (absl::Status s = RunBare(*bare, *bpf); !s.ok()) return s;
  }
  MeasureMemory(options, **server, report);
  absl::StatusOr<absl::Duration> busy = RpcFloor(*stub, options.iterations, absl::ZeroDuration());
  absl::StatusOr<absl::Duration> quiet =
      RpcFloor(*stub, options.iterations, absl::Milliseconds(10));
  if (!busy.ok()) return busy.status();
  if (!quiet.ok()) return quiet.status();
  report.rpc_back_to_back = *busy;
  report.rpc_after_quiet = *quiet;
  for (int concurrency : options.concurrency) {
    Report::Level level{concurrency, {}, {}};
    v1::ExecRequest request = TrueRequest();
    absl::StatusOr<std::pair<LatencyFigures, LatencyFigures>> figures = MeasureSideBySide(
        concurrency, options.iterations, options.settle, [&] { return ExecOnce(*stub, request); },
        [&] { return RunBare(*bare, *bpf); });
    if (!figures.ok()) return figures.status();
    level.server = figures->first;
    level.bare = figures->second;
    report.levels.push_back(level);
  }

  absl::StatusOr<double> streamed = StreamServer(*stub, options.stream_bytes);
  if (!streamed.ok()) return streamed.status();
  report.stream_server_mib_s = *streamed;
  std::vector<std::string> bare_stream(bare->begin(), bare->end() - 1);  // Drop /bin/true.
  std::vector<std::string> command = StreamCommand(options.stream_bytes);
  bare_stream.insert(bare_stream.end(), command.begin(), command.end());
  absl::Time begin = absl::Now();
  if (absl::Status s = RunBare(bare_stream, *bpf); !s.ok()) return s;
  report.stream_bare_mib_s = MibPerSecond(options.stream_bytes, absl::Now() - begin);
  absl::StatusOr<double> piped = BarePipeRate(bare_stream, *bpf, options.stream_bytes);
  if (!piped.ok()) return piped.status();
  report.stream_bare_pipe_mib_s = *piped;
  absl::StatusOr<std::string> workspace = (*server)->MakeWorkspace();
  if (!workspace.ok()) return workspace.status();
  absl::StatusOr<AgentFigures> agent =
      MeasureAgent(*stub, *workspace, options.agent_file_bytes, options.echo_samples);
  if (!agent.ok()) return agent.status();
  report.agent = *agent;
  if (absl::Status s = MeasureBreakdown(*bare, *bpf, options.iterations / 2 + 1, report); !s.ok()) {
    return s;
  }
  if (absl::StartsWith(report.server_proxy, "refused")) return report;
  absl::StatusOr<ProxyFigures> proxy =
      MeasureProxy(*stub, options.proxy_download_bytes, options.proxy_ttfb_samples);
  if (!proxy.ok()) return proxy.status();
  report.proxy = *proxy;
  return report;
}

namespace {

double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }
double Ratio(double a, double b) { return b > 0 ? a / b : 0; }

}  // namespace

std::string Format(const Report& report, const std::string& machine) {
  std::string out = absl::StrCat(
      machine, "\nbaseline: ", absl::StrJoin(report.bare_argv, " "),
      "\nserver: cgroups: ", report.server_cgroups,
      "\nserver: network namespaces: ", report.server_network_namespaces,
      "\n\nExec(/bin/true) latency in ms, server vs bare bwrap:\n");
  absl::StrAppendFormat(&out, "%-5s %26s %26s %26s %22s\n", "conc", "p50 (ratio)", "p90 (ratio)",
                        "p99 (ratio)", "per second (ratio)");
  for (const Report::Level& level : report.levels) {
    auto cell = [](absl::Duration server, absl::Duration bare) {
      return absl::StrFormat("%.2f/%.2f (%.2fx)", Ms(server), Ms(bare), Ratio(Ms(server), Ms(bare)));
    };
    absl::StrAppendFormat(&out, "%-5d %26s %26s %26s %22s\n", level.concurrency,
                          cell(level.server.p50, level.bare.p50),
                          cell(level.server.p90, level.bare.p90),
                          cell(level.server.p99, level.bare.p99),
                          absl::StrFormat("%.0f/%.0f (%.2fx)", level.server.per_second,
                                          level.bare.per_second,
                                          Ratio(level.server.per_second, level.bare.per_second)));
  }
  absl::StrAppendFormat(&out,
                        "\nstreaming: server %.0f MiB/s; bare bwrap through a pipe %.0f MiB/s "
                        "(%.2fx), into /dev/null %.0f MiB/s (%.2fx)\n"
                        "server memory: %.1f MiB idle, %.0f KiB per in-flight request\n"
                        "gRPC floor (GetCapabilities p50): %.2f ms back to back, %.2f ms after "
                        "10 ms quiet\n",
                        report.stream_server_mib_s, report.stream_bare_pipe_mib_s,
                        Ratio(report.stream_server_mib_s, report.stream_bare_pipe_mib_s),
                        report.stream_bare_mib_s,
                        Ratio(report.stream_server_mib_s, report.stream_bare_mib_s),
                        report.idle_rss_bytes / 1048576.0, report.rss_per_in_flight_bytes / 1024.0,
                        Ms(report.rpc_back_to_back), Ms(report.rpc_after_quiet));
  const AgentFigures& agent = report.agent;
  absl::StrAppendFormat(
      &out,
      "\nfiles (%.0f MiB, median of %d): upload %.0f MiB/s (%.2fx of cat through a pipe), "
      "download %.0f MiB/s (%.2fx); cat through a pipe %.0f MiB/s\n"
      "terminal echo (a line to cat on a terminal and back, %d round trips): server p50 %.3f ms, "
      "p90 %.3f ms; local pty p50 %.3f ms, p90 %.3f ms (+%.3f ms, %.2fx at p50)\n",
      agent.file_bytes / 1048576.0, agent.file_runs, agent.upload_mib_s,
      Ratio(agent.upload_mib_s, agent.cat_pipe_mib_s), agent.download_mib_s,
      Ratio(agent.download_mib_s, agent.cat_pipe_mib_s), agent.cat_pipe_mib_s, agent.echo_samples,
      Ms(agent.echo_p50), Ms(agent.echo_p90), Ms(agent.local_echo_p50), Ms(agent.local_echo_p90),
      Ms(agent.echo_p50 - agent.local_echo_p50),
      Ratio(Ms(agent.echo_p50), Ms(agent.local_echo_p50)));
  const ProxyFigures& proxy = report.proxy;
  if (absl::StartsWith(report.server_proxy, "refused")) {
    absl::StrAppend(&out, "\nmanaged network: ", report.server_proxy, "\n");
  } else {
  absl::StrAppendFormat(
      &out,
      "\nmanaged network (curl in the sandbox, origin on loopback):\n"
      "  download of %.0f MiB: through the proxy (CONNECT) %.0f MiB/s, host network %.0f MiB/s "
      "(%.2fx)\n"
      "  time to first byte of a new connection, p50 of %d: host network %.3f ms, through the "
      "proxy %.3f ms forwarded (+%.3f ms), %.3f ms tunnelled (+%.3f ms)\n",
      proxy.download_bytes / 1048576.0, proxy.proxied_mib_s, proxy.direct_mib_s,
      Ratio(proxy.proxied_mib_s, proxy.direct_mib_s), proxy.samples, Ms(proxy.ttfb_direct),
      Ms(proxy.ttfb_forwarded), Ms(proxy.ttfb_forwarded - proxy.ttfb_direct),
      Ms(proxy.ttfb_tunnel), Ms(proxy.ttfb_tunnel - proxy.ttfb_direct));
  }
  out += "\nwhere bare bwrap's time goes (p50 of /bin/true, concurrency 1):\n";
  for (const auto& [name, p50] : report.breakdown) {
    absl::StrAppendFormat(&out, "  %6.2f ms  %s\n", Ms(p50), name);
  }
  return out;
}

namespace {

// The breakdown as JSON members.
std::string Breakdown(const Report& report) {
  std::vector<std::string> parts;
  for (const auto& [name, p50] : report.breakdown) {
    parts.push_back(absl::StrFormat("\"%s\": %.3f", name, Ms(p50)));
  }
  return absl::StrJoin(parts, ", ");
}

// The agent's figures as a JSON object.
std::string AgentJson(const AgentFigures& agent) {
  return absl::StrFormat(
      "{\"file_bytes\": %d, \"file_runs\": %d, \"upload_mib_s\": %.1f, "
      "\"download_mib_s\": %.1f, \"cat_pipe_mib_s\": %.1f, \"upload_ratio\": %.3f, "
      "\"download_ratio\": %.3f, \"echo_samples\": %d, \"echo_p50_ms\": %.3f, "
      "\"echo_p90_ms\": %.3f, \"local_echo_p50_ms\": %.3f, \"local_echo_p90_ms\": %.3f, "
      "\"echo_p50_ratio\": %.3f}",
      agent.file_bytes, agent.file_runs, agent.upload_mib_s, agent.download_mib_s,
      agent.cat_pipe_mib_s, Ratio(agent.upload_mib_s, agent.cat_pipe_mib_s),
      Ratio(agent.download_mib_s, agent.cat_pipe_mib_s), agent.echo_samples, Ms(agent.echo_p50),
      Ms(agent.echo_p90), Ms(agent.local_echo_p50), Ms(agent.local_echo_p90),
      Ratio(Ms(agent.echo_p50), Ms(agent.local_echo_p50)));
}

}  // namespace

std::string ToJson(const Report& report, const std::string& machine) {
  std::vector<std::string> levels;
  for (const Report::Level& level : report.levels) {
    auto side = [](const LatencyFigures& f) {
      return absl::StrFormat("{\"p50_ms\": %.3f, \"p90_ms\": %.3f, \"p99_ms\": %.3f, "
                             "\"per_second\": %.1f}",
                             Ms(f.p50), Ms(f.p90), Ms(f.p99), f.per_second);
    };
    levels.push_back(absl::StrFormat(
        "{\"concurrency\": %d, \"server\": %s, \"bare\": %s, \"p50_ratio\": %.3f, "
        "\"p99_ratio\": %.3f, \"throughput_ratio\": %.3f}",
        level.concurrency, side(level.server), side(level.bare),
        Ratio(Ms(level.server.p50), Ms(level.bare.p50)),
        Ratio(Ms(level.server.p99), Ms(level.bare.p99)),
        Ratio(level.server.per_second, level.bare.per_second)));
  }
  auto escape = [](const std::string& text) {
    std::string escaped;
    for (char c : text) {
      escaped += c == '"' ? std::string("\\\"") : c == '\n' ? std::string("; ") : std::string(1, c);
    }
    return escaped;
  };
  return absl::StrFormat(
      "{\"machine\": \"%s\", \"server_cgroups\": \"%s\", "
      "\"server_network_namespaces\": \"%s\", \"exec\": [%s], \"stream_server_mib_s\": %.1f, "
      "\"stream_bare_mib_s\": %.1f, \"stream_bare_pipe_mib_s\": %.1f, "
      "\"stream_pipe_ratio\": %.3f, \"idle_rss_bytes\": %d, "
      "\"rss_per_in_flight_bytes\": %d, \"rpc_back_to_back_ms\": %.3f, "
      "\"rpc_after_quiet_ms\": %.3f, \"breakdown_p50_ms\": {%s}, "
      "\"proxy\": {\"download_bytes\": %d, \"proxied_mib_s\": %.1f, \"direct_mib_s\": %.1f, "
      "\"download_ratio\": %.3f, \"ttfb_direct_p50_ms\": %.3f, \"ttfb_forwarded_p50_ms\": %.3f, "
      "\"ttfb_tunnel_p50_ms\": %.3f}, \"agent\": %s}\n",
      escape(machine), escape(report.server_cgroups), escape(report.server_network_namespaces),
      absl::StrJoin(levels, ", "), report.stream_server_mib_s,
      report.stream_bare_mib_s, report.stream_bare_pipe_mib_s,
      Ratio(report.stream_server_mib_s, report.stream_bare_pipe_mib_s),
      report.idle_rss_bytes, report.rss_per_in_flight_bytes, Ms(report.rpc_back_to_back),
      Ms(report.rpc_after_quiet), Breakdown(report), report.proxy.download_bytes,
      report.proxy.proxied_mib_s, report.proxy.direct_mib_s,
      Ratio(report.proxy.proxied_mib_s, report.proxy.direct_mib_s), Ms(report.proxy.ttfb_direct),
      Ms(report.proxy.ttfb_forwarded), Ms(report.proxy.ttfb_tunnel), AgentJson(report.agent));
}

}  // namespace sandboxd::bench

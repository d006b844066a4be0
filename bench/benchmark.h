#ifndef SANDBOXD_BENCH_BENCHMARK_H_
#define SANDBOXD_BENCH_BENCHMARK_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bench/agent_bench.h"
#include "bench/proxy_bench.h"

namespace sandboxd::bench {

struct Options {
  // Calls per concurrency level, for the server and for bare bwrap each (rounded to
  // whole batches: the two sides take turns in 8 batches each).
  int iterations = 200;
  std::vector<int> concurrency = {1, 2, 8, 32};
  // Bytes the streaming command writes.
  uint64_t stream_bytes = uint64_t{1} << 30;
  // Requests held in flight to measure the server's memory per request.
  int in_flight = 32;
  // The managed network: bytes of the download through the proxy and without it, and
  // requests for each time to first byte.
  uint64_t proxy_download_bytes = uint64_t{1} << 30;
  int proxy_ttfb_samples = 50;
  // An agent's calls: bytes of the file sent through WriteFile and ReadFile, and round
  // trips of a line through a terminal (agent_bench.h).
  uint64_t agent_file_bytes = uint64_t{1} << 30;
  int echo_samples = 200;
  // More flags for the server (e.g. --cgroup=none, to see what cgroups cost).
  std::vector<std::string> server_flags;
  // Quiet before each batch of the latency runs. The kernel tears network namespaces
  // down in the background, in bulk: a batch of bare bwrap leaves dozens behind, and
  // without a pause the first ten calls of the server's next batch waited for them
  // (15 to 25 ms each, its slowest calls).
  absl::Duration settle = absl::Milliseconds(300);
};

// Latency percentiles and throughput of one side at one concurrency.
struct LatencyFigures {
  absl::Duration p50, p90, p99;
  double per_second = 0;
};

struct Report {
  struct Level {
    int concurrency;
    LatencyFigures server;
    LatencyFigures bare;
  };
  std::vector<Level> levels;
  double stream_server_mib_s = 0;
  // The same command under bare bwrap, its stdout into /dev/null and into a pipe that
  // the benchmark drains.
  double stream_bare_mib_s = 0;
  double stream_bare_pipe_mib_s = 0;
  // Where bare bwrap's time goes: p50 of /bin/true under growing subsets of the
  // server's flags, at concurrency 1.
  std::vector<std::pair<std::string, absl::Duration>> breakdown;
  // The gRPC floor: p50 of a call that runs nothing (GetCapabilities), back to back
  // and after 10 ms of quiet (as every Exec(/bin/true) is: idle threads wake slower).
  absl::Duration rpc_back_to_back;
  absl::Duration rpc_after_quiet;
  uint64_t idle_rss_bytes = 0;
  uint64_t rss_per_in_flight_bytes = 0;
  std::vector<std::string> bare_argv;  // The bwrap command line of the baseline.
  // What the server said about its cgroups and network namespaces (GetCapabilities):
  // where it goes below the baseline, not making a network namespace per command.
  std::string server_cgroups;
  std::string server_network_namespaces;
  // How the server serves proxy-routed requests (GetCapabilities' proxy): no figures
  // where it refuses them (--server_flags=--proxy=off).
  std::string server_proxy;
  ProxyFigures proxy;
  AgentFigures agent;
};

// Starts a real sandboxd and measures, side by side with bare bwrap run with the very
// flags the server uses (taken from its Explain RPC): Exec latency and throughput of
// /bin/true at each concurrency, streaming throughput of a command writing
// stream_bytes, the server's memory idle and per in-flight request, and what the
// managed network's proxy costs against the host's network (proxy_bench.h), and what
// an agent's file transfers and terminal round trips cost against the host's cat and
// pty (agent_bench.h).
absl::StatusOr<Report> Run(const Options& options);

// The report for people: machine, figures and ratios (server / bare).
std::string Format(const Report& report, const std::string& machine);
// The same as JSON.
std::string ToJson(const Report& report, const std::string& machine);

}  // namespace sandboxd::bench

#endif  // SANDBOXD_BENCH_BENCHMARK_H_

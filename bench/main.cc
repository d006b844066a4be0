// sandboxd_bench: what the sandbox costs next to bare bwrap. Run it with
//   tools/bench            (or: bazel run -c opt //bench:sandboxd_bench -- [flags])
// It prints the machine, the commit, the raw figures and the ratios, and writes the
// same as JSON (--json_out).

#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/malloc_tuning.h"
#include "bench/benchmark.h"

ABSL_FLAG(int, iterations, 200, "Exec calls per concurrency level and side.");
ABSL_FLAG(std::vector<std::string>, concurrency, std::vector<std::string>({"1", "2", "8", "32"}),
          "Comma-separated numbers of callers to measure latency and throughput at.");
ABSL_FLAG(int64_t, stream_mib, 1024, "MiB the streaming command writes.");
ABSL_FLAG(int64_t, proxy_download_mib, 1024,
          "MiB downloaded through the managed network's proxy, and without it.");
ABSL_FLAG(int, proxy_ttfb_samples, 50, "New connections timed to their first byte, per side.");
ABSL_FLAG(int64_t, agent_file_mib, 1024,
          "MiB of the file uploaded (WriteFile) and downloaded (ReadFile), and read by cat.");
ABSL_FLAG(int, echo_samples, 200, "Round trips of a line through a terminal, per side.");
ABSL_FLAG(std::vector<std::string>, server_flags, {},
          "Comma-separated extra flags for the server, e.g. --cgroup=none.");
ABSL_FLAG(std::string, json_out, "bench-results.json",
          "Where to write the JSON copy (relative: to the workspace).");

namespace {

std::string Command(const std::string& command) {
  std::string out;
  if (FILE* pipe = popen(command.c_str(), "r")) {
    char buf[256];
    while (fgets(buf, sizeof buf, pipe) != nullptr) out += buf;
    pclose(pipe);
  }
  return std::string(absl::StripAsciiWhitespace(out));
}

std::string Machine(const std::string& workspace) {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line, model = "unknown cpu";
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      model = std::string(absl::StripAsciiWhitespace(line.substr(line.find(':') + 1)));
      break;
    }
  }
  utsname uts{};
  uname(&uts);
  return absl::StrCat("machine: ", model, ", ", std::thread::hardware_concurrency(),
                      " cores, Linux ", uts.release, "\ncommit: ",
                      Command("git -C '" + workspace + "' rev-parse --short HEAD 2>/dev/null"));
}

}  // namespace

int main(int argc, char** argv) {
  sandboxd::KeepLargeBuffersInHeap();
  absl::ParseCommandLine(argc, argv);
  // bazel run starts us in the runfiles tree; the runfiles are where the server is.
  const char* workspace_env = std::getenv("BUILD_WORKSPACE_DIRECTORY");
  std::string workspace = workspace_env != nullptr ? workspace_env : ".";
  if (std::getenv("TEST_SRCDIR") == nullptr) {
    setenv("TEST_SRCDIR", (std::string(argv[0]) + ".runfiles").c_str(), 1);
  }
  sandboxd::bench::Options options;
  options.iterations = absl::GetFlag(FLAGS_iterations);
  options.concurrency.clear();
  for (const std::string& level : absl::GetFlag(FLAGS_concurrency)) {
    int callers = 0;
    if (!absl::SimpleAtoi(level, &callers) || callers < 1) {
      std::cerr << "sandboxd_bench: --concurrency takes positive numbers, not " << level << "\n";
      return 2;
    }
    options.concurrency.push_back(callers);
  }
  options.stream_bytes = static_cast<uint64_t>(absl::GetFlag(FLAGS_stream_mib)) << 20;
  options.server_flags = absl::GetFlag(FLAGS_server_flags);
  options.proxy_download_bytes = static_cast<uint64_t>(absl::GetFlag(FLAGS_proxy_download_mib)) << 20;
  options.proxy_ttfb_samples = absl::GetFlag(FLAGS_proxy_ttfb_samples);
  options.agent_file_bytes = static_cast<uint64_t>(absl::GetFlag(FLAGS_agent_file_mib)) << 20;
  options.echo_samples = absl::GetFlag(FLAGS_echo_samples);
  absl::StatusOr<sandboxd::bench::Report> report = sandboxd::bench::Run(options);
  if (!report.ok()) {
    std::cerr << "sandboxd_bench: " << report.status() << "\n";
    return 1;
  }
  std::string machine = Machine(workspace);
  std::cout << sandboxd::bench::Format(*report, machine);
  std::string json_out = absl::GetFlag(FLAGS_json_out);
  if (!json_out.empty()) {
    if (json_out[0] != '/') json_out = workspace + "/" + json_out;
    std::ofstream(json_out) << sandboxd::bench::ToJson(*report, machine);
    std::cout << "JSON: " << json_out << "\n";
  }
  return 0;
}

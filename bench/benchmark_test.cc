// A smoke run of the benchmark, so that it cannot rot: a few iterations, a small
// stream. It checks that every figure was measured, not how good it is.

#include "bench/benchmark.h"

#include <signal.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sandboxd::bench {
namespace {

using ::testing::HasSubstr;

TEST(BenchmarkSmokeTest, MeasuresEveryFigure) {
  signal(SIGPIPE, SIG_IGN);
  Options options;
  options.iterations = 6;
  options.concurrency = {1, 2};
  options.stream_bytes = 8 << 20;
  options.in_flight = 4;
  options.settle = absl::ZeroDuration();
  options.proxy_download_bytes = 16 << 20;
  options.proxy_ttfb_samples = 3;
  options.agent_file_bytes = 16 << 20;
  options.echo_samples = 20;
  absl::StatusOr<Report> report = bench::Run(options);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->levels.size(), 2u);
  for (const Report::Level& level : report->levels) {
    EXPECT_GT(level.server.p50, absl::ZeroDuration());
    EXPECT_GE(level.server.p99, level.server.p50);
    EXPECT_GT(level.bare.p50, absl::ZeroDuration());
    EXPECT_GT(level.server.per_second, 0);
    EXPECT_GT(level.bare.per_second, 0);
  }
  EXPECT_GT(report->stream_server_mib_s, 0);
  EXPECT_GT(report->stream_bare_mib_s, 0);
  EXPECT_GT(report->stream_bare_pipe_mib_s, 0);
  ASSERT_EQ(report->breakdown.size(), 7u);
  for (const auto& [name, p50] : report->breakdown) EXPECT_GT(p50, absl::ZeroDuration()) << name;
  EXPECT_GT(report->idle_rss_bytes, 0u);
  EXPECT_GT(report->rpc_back_to_back, absl::ZeroDuration());
  EXPECT_GT(report->rpc_after_quiet, absl::ZeroDuration());
  EXPECT_THAT(report->bare_argv.front(), "/usr/bin/bwrap");
  EXPECT_FALSE(report->server_network_namespaces.empty());
  EXPECT_GT(report->proxy.direct_mib_s, 0);
  EXPECT_GT(report->proxy.proxied_mib_s, 0);
  EXPECT_GT(report->proxy.ttfb_direct, absl::ZeroDuration());
  EXPECT_GT(report->proxy.ttfb_tunnel, absl::ZeroDuration());
  const AgentFigures& agent = report->agent;
  EXPECT_EQ(agent.file_bytes, uint64_t{16} << 20);
  EXPECT_GT(agent.upload_mib_s, 0);
  EXPECT_GT(agent.download_mib_s, 0);
  EXPECT_GT(agent.cat_pipe_mib_s, 0);
  EXPECT_EQ(agent.echo_samples, 20);
  EXPECT_GT(agent.echo_p50, absl::ZeroDuration());
  EXPECT_GE(agent.echo_p90, agent.echo_p50);
  EXPECT_LT(agent.echo_p90, absl::Seconds(1));
  EXPECT_GT(agent.local_echo_p50, absl::ZeroDuration());
  EXPECT_GE(agent.local_echo_p90, agent.local_echo_p50);
  std::string text = Format(*report, "machine: test");
  EXPECT_THAT(text, HasSubstr("Exec(/bin/true) latency"));
  EXPECT_THAT(text, HasSubstr("streaming: server"));
  EXPECT_THAT(text, HasSubstr("gRPC floor"));
  EXPECT_THAT(text, HasSubstr("server: network namespaces: "));
  EXPECT_THAT(text, HasSubstr("managed network"));
  EXPECT_THAT(text, HasSubstr("files (16 MiB, median of 3): upload "));
  EXPECT_THAT(text, HasSubstr("terminal echo"));
  EXPECT_THAT(ToJson(*report, "machine: test"), HasSubstr("\"echo_p50_ms\""));
  EXPECT_THAT(ToJson(*report, "machine: test"), HasSubstr("\"throughput_ratio\""));
  EXPECT_THAT(ToJson(*report, "machine: test"), HasSubstr("\"rpc_after_quiet_ms\""));
}

}  // namespace
}  // namespace sandboxd::bench

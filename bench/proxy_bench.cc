#include "bench/proxy_bench.h"

#include <algorithm>
#include <string>
#include <vector>

#include <grpcpp/client_context.h>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "sandbox/net/test_origin.h"

namespace sandboxd::bench {
namespace {

namespace v1 = ::sandbox::v1;

// curl's figures for `script`, one line each, from a command on `network`.
absl::StatusOr<std::vector<double>> CurlFigures(v1::SandboxService::Stub& stub,
                                                const std::string& script,
                                                v1::NetworkMode network) {
  v1::ExecRequest request;
  for (const char* arg : {"sh", "-c"}) request.add_argv(arg);
  request.add_argv(script);
  request.mutable_policy()->set_network(network);
  if (network == v1::NETWORK_PROXY_ROUTED) request.mutable_policy()->add_allow_domains("127.0.0.1");
  request.mutable_timeout()->set_seconds(300);
  grpc::ClientContext context;
  v1::ExecResponse response;
  grpc::Status status = stub.Exec(&context, request, &response);
  if (!status.ok()) return absl::InternalError(status.error_message());
  if (response.exit_code() != 0) {
    return absl::InternalError(absl::StrCat("curl failed: ", response.stderr()));
  }
  std::vector<double> figures;
  for (absl::string_view line : absl::StrSplit(response.stdout(), '\n', absl::SkipEmpty())) {
    double value = 0;
    if (!absl::SimpleAtod(line, &value)) return absl::InternalError("curl printed no figure");
    figures.push_back(value);
  }
  return figures;
}

absl::Duration Median(std::vector<double> seconds) {
  std::sort(seconds.begin(), seconds.end());
  return seconds.empty() ? absl::ZeroDuration() : absl::Seconds(seconds[seconds.size() / 2]);
}

// The curl options that send a request through the proxy even to 127.0.0.1, which
// NO_PROXY otherwise keeps direct; with `tunnel`, through CONNECT.
std::string ThroughProxy(bool tunnel) {
  return absl::StrCat("--noproxy '' -x http://127.0.0.1:3128", tunnel ? " -p" : "");
}

}  // namespace

absl::StatusOr<ProxyFigures> MeasureProxy(v1::SandboxService::Stub& stub,
                                          uint64_t download_bytes, int samples) {
  TestOrigin origin("127.0.0.1");
  ProxyFigures figures;
  figures.download_bytes = download_bytes;
  figures.samples = samples;
  std::string download = absl::StrCat("http://127.0.0.1:", origin.port(), "/bytes/", download_bytes);
  std::string curl = "curl -sS -o /dev/null -w '%{speed_download}\\n' ";
  for (int round = 0; round < 2; ++round) {  // The first warms both paths up.
    absl::StatusOr<std::vector<double>> direct =
        CurlFigures(stub, curl + download, v1::NETWORK_ENABLED);
    if (!direct.ok()) return direct.status();
    absl::StatusOr<std::vector<double>> proxied = CurlFigures(
        stub, absl::StrCat(curl, ThroughProxy(true), " ", download), v1::NETWORK_PROXY_ROUTED);
    if (!proxied.ok()) return proxied.status();
    figures.direct_mib_s = direct->at(0) / 1048576.0;
    figures.proxied_mib_s = proxied->at(0) / 1048576.0;
  }
  std::string small = absl::StrCat("http://127.0.0.1:", origin.port(), "/bytes/1");
  auto loop = [&](const std::string& options) {
    return absl::StrCat("for i in $(seq ", samples, "); do curl -sS -o /dev/null -w "
                        "'%{time_starttransfer}\\n' ", options, " ", small, "; done");
  };
  struct Side {
    std::string options;
    v1::NetworkMode network;
    absl::Duration* p50;
  };
  for (const Side& side : {Side{"", v1::NETWORK_ENABLED, &figures.ttfb_direct},
                           Side{ThroughProxy(false), v1::NETWORK_PROXY_ROUTED, &figures.ttfb_forwarded},
                           Side{ThroughProxy(true), v1::NETWORK_PROXY_ROUTED, &figures.ttfb_tunnel}}) {
    absl::StatusOr<std::vector<double>> times = CurlFigures(stub, loop(side.options), side.network);
    if (!times.ok()) return times.status();
    *side.p50 = Median(*times);
  }
  return figures;
}

}  // namespace sandboxd::bench

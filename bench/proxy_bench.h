#ifndef SANDBOXD_BENCH_PROXY_BENCH_H_
#define SANDBOXD_BENCH_PROXY_BENCH_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sandbox/v1/sandbox.grpc.pb.h"

namespace sandboxd::bench {

// What the managed network costs: the same downloads by curl in the sandbox, with the
// host's network (NETWORK_ENABLED) and through the proxy (NETWORK_PROXY_ROUTED), from
// an origin on loopback in this process. The server must allow 127.0.0.1 as a
// destination (--proxy_allow_destination).
struct ProxyFigures {
  uint64_t download_bytes = 0;
  double direct_mib_s = 0;
  double proxied_mib_s = 0;  // Through a CONNECT tunnel, as HTTPS goes.
  // Time to first byte of a new connection (curl's time_starttransfer), p50 of
  // `samples` requests each: direct, forwarded as plain HTTP, and through a tunnel
  // (which takes one more round trip, CONNECT's).
  int samples = 0;
  absl::Duration ttfb_direct, ttfb_forwarded, ttfb_tunnel;
};

absl::StatusOr<ProxyFigures> MeasureProxy(::sandbox::v1::SandboxService::Stub& stub,
                                          uint64_t download_bytes, int samples);

}  // namespace sandboxd::bench

#endif  // SANDBOXD_BENCH_PROXY_BENCH_H_

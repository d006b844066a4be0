#ifndef SANDBOXD_SERVER_METRICS_H_
#define SANDBOXD_SERVER_METRICS_H_

#include <memory>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace sandboxd {

// Prometheus metrics, served over HTTP at /metrics on their own port:
//   sandboxd_requests_total{method, outcome}   outcome: how the command ended
//                                              ("exited", "timed_out", ...) or the
//                                              status code of a refused call
//   sandboxd_request_duration_seconds{method}  histogram, admission to response
//   sandboxd_load{state="running"|"queued"}    commands running, requests waiting
//   sandboxd_rejections_total{reason}          calls refused before running
//   sandboxd_network_denials_total{reason}     what the proxy refused commands
//                                              ("domain_not_allowed", ...)
// Thread-safe.
class Metrics {
 public:
  // Listens on `address` ("HOST:PORT"); with `credentials` ("USER:PASSWORD"), answers
  // only requests that give them by HTTP basic authentication. FAILED_PRECONDITION when
  // it cannot listen.
  static absl::StatusOr<std::unique_ptr<Metrics>> Start(const std::string& address,
                                                       const std::string& credentials = "");

  void RequestDone(const std::string& method, const std::string& outcome,
                   absl::Duration latency);
  void Rejected(const std::string& method, const std::string& reason);
  void SetLoad(int running, int queued);
  void NetworkDenied(const std::string& reason, uint64_t count);

 private:
  Metrics() = default;

  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  std::unique_ptr<prometheus::Exposer> exposer_;
  prometheus::Family<prometheus::Counter>* requests_ = nullptr;
  prometheus::Family<prometheus::Counter>* rejections_ = nullptr;
  prometheus::Family<prometheus::Counter>* denials_ = nullptr;
  prometheus::Family<prometheus::Histogram>* latency_ = nullptr;
  prometheus::Gauge* running_ = nullptr;
  prometheus::Gauge* queued_ = nullptr;
};

}  // namespace sandboxd

#endif  // SANDBOXD_SERVER_METRICS_H_

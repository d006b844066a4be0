#include "server/metrics.h"

#include <exception>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/constant_time.h"

namespace sandboxd {

absl::StatusOr<std::unique_ptr<Metrics>> Metrics::Start(const std::string& address,
                                                       const std::string& credentials) {
  std::unique_ptr<Metrics> metrics(new Metrics());
  // prometheus-cpp reports a port it cannot bind with an exception; it stops here.
  try {
    metrics->exposer_ = std::make_unique<prometheus::Exposer>(address);
  } catch (const std::exception& e) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot serve metrics on ", address, ": ", e.what()));
  }
  metrics->requests_ = &prometheus::BuildCounter()
                            .Name("sandboxd_requests_total")
                            .Help("Requests by method and outcome.")
                            .Register(*metrics->registry_);
  metrics->rejections_ = &prometheus::BuildCounter()
                              .Name("sandboxd_rejections_total")
                              .Help("Calls refused before their command ran, by reason.")
                              .Register(*metrics->registry_);
  metrics->denials_ = &prometheus::BuildCounter()
                           .Name("sandboxd_network_denials_total")
                           .Help("Connections and requests the proxy refused commands, by reason.")
                           .Register(*metrics->registry_);
  metrics->latency_ = &prometheus::BuildHistogram()
                           .Name("sandboxd_request_duration_seconds")
                           .Help("Time from admission to response.")
                           .Register(*metrics->registry_);
  auto& load = prometheus::BuildGauge()
                   .Name("sandboxd_load")
                   .Help("Commands running, and requests waiting for a slot.")
                   .Register(*metrics->registry_);
  metrics->running_ = &load.Add({{"state", "running"}});
  metrics->queued_ = &load.Add({{"state", "queued"}});
  if (!credentials.empty()) {
    metrics->exposer_->RegisterAuth(
        [credentials](const std::string& user, const std::string& password) {
          return ConstantTimeEquals(absl::StrCat(user, ":", password), credentials);
        },
        "sandboxd");
  }
  metrics->exposer_->RegisterCollectable(metrics->registry_);
  return metrics;
}

void Metrics::RequestDone(const std::string& method, const std::string& outcome,
                          absl::Duration latency) {
  requests_->Add({{"method", method}, {"outcome", outcome}}).Increment();
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800};
  latency_->Add({{"method", method}}, kBuckets).Observe(absl::ToDoubleSeconds(latency));
}

void Metrics::NetworkDenied(const std::string& reason, uint64_t count) {
  denials_->Add({{"reason", reason}}).Increment(static_cast<double>(count));
}

void Metrics::Rejected(const std::string& method, const std::string& reason) {
  rejections_->Add({{"method", method}, {"reason", reason}}).Increment();
  RequestDone(method, reason, absl::ZeroDuration());
}

void Metrics::SetLoad(int running, int queued) {
  running_->Set(running);
  queued_->Set(queued);
}

}  // namespace sandboxd

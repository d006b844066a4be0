#ifndef SANDBOXD_SERVER_PROBE_HEALTH_H_
#define SANDBOXD_SERVER_PROBE_HEALTH_H_

#include <atomic>

#include "grpc/health/v1/health.grpc.pb.h"

namespace sandboxd {

// grpc.health.v1.Health for probes on the plaintext --health_listen port, where
// nothing else is served. Liveness and readiness differ in what they ask: service ""
// is SERVING while the process runs, even as it drains (restarting a draining pod
// would kill its commands early); "sandbox.v1.SandboxService" is NOT_SERVING once it
// drains, so that no new calls are routed to it. Other names are NOT_FOUND.
class ProbeHealth final : public grpc::health::v1::Health::Service {
 public:
  grpc::Status Check(grpc::ServerContext* context,
                     const grpc::health::v1::HealthCheckRequest* request,
                     grpc::health::v1::HealthCheckResponse* response) override;

  void StartDraining() { draining_ = true; }

 private:
  std::atomic<bool> draining_{false};
};

}  // namespace sandboxd

#endif  // SANDBOXD_SERVER_PROBE_HEALTH_H_

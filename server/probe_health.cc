#include "server/probe_health.h"

#include "absl/strings/str_cat.h"

namespace sandboxd {

using grpc::health::v1::HealthCheckResponse;

grpc::Status ProbeHealth::Check(grpc::ServerContext*,
                                const grpc::health::v1::HealthCheckRequest* request,
                                HealthCheckResponse* response) {
  if (request->service().empty()) {
    response->set_status(HealthCheckResponse::SERVING);
  } else if (request->service() == "sandbox.v1.SandboxService") {
    response->set_status(draining_ ? HealthCheckResponse::NOT_SERVING
                                   : HealthCheckResponse::SERVING);
  } else {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        absl::StrCat("no service \"", request->service(),
                                     "\" here; ask for \"\" (liveness) or "
                                     "\"sandbox.v1.SandboxService\" (readiness)"));
  }
  return grpc::Status::OK;
}

}  // namespace sandboxd

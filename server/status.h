#ifndef SANDBOXD_SERVER_STATUS_H_
#define SANDBOXD_SERVER_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace sandboxd {

// Converts a status from inside the server to the status a gRPC client sees: same
// code, same message. Only the service edge calls this.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace sandboxd

#endif  // SANDBOXD_SERVER_STATUS_H_

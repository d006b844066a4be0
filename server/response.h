#ifndef SANDBOXD_SERVER_RESPONSE_H_
#define SANDBOXD_SERVER_RESPONSE_H_

#include <string>

#include "sandbox/net/proxy.h"
#include "sandbox/plan/plan.h"
#include "sandbox/v1/sandbox.pb.h"
#include "sandbox/exec/worker.h"

namespace sandboxd {

// `d` as a protobuf Duration.
void SetDuration(absl::Duration d, google::protobuf::Duration& out);

// Fills `response` with what happened to a command that ran under `plan`. Output goes
// to the bytes fields, or, with OUTPUT_TEXT, to the text fields as valid UTF-8.
void FillResponse(const Plan& plan, const RunResult& result,
                  sandbox::v1::OutputEncoding encoding, sandbox::v1::ExecResponse& response);

// Fills `response` with how `plan` would run, started as `launch`, its connections
// served by `proxy` (NetworkProxy::Describe) when it is proxy-routed.
void FillExplanation(const Plan& plan, const LaunchCommand& launch, const std::string& proxy,
                     sandbox::v1::ExplainResponse& response);

// GetCapabilities' proxy: how `proxy` serves NETWORK_PROXY_ROUTED under the operator's
// rules in `config`, or why it is refused.
std::string DescribeProxy(const Config& config, const NetworkProxy* proxy);

}  // namespace sandboxd

#endif  // SANDBOXD_SERVER_RESPONSE_H_

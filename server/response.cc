#include "server/response.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/utf8.h"
#include "sandbox/net/bridge.h"

namespace sandboxd {
namespace {

namespace v1 = ::sandbox::v1;

}  // namespace

void SetDuration(absl::Duration d, google::protobuf::Duration& out) {
  int64_t seconds = absl::IDivDuration(d, absl::Seconds(1), &d);
  out.set_seconds(seconds);
  out.set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(d)));
}

namespace {

void AddLimit(const char* name, uint64_t value, const char* mechanism,
              v1::ExecResponse& response) {
  v1::EnforcedLimit& limit = *response.add_enforced_limits();
  limit.set_name(name);
  limit.set_value(value);
  limit.set_mechanism(mechanism);
}

void AddEnforcedLimits(const Plan& plan, v1::ExecResponse& response) {
  AddLimit("wall_time", static_cast<uint64_t>(absl::ToInt64Seconds(plan.timeout)), "timer",
           response);
  AddLimit("output", plan.output_limit, "truncation", response);
  const Limits& limits = plan.limits;
  if (limits.cpu_time > absl::ZeroDuration()) {
    AddLimit("cpu_time",
             static_cast<uint64_t>(absl::ToInt64Seconds(absl::Ceil(limits.cpu_time, absl::Seconds(1)))),
             "RLIMIT_CPU", response);
  }
  if (limits.memory_bytes) {
    AddLimit("memory", limits.memory_bytes, plan.cgroup != CgroupSource::kNone ? "cgroup memory limit" : "RLIMIT_AS",
             response);
  }
  if (limits.processes) AddLimit("processes", limits.processes, "cgroup pids.max", response);
  if (limits.file_size_bytes) AddLimit("file_size", limits.file_size_bytes, "RLIMIT_FSIZE", response);
  if (limits.open_files) AddLimit("open_files", limits.open_files, "RLIMIT_NOFILE", response);
}

}  // namespace

void FillResponse(const Plan& plan, const RunResult& result, v1::OutputEncoding encoding,
                  v1::ExecResponse& response) {
  response.set_termination(result.termination);
  response.set_exit_code(result.exit_code);
  response.set_signal(result.signal);
  response.set_timed_out(result.termination == Termination::TIMED_OUT);
  response.set_message(result.message);
  if (encoding == v1::OUTPUT_TEXT) {
    response.set_stdout_text(SanitizeUtf8(result.stdout_data.Contents()));
    response.set_stderr_text(SanitizeUtf8(result.stderr_data.Contents()));
  } else {
    response.set_stdout(result.stdout_data.Contents());
    response.set_stderr(result.stderr_data.Contents());
  }
  response.set_stdout_truncated(result.stdout_data.truncated());
  response.set_stderr_truncated(result.stderr_data.truncated());
  response.set_stdout_total_bytes(result.stdout_data.total_bytes());
  response.set_stderr_total_bytes(result.stderr_data.total_bytes());
  SetDuration(result.wall_time, *response.mutable_wall_time());
  SetDuration(result.user_cpu, *response.mutable_usage()->mutable_user_cpu());
  SetDuration(result.system_cpu, *response.mutable_usage()->mutable_system_cpu());
  response.mutable_usage()->set_max_rss_bytes(result.max_rss_bytes);
  response.set_backend(plan.backend);
  response.set_seccomp_mode(plan.seccomp_mode);
  AddEnforcedLimits(plan, response);
  for (const v1::NetworkDenial& denial : result.network_denials) {
    *response.add_network_denials() = denial;
  }
}

void FillExplanation(const Plan& plan, const LaunchCommand& launch, const std::string& proxy,
                     v1::ExplainResponse& response) {
  response.set_backend(plan.backend);
  response.set_seccomp_mode(plan.seccomp_mode);
  for (const std::string& arg : launch.argv) response.add_argv(arg);
  for (const std::string& entry : launch.env) response.add_env(entry);
  response.set_cwd(launch.cwd);
  SetDuration(plan.timeout, *response.mutable_timeout());
  response.set_output_limit_bytes(plan.output_limit);
  if (!launch.seccomp_bpf.empty()) {
    v1::PassedDescriptor& seccomp = *response.add_descriptors();
    seccomp.set_fd(kSeccompFd);
    seccomp.set_what("seccomp filter");
  }
  for (size_t i = 0; i < launch.passed_fd_paths.size(); ++i) {
    v1::PassedDescriptor& passed = *response.add_descriptors();
    passed.set_fd(kFirstPassedFd + static_cast<int>(i));
    passed.set_what(launch.passed_fd_paths[i]);
  }
  response.set_network_namespace(Describe(plan.netns));
  response.set_cgroup(Describe(plan.cgroup));
  if (plan.policy.has_value() && plan.policy->proxy_grant().has_value()) {
    response.set_proxy(absl::StrCat(kProxyUrl, " in the command's network namespace, ",
                                    "served by ", proxy, "; ",
                                    DescribeGrant(*plan.policy->proxy_grant())));
  }
}

std::string DescribeProxy(const Config& config, const NetworkProxy* proxy) {
  if (!config.proxy_refused.empty()) return absl::StrCat("refused: ", config.proxy_refused);
  const RuleCeiling& rules = config.proxy_rules;
  std::vector<std::string> allow, deny;
  for (const HostPattern& pattern : rules.allow) allow.push_back(pattern.ToString());
  for (const HostPattern& pattern : rules.deny) deny.push_back(pattern.ToString());
  return absl::StrCat(
      "served by ", proxy->Describe(), "; requests may allow ",
      rules.any_domain ? "any domain" : absl::StrCat("only ", absl::StrJoin(allow, ", ")),
      deny.empty() ? "" : absl::StrCat("; denied to all: ", absl::StrJoin(deny, ", ")),
      " (an operator rule may narrow this per client)");
}

}  // namespace sandboxd

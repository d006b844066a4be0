#include "client/exec_command.h"

#include <functional>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/byte_size.h"
#include "base/enum_name.h"
#include "base/utf8.h"

namespace sandboxd {
namespace {

namespace v1 = ::sandbox::v1;

absl::StatusOr<v1::SandboxMode> ParseMode(const std::string& mode) {
  if (mode.empty()) return v1::SANDBOX_MODE_UNSPECIFIED;
  if (mode == "read-only") return v1::READ_ONLY;
  if (mode == "workspace-write") return v1::WORKSPACE_WRITE;
  if (mode == "danger-full-access") return v1::DANGER_FULL_ACCESS;
  return absl::InvalidArgumentError(absl::StrCat(
      "--mode=", mode, " is not read-only, workspace-write or danger-full-access"));
}

// The value of --`option`, which must be a positive duration.
absl::StatusOr<absl::Duration> PositiveDuration(const ParsedArgs& args, const std::string& option) {
  absl::Duration duration;
  if (!absl::ParseDuration(args.Get(option), &duration) || duration <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", option, "=", args.Get(option), " is not a positive duration such as 30s or 5m"));
  }
  return duration;
}

absl::Status SetTimeout(const ParsedArgs& args, v1::ExecRequest& request) {
  absl::StatusOr<absl::Duration> parsed = PositiveDuration(args, "timeout");
  if (!parsed.ok()) return parsed.status();
  SetDuration(*parsed, *request.mutable_timeout());
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> Number(const ParsedArgs& args, const std::string& name, bool bytes) {
  uint64_t value = 0;
  if (bytes ? !ParseByteSize(args.Get(name), &value) : !absl::SimpleAtoi(args.Get(name), &value)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", name, bytes ? " needs a size in bytes, e.g. 1048576, 512K, 2G (powers of 1024) "
                            "or 1GB (of 1000)"
                          : " needs a whole number"));
  }
  return value;
}

absl::Status SetLimits(const ParsedArgs& args, v1::ResourceLimits& limits) {
  struct Field {
    const char* option;
    bool bytes;
    std::function<void(uint64_t)> set;
  };
  for (const Field& field : {
           Field{"memory", true, [&](uint64_t v) { limits.set_memory_bytes(v); }},
           Field{"file-size", true, [&](uint64_t v) { limits.set_file_size_bytes(v); }},
           Field{"open-files", false, [&](uint64_t v) { limits.set_open_files(v); }},
       }) {
    if (!args.Has(field.option)) continue;
    absl::StatusOr<uint64_t> value = Number(args, field.option, field.bytes);
    if (!value.ok()) return value.status();
    field.set(*value);
  }
  if (args.Has("cpu-time")) {
    absl::StatusOr<absl::Duration> cpu = PositiveDuration(args, "cpu-time");
    if (!cpu.ok()) return cpu.status();
    limits.mutable_cpu_time()->set_seconds(absl::ToInt64Seconds(absl::Ceil(*cpu, absl::Seconds(1))));
  }
  return absl::OkStatus();
}

// The options of ExecOptions that make up a SandboxPolicy: with --session, naming any
// of them replaces the session's policy.
constexpr const char* kPolicyOptions[] = {
    "mode",         "writable",    "exclude-cwd",       "protect",  "allow-git-writes",
    "readable",     "deny-read",   "network",           "cpu-time", "memory",
    "allow-domain", "deny-domain", "network-read-only", "file-size", "open-files",
};

absl::StatusOr<v1::NetworkMode> ParseNetwork(const ParsedArgs& args) {
  if (!args.Has("network")) return v1::NETWORK_DISABLED;
  std::string mode = args.Get("network");
  if (mode.empty() || mode == "on") return v1::NETWORK_ENABLED;
  if (mode == "proxy") return v1::NETWORK_PROXY_ROUTED;
  if (mode == "off") return v1::NETWORK_DISABLED;
  return absl::InvalidArgumentError(
      absl::StrCat("--network=", mode, " is not on, proxy or off"));
}

}  // namespace

std::string FormatDenials(const v1::ExecResponse& response) {
  std::string out;
  for (const v1::NetworkDenial& denial : response.network_denials()) {
    absl::StrAppend(&out, "sandboxctl: the proxy refused ", denial.host().empty() ? "a request" : denial.host(),
                    denial.port() != 0 ? absl::StrCat(":", denial.port()) : "", " (",
                    denial.protocol().empty() ? "?" : denial.protocol(), ", ",
                    LogName(denial.reason()), denial.count() > 1 ? absl::StrCat(", ", denial.count(), " times") : "",
                    "): ", denial.message(), "\n");
  }
  return out;
}

std::string ShellQuote(const std::string& word) {
  if (!word.empty() &&
      word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                             "0123456789-_./=:,+@%") == std::string::npos) {
    return word;
  }
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

const std::vector<OptionSpec>& ExecOptions() {
  static const auto* options = new std::vector<OptionSpec>{
      {"mode", "MODE",
       "read-only, workspace-write or danger-full-access (default: the server's)"},
      {"writable", "PATH", "a directory the command may write (workspace-write)", true},
      {"cwd", "DIR", "working directory (default: the current one)"},
      {"exclude-cwd", "", "keep the cwd read-only in workspace-write mode"},
      {"protect", "NAME", "keep NAME read-only under every writable root", true},
      {"allow-git-writes", "", "let the command write .git, except its config and hooks"},
      {"readable", "PATH", "only these directories (plus system ones) are visible", true},
      {"deny-read", "PATH", "hide this file or directory from the command", true},
      {"network", "MODE",
       "on (the same as --network alone): the host's network; proxy: only through the "
       "server's proxy, to the --allow-domain hosts; off (the default)",
       false, /*optional_value=*/true},
      {"allow-domain", "HOST", "with --network=proxy: a host the command may reach "
       "(pypi.org, *.pythonhosted.org, either with :PORT)", true},
      {"deny-domain", "HOST", "with --network=proxy: a host refused even when allowed", true},
      {"network-read-only", "", "with --network=proxy: plain HTTP GET, HEAD, OPTIONS only"},
      {"env", "NAME=VALUE", "set an environment variable", true},
      {"timeout", "DURATION", "kill the command after this long, e.g. 30s (default: the server's)"},
      {"output-limit", "BYTES", "bytes kept of stdout and of stderr (sizes: 4096, 512K, 2G, 1GB)"},
      {"cpu-time", "DURATION", "CPU time of each process, e.g. 30s"},
      {"memory", "BYTES", "address space of each process"},
      {"file-size", "BYTES", "largest file the command may write"},
      {"open-files", "N", "open files of each process"},
      {"no-stdin", "", "do not pass this program's stdin on"},
      {"session", "ID",
       "run in this session (sandboxctl session create): with its /tmp, and its policy "
       "and cwd unless options here name them"},
      {"help", "", "show this help"},
  };
  return *options;
}

bool NamesPolicy(const ParsedArgs& args) {
  for (const char* option : kPolicyOptions) {
    if (args.Has(option)) return true;
  }
  return false;
}

absl::StatusOr<v1::SandboxPolicy> BuildPolicy(const ParsedArgs& args) {
  v1::SandboxPolicy policy;
  absl::StatusOr<v1::SandboxMode> mode = ParseMode(args.Get("mode"));
  if (!mode.ok()) return mode.status();
  policy.set_mode(*mode);
  for (const std::string& root : args.All("writable")) policy.add_writable_roots(root);
  policy.set_exclude_cwd(args.Has("exclude-cwd"));
  for (const std::string& name : args.All("protect")) policy.add_protected_names(name);
  policy.set_allow_git_writes(args.Has("allow-git-writes"));
  for (const std::string& root : args.All("readable")) policy.add_readable_roots(root);
  for (const std::string& path : args.All("deny-read")) policy.add_deny_read(path);
  absl::StatusOr<v1::NetworkMode> network = ParseNetwork(args);
  if (!network.ok()) return network.status();
  policy.set_network(*network);
  for (const std::string& host : args.All("allow-domain")) policy.add_allow_domains(host);
  for (const std::string& host : args.All("deny-domain")) policy.add_deny_domains(host);
  policy.set_network_read_only(args.Has("network-read-only"));
  if (absl::Status s = SetLimits(args, *policy.mutable_limits()); !s.ok()) return s;
  return policy;
}

absl::StatusOr<v1::ExecRequest> BuildExecDefaults(const ParsedArgs& args,
                                                  const std::string& cwd) {
  v1::ExecRequest request;
  request.set_cwd(args.Get("cwd", cwd));
  absl::StatusOr<v1::SandboxPolicy> policy = BuildPolicy(args);
  if (!policy.ok()) return policy.status();
  *request.mutable_policy() = *std::move(policy);
  for (const std::string& entry : args.All("env")) {
    size_t eq = entry.find('=');
    if (eq == std::string::npos || eq == 0) {
      return absl::InvalidArgumentError(absl::StrCat("--env=", entry, " is not NAME=VALUE"));
    }
    (*request.mutable_env())[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  if (args.Has("timeout")) {
    if (absl::Status s = SetTimeout(args, request); !s.ok()) return s;
  }
  if (args.Has("output-limit")) {
    absl::StatusOr<uint64_t> limit = Number(args, "output-limit", /*bytes=*/true);
    if (!limit.ok()) return limit.status();
    request.set_output_limit_bytes(*limit);
  }
  return request;
}

absl::StatusOr<v1::ExecRequest> BuildExecRequest(const ParsedArgs& args,
                                                 const std::string& cwd) {
  if (args.rest.empty()) {
    return absl::InvalidArgumentError("no command given; usage: sandboxctl exec [options] -- CMD [ARGS...]");
  }
  // In a session, what no option names comes from the session: its policy and cwd.
  const bool in_session = args.Has("session");
  absl::StatusOr<v1::ExecRequest> request = BuildExecDefaults(args, in_session ? "" : cwd);
  if (!request.ok()) return request.status();
  for (const std::string& arg : args.rest) request->add_argv(arg);
  if (in_session) {
    request->set_session_id(args.Get("session"));
    if (!NamesPolicy(args)) request->clear_policy();
  }
  return request;
}

absl::StatusOr<absl::Duration> DurationOption(const ParsedArgs& args, const std::string& option,
                                              absl::Duration fallback) {
  if (!args.Has(option)) return fallback;
  std::string text = args.Get(option);
  absl::Duration duration;
  int64_t seconds = 0;
  if (absl::SimpleAtoi(text, &seconds) && seconds >= 0) return absl::Seconds(seconds);
  if (!absl::ParseDuration(text, &duration) || duration < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", option, "=", text, " is not a duration such as 500ms, 30s or 5m"));
  }
  return duration;
}

void SetDuration(absl::Duration duration, google::protobuf::Duration& out) {
  int64_t seconds = absl::IDivDuration(duration, absl::Seconds(1), &duration);
  out.set_seconds(seconds);
  out.set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(duration)));
}

std::string FormatExplanation(const v1::ExplainResponse& response) {
  std::string out = absl::StrCat(
      "backend: ", v1::Backend_Name(response.backend()),
      "\nseccomp: ", v1::SeccompMode_Name(response.seccomp_mode()), "\ncwd: ", response.cwd(),
      "\ntimeout: ", response.timeout().seconds(), "s\noutput limit: ",
      response.output_limit_bytes(), " bytes per stream\nenv:\n");
  for (const std::string& entry : response.env()) absl::StrAppend(&out, "  ", entry, "\n");
  absl::StrAppend(&out, "network namespace: ", response.network_namespace(), "\ncgroup: ",
                  response.cgroup(), "\n");
  if (!response.proxy().empty()) absl::StrAppend(&out, "proxy: ", response.proxy(), "\n");
  out += "descriptors:\n";
  for (const v1::PassedDescriptor& passed : response.descriptors()) {
    absl::StrAppend(&out, "  ", passed.fd(), ": ", passed.what(), "\n");
  }
  out += "argv:\n ";
  for (const std::string& arg : response.argv()) absl::StrAppend(&out, " ", ShellQuote(arg));
  return out + "\n";
}

std::string FormatCapabilities(const v1::GetCapabilitiesResponse& response) {
  auto yes_no = [](bool b) { return b ? "yes" : "no"; };
  std::string out = absl::StrCat(
      "backend: ", v1::Backend_Name(response.backend()), "\nbwrap: ", response.bwrap_version(),
      "\nuser namespaces: ", yes_no(response.user_namespaces()),
      "\nfresh /proc: ", yes_no(response.proc_mount()),
      "\nlandlock ABI: ", response.landlock_abi(), "\nseccomp: ", yes_no(response.seccomp()),
      "\ndanger-full-access allowed: ", yes_no(response.danger_full_access_allowed()),
      "\ncgroups: ", response.cgroups(),
      "\nnetwork namespaces: ", response.network_namespaces(),
      "\ncommands run as: ", response.command_user(), "\nNETWORK_ENABLED: ",
      response.network_enabled_refused().empty()
          ? std::string("allowed")
          : absl::StrCat("refused: ", response.network_enabled_refused()),
      "\nNETWORK_PROXY_ROUTED: ", response.proxy(), "\n");
  for (const std::string& note : response.notes()) absl::StrAppend(&out, "note: ", note, "\n");
  return out;
}

int ExitCodeFor(const v1::ExecResponse& response) {
  switch (response.termination()) {
    case v1::TIMED_OUT:
      return kExitTimedOut;
    case v1::CANCELLED:
    case v1::SETUP_FAILED:
    case v1::TERMINATION_UNSPECIFIED:
      return kExitClientError;
    default:
      // The command's own status: 128 + the signal that ended it, 127 or 126 when its
      // program could not be executed.
      return response.exit_code();
  }
}

void PreferText(v1::ExecResponse& response) {
  for (auto [bytes, text] : {std::pair{response.mutable_stdout(), response.mutable_stdout_text()},
                             std::pair{response.mutable_stderr(), response.mutable_stderr_text()}}) {
    if (bytes->empty() || !IsValidUtf8(*bytes)) continue;
    *text = std::move(*bytes);
    bytes->clear();
  }
}

}  // namespace sandboxd

#include "sandbox/exec/outcome.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace sandboxd {
namespace {

constexpr int kHighestSignal = 64;

std::string SignalName(int number) {
  const char* abbreviation = sigabbrev_np(number);
  return abbreviation != nullptr ? absl::StrCat("SIG", abbreviation)
                                 : absl::StrCat("signal ", number);
}

// One rule for signals: the number, and 128 + it as the exit code.
void NormalizeSignal(bool under_bwrap, RunResult& result) {
  bool killed_by_us = result.termination == Termination::TIMED_OUT ||
                      result.termination == Termination::CANCELLED;
  if (result.signal == 0 && result.exit_code > 128 && result.exit_code <= 128 + kHighestSignal &&
      (under_bwrap || killed_by_us)) {
    result.signal = result.exit_code - 128;
    if (result.termination == Termination::EXITED) result.termination = Termination::SIGNALED;
  }
  if (result.signal != 0) result.exit_code = 128 + result.signal;
}

// The line bwrap or a launcher printed when it failed before the command ran: then it
// is all of stderr, and nothing came on stdout. A command can print the same to make
// its own result look so, which misleads no one but its own client.
std::optional<std::string> SetupLine(const RunResult& result) {
  const std::string& err = result.stderr_head;
  if (result.stdout_data.total_bytes() != 0 || err.size() != result.stderr_data.total_bytes() ||
      err.empty() || err.find('\n') != err.size() - 1) {
    return std::nullopt;
  }
  for (absl::string_view who : {"bwrap: ", "sandboxd-launch: ", "sandboxd-landlock-exec: "}) {
    if (absl::StartsWith(err, who)) return err.substr(0, err.size() - 1);
  }
  return std::nullopt;
}

// From "bwrap: execvp PROGRAM: REASON" or "sandboxd-launch: exec PROGRAM: REASON".
bool ParseExecFailure(absl::string_view line, std::string& program, std::string& reason) {
  line.remove_prefix(line.find(": ") + 2);
  if (!absl::ConsumePrefix(&line, "execvp ") && !absl::ConsumePrefix(&line, "exec ")) {
    return false;
  }
  size_t colon = line.rfind(": ");
  if (colon == absl::string_view::npos) return false;
  program = std::string(line.substr(0, colon));
  reason = std::string(line.substr(colon + 2));
  return true;
}

void NoteSetupFailure(const std::string& line, RunResult& result) {
  std::string program, reason;
  if (!ParseExecFailure(line, program, reason)) {
    result.termination = Termination::SETUP_FAILED;
    result.message = absl::StrCat("the sandbox could not be set up, so the command did not run: ",
                                  line);
    return;
  }
  result.termination = Termination::EXEC_FAILED;
  bool missing = reason == strerrordesc_np(ENOENT);
  result.exit_code = missing ? 127 : 126;
  result.message = missing ? absl::StrCat("the program ", program,
                                          " was not found in the sandbox (argv[0] is looked "
                                          "up in the command's PATH): ", reason)
                           : absl::StrCat("the program ", program, " could not be executed: ",
                                          reason);
}

// Which limit, if any, ended a command that exited or died of a signal.
void NoteLimit(const RunBounds& bounds, RunResult& result) {
  const Limits& limits = bounds.limits;
  bool cpu_spent = result.user_cpu + result.system_cpu >= limits.cpu_time;
  bool failed = result.exit_code != 0;
  if (result.oom_killed && failed) {
    result.termination = Termination::MEMORY_LIMIT;
  } else if (limits.cpu_time > absl::ZeroDuration() &&
             (result.signal == SIGXCPU || (result.signal == SIGKILL && cpu_spent))) {
    result.termination = Termination::CPU_LIMIT;
  } else if (limits.file_size_bytes != 0 && result.signal == SIGXFSZ) {
    result.termination = Termination::FILE_SIZE_LIMIT;
  } else if (result.forks_refused && failed) {
    result.termination = Termination::PROCESS_LIMIT;
  } else if (result.termination == Termination::EXITED && failed) {
    if (std::optional<std::string> line = SetupLine(result)) NoteSetupFailure(*line, result);
  }
}

std::string Describe(const RunBounds& bounds, const RunResult& result) {
  const Limits& limits = bounds.limits;
  std::string by = absl::StrCat("killed by ", SignalName(result.signal));
  switch (result.termination) {
    case Termination::EXITED:
      return result.exit_code == 0 ? "" : absl::StrCat("exited with status ", result.exit_code);
    case Termination::SIGNALED:
      return by;
    case Termination::TIMED_OUT:
      return absl::StrCat("timed out: it ran past its timeout of ",
                          absl::FormatDuration(bounds.timeout), ", and its process tree was ", by);
    case Termination::CANCELLED:
      return absl::StrCat("the call was cancelled or the server shut down; its process tree "
                          "was ", by);
    case Termination::CPU_LIMIT:
      return absl::StrCat(by, ": a process used up limits.cpu_time (",
                          absl::FormatDuration(limits.cpu_time), ")");
    case Termination::FILE_SIZE_LIMIT:
      return absl::StrCat(by, ": a process wrote past limits.file_size_bytes (",
                          limits.file_size_bytes, " bytes)");
    case Termination::MEMORY_LIMIT:
      return absl::StrCat(by, ": the kernel's OOM killer ended a process at "
                          "limits.memory_bytes (", limits.memory_bytes, " bytes)");
    case Termination::PROCESS_LIMIT: {
      std::string ended = result.signal != 0 ? by : absl::StrCat("exited with status ",
                                                                  result.exit_code);
      std::string line = SetupLine(result).value_or("");
      return absl::StrCat(ended, " after a fork was refused at limits.processes (",
                          limits.processes, ")", line.empty() ? "" : ": ", line);
    }
    default:  // EXEC_FAILED and SETUP_FAILED: their message is set already.
      return result.message;
  }
}

}  // namespace

void ConcludeRun(const RunBounds& bounds, RunResult& result) {
  NormalizeSignal(bounds.under_bwrap, result);
  if (result.termination == Termination::EXITED ||
      result.termination == Termination::SIGNALED) {
    NoteLimit(bounds, result);
  }
  result.message = Describe(bounds, result);
  for (const auto& [name, output] : {std::pair{"stdout", &result.stdout_data},
                                     std::pair{"stderr", &result.stderr_data}}) {
    if (output->total_bytes() <= bounds.output_limit) continue;
    absl::StrAppend(&result.message, result.message.empty() ? "" : "; ", name, " passed ",
                    "output_limit_bytes (", bounds.output_limit, "), and only ",
                    bounds.output_limit, " bytes of it were kept");
  }
}

}  // namespace sandboxd

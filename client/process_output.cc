#include "client/process_output.h"

#include <unistd.h>

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/enum_name.h"
#include "base/write_all.h"
#include "client/cli.h"
#include "client/exec_command.h"

namespace sandboxd {
namespace {

namespace v1 = ::sandbox::v1;

// How long a call may take beyond the wait it asks for.
constexpr absl::Duration kCallSlack = absl::Seconds(15);

bool CaughtUp(const v1::ProcessStream& stream) {
  return stream.next_offset() >= stream.total_bytes();
}

}  // namespace

bool Finished(const v1::ProcessOutput& output) {
  return !output.running() && output.has_result() && CaughtUp(output.stdout()) &&
         CaughtUp(output.stderr());
}

absl::StatusOr<v1::ProcessOutput> ReadOutput(
    v1::SandboxService::Stub& stub, const Connection& connection, const std::string& id,
    OutputOffsets& offsets, absl::Duration poll, absl::Time deadline, bool follow,
    const std::function<bool(const v1::ProcessOutput&)>& on_output) {
  v1::ProcessOutput output;
  for (;;) {
    absl::Duration wait = std::clamp(deadline - absl::Now(), absl::ZeroDuration(), poll);
    v1::ReadProcessRequest request;
    request.set_process_id(id);
    request.set_stdout_offset(offsets.out);
    request.set_stderr_offset(offsets.err);
    SetDuration(wait, *request.mutable_wait());
    std::unique_ptr<grpc::ClientContext> context = NewContext(connection, wait + kCallSlack);
    output.Clear();
    grpc::Status status = stub.ReadProcess(context.get(), request, &output);
    if (!status.ok()) {
      return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                          status.error_message());
    }
    offsets.out = std::max(offsets.out, output.stdout().next_offset());
    offsets.err = std::max(offsets.err, output.stderr().next_offset());
    if (!on_output(output)) return output;
    // A process that still runs, or whose last output has not all come yet (a read
    // returns at most 1 MiB of each stream), has more to read.
    if (!follow || Finished(output)) return output;
    // Exited, and nothing came: what is left is no longer kept.
    if (!output.running() && output.stdout().data().empty() && output.stderr().data().empty()) {
      return output;
    }
    if (output.running() && absl::Now() >= deadline) return output;
  }
}

bool WriteOutput(const v1::ProcessOutput& output) {
  return WriteAll(STDOUT_FILENO, output.stdout().data()) &&
         WriteAll(STDERR_FILENO, output.stderr().data());
}

std::string FormatReadStatus(const v1::ProcessOutput& output) {
  std::string line = absl::StrCat("next: --stdout-offset=", output.stdout().next_offset(),
                                  " --stderr-offset=", output.stderr().next_offset());
  for (auto [name, stream] : {std::pair{"stdout", &output.stdout()},
                              std::pair{"stderr", &output.stderr()}}) {
    if (stream->lost_bytes() > 0) {
      absl::StrAppend(&line, "; ", stream->lost_bytes(), " bytes of ", name,
                      " were no longer kept");
    }
  }
  if (output.running() || !output.has_result()) return absl::StrCat(line, "; running");
  const v1::ExecResponse& result = output.result();
  if (result.termination() == v1::EXITED) {
    return absl::StrCat(line, "; exited with ", result.exit_code());
  }
  return absl::StrCat(line, "; ended (", LogName(result.termination()), ", exit code ",
                      result.exit_code(), ")",
                      result.message().empty() ? "" : absl::StrCat(": ", result.message()));
}

}  // namespace sandboxd

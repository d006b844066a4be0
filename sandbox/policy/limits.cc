#include "sandbox/policy/limits.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace sandboxd {
namespace {

namespace v1 = ::sandbox::v1;

absl::StatusOr<uint64_t> WithinCeiling(const char* name, uint64_t asked, uint64_t ceiling,
                                       const char* flag) {
  if (asked == 0) return ceiling;
  if (ceiling != 0 && asked > ceiling) {
    return absl::PermissionDeniedError(absl::StrCat("limits.", name, " ", asked,
                                                    " exceeds the server's ", flag, " of ",
                                                    ceiling));
  }
  return asked;
}

}  // namespace

absl::StatusOr<Limits> ValidLimits(const v1::ResourceLimits& proto, const Limits& ceilings) {
  Limits limits;
  absl::Duration cpu = absl::Seconds(proto.cpu_time().seconds()) +
                       absl::Nanoseconds(proto.cpu_time().nanos());
  if (cpu < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("limits.cpu_time is negative; give a positive duration");
  }
  limits.cpu_time = cpu == absl::ZeroDuration() ? ceilings.cpu_time : cpu;
  if (ceilings.cpu_time > absl::ZeroDuration() && limits.cpu_time > ceilings.cpu_time) {
    return absl::PermissionDeniedError(absl::StrCat(
        "limits.cpu_time ", absl::FormatDuration(cpu), " exceeds the server's --max_cpu_time of ",
        absl::FormatDuration(ceilings.cpu_time)));
  }
  struct Field {
    const char* name;
    uint64_t asked;
    uint64_t ceiling;
    const char* flag;
    uint64_t* out;
  };
  for (const Field& field :
       {Field{"memory_bytes", proto.memory_bytes(), ceilings.memory_bytes, "--max_memory_bytes",
              &limits.memory_bytes},
        Field{"file_size_bytes", proto.file_size_bytes(), ceilings.file_size_bytes,
              "--max_file_size_bytes", &limits.file_size_bytes},
        Field{"open_files", proto.open_files(), ceilings.open_files, "--max_open_files",
              &limits.open_files},
        Field{"processes", proto.processes(), ceilings.processes, "--max_processes",
              &limits.processes}}) {
    absl::StatusOr<uint64_t> value = WithinCeiling(field.name, field.asked, field.ceiling, field.flag);
    if (!value.ok()) return value.status();
    *field.out = *value;
  }
  return limits;
}

}  // namespace sandboxd

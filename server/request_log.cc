#include "server/request_log.h"

#include <unistd.h>

#include <google/protobuf/util/json_util.h>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/utf8.h"

namespace sandboxd {
namespace {

using google::protobuf::FieldDescriptor;

// `line` with each string made valid UTF-8, which the JSON printer needs.
LogLine Sanitized(const LogLine& line) {
  LogLine out = line;
  const google::protobuf::Reflection& reflection = *out.GetReflection();
  const google::protobuf::Descriptor& type = *out.GetDescriptor();
  for (int i = 0; i < type.field_count(); ++i) {
    const FieldDescriptor* field = type.field(i);
    if (field->type() != FieldDescriptor::TYPE_STRING) continue;
    if (field->is_repeated()) {
      for (int j = 0; j < reflection.FieldSize(out, field); ++j) {
        reflection.SetRepeatedString(&out, field, j,
                                     SanitizeUtf8(reflection.GetRepeatedString(out, field, j)));
      }
    } else if (reflection.HasField(out, field)) {
      reflection.SetString(&out, field, SanitizeUtf8(reflection.GetString(out, field)));
    }
  }
  return out;
}

}  // namespace

LogLine NewLogLine(absl::string_view event) {
  LogLine line;
  line.set_time(absl::FormatTime(absl::RFC3339_full, absl::Now(), absl::UTCTimeZone()));
  line.set_event(std::string(event));
  return line;
}

std::string ToJson(const LogLine& line) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(Sanitized(line), &json, options).ok()) {
    return "{\"event\":\"log_error\"}";
  }
  return json;
}

void WriteLog(const LogLine& line) {
  std::string text = ToJson(line) + "\n";
  ssize_t unused = write(STDERR_FILENO, text.data(), text.size());
  (void)unused;
}

}  // namespace sandboxd

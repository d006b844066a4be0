#include "server/request_log.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/utf8.h"

namespace sandboxd {

std::string JsonString(absl::string_view s) {
  std::string out = "\"";
  for (char c : SanitizeUtf8(s)) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppendFormat(&out, "\\u%04x", c);
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

LogLine::LogLine(absl::string_view event) {
  Add("time", absl::FormatTime(absl::RFC3339_full, absl::Now(), absl::UTCTimeZone()));
  Add("event", event);
}

LogLine& LogLine::Add(absl::string_view key, absl::string_view value) {
  fields_.emplace_back(std::string(key), JsonString(value));
  return *this;
}

LogLine& LogLine::Add(absl::string_view key, int64_t value) {
  fields_.emplace_back(std::string(key), absl::StrCat(value));
  return *this;
}

std::string LogLine::ToJson() const {
  std::string out = "{";
  for (const auto& [key, value] : fields_) {
    if (out.size() > 1) out += ",";
    absl::StrAppend(&out, JsonString(key), ":", value);
  }
  return out + "}";
}

void LogLine::Write() const {
  std::string line = ToJson() + "\n";
  ssize_t unused = write(STDERR_FILENO, line.data(), line.size());
  (void)unused;
}

}  // namespace sandboxd

#ifndef SANDBOXD_SERVER_REQUEST_LOG_H_
#define SANDBOXD_SERVER_REQUEST_LOG_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace sandboxd {

// One structured log line: a JSON object written whole to stderr. Values are
// strings or integers; keys come out in the order they were added.
class LogLine {
 public:
  explicit LogLine(absl::string_view event);
  LogLine& Add(absl::string_view key, absl::string_view value);
  LogLine& Add(absl::string_view key, const char* value) {
    return Add(key, absl::string_view(value));
  }
  LogLine& Add(absl::string_view key, int64_t value);
  // Writes the line with a single write(2), so lines from threads never interleave.
  void Write() const;
  std::string ToJson() const;

 private:
  std::vector<std::pair<std::string, std::string>> fields_;  // Values already encoded.
};

// `s` as a JSON string literal, quotes included.
std::string JsonString(absl::string_view s);

}  // namespace sandboxd

#endif  // SANDBOXD_SERVER_REQUEST_LOG_H_

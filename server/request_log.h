#ifndef SANDBOXD_SERVER_REQUEST_LOG_H_
#define SANDBOXD_SERVER_REQUEST_LOG_H_

#include <string>

#include "absl/strings/string_view.h"
#include "sandboxd/log/v1/log.pb.h"

namespace sandboxd {

// One structured log line (log.proto): a JSON object written whole to stderr.
using LogLine = ::sandboxd::log::v1::LogLine;

// A line for `event`, stamped with the time now.
LogLine NewLogLine(absl::string_view event);

// `line` as one line of JSON, field names as in log.proto; bytes that are not UTF-8
// (an argv0 as a client sent it) become U+FFFD.
std::string ToJson(const LogLine& line);

// Writes `line` with a single write(2), so that lines from threads never interleave.
void WriteLog(const LogLine& line);

}  // namespace sandboxd

#endif  // SANDBOXD_SERVER_REQUEST_LOG_H_

#include "base/utf8.h"

#include <cstdint>

namespace sandboxd {
namespace {

constexpr absl::string_view kReplacement = "\xEF\xBF\xBD";

// The length of the valid sequence at the start of `s`, or 0 if it is not valid.
// Bounds of the second byte follow the Unicode standard's table of well-formed
// sequences, which excludes overlongs, surrogates and values past U+10FFFF.
size_t ValidSequenceLength(absl::string_view s) {
  auto byte = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  uint8_t b0 = byte(0);
  if (b0 < 0x80) return 1;
  size_t len;
  uint8_t lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (s.size() < len) return 0;
  if (byte(1) < lo || byte(1) > hi) return 0;
  for (size_t i = 2; i < len; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
  }
  return len;
}

}  // namespace

bool IsValidUtf8(absl::string_view bytes) {
  while (!bytes.empty()) {
    size_t len = ValidSequenceLength(bytes);
    if (len == 0) return false;
    bytes.remove_prefix(len);
  }
  return true;
}

std::string SanitizeUtf8(absl::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  bool in_invalid_run = false;
  while (!bytes.empty()) {
    size_t len = ValidSequenceLength(bytes);
    if (len == 0) {
      if (!in_invalid_run) out.append(kReplacement.data(), kReplacement.size());
      in_invalid_run = true;
      bytes.remove_prefix(1);
      continue;
    }
    in_invalid_run = false;
    out.append(bytes.data(), len);
    bytes.remove_prefix(len);
  }
  return out;
}

size_t CutOffUtf8Suffix(absl::string_view bytes) {
  // Look back at most 3 bytes for the lead byte of an unfinished sequence.
  for (size_t back = 1; back <= 3 && back <= bytes.size(); ++back) {
    uint8_t byte = static_cast<uint8_t>(bytes[bytes.size() - back]);
    if ((byte & 0xC0) == 0x80) continue;  // A continuation byte: keep looking.
    size_t need = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
}

}  // namespace sandboxd

#include "base/utf8.h"

#include <cstdint>

namespace sandboxd {
namespace {

constexpr absl::string_view kReplacement = "\xEF\xBF\xBD";

bool IsContinuation(uint8_t byte) { return (byte & 0xC0) == 0x80; }

// What a lead byte asks of the bytes after it: how many bytes the sequence has in all
// (0 if the byte begins none: a continuation byte, C0, C1, F5..FF), and the range of
// its second byte. The ranges follow the Unicode standard's table of well-formed
// sequences, which excludes overlongs, surrogates and values past U+10FFFF.
struct Lead {
  size_t length = 0;
  uint8_t lo = 0x80;
  uint8_t hi = 0xBF;
};

Lead LeadOf(uint8_t b0) {
  Lead lead;
  if (b0 < 0x80) {
    lead.length = 1;
  } else if (b0 >= 0xC2 && b0 <= 0xDF) {
    lead.length = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    lead.length = 3;
    if (b0 == 0xE0) lead.lo = 0xA0;
    if (b0 == 0xED) lead.hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    lead.length = 4;
    if (b0 == 0xF0) lead.lo = 0x90;
    if (b0 == 0xF4) lead.hi = 0x8F;
  }
  return lead;
}

// The length of the valid sequence at the start of `s`, or 0 if it is not valid.
size_t ValidSequenceLength(absl::string_view s) {
  auto byte = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  Lead lead = LeadOf(byte(0));
  if (lead.length <= 1) return lead.length;
  if (s.size() < lead.length) return 0;
  if (byte(1) < lead.lo || byte(1) > lead.hi) return 0;
  for (size_t i = 2; i < lead.length; ++i) {
    if (!IsContinuation(byte(i))) return 0;
  }
  return lead.length;
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
  // Only a sequence that more bytes could still make valid is held back: anything
  // else is sanitized now, or a reader following the offsets would wait for it forever
  // (a trailing F8, say). So: a lead byte at most 3 from the end, fewer continuation
  // bytes after it than it needs, and the second byte (if there) in its range; the
  // third is a continuation byte, like all after the lead, and needs no range.
  size_t size = bytes.size();
  for (size_t back = 1; back <= 3 && back <= size; ++back) {
    uint8_t byte = static_cast<uint8_t>(bytes[size - back]);
    if (IsContinuation(byte)) continue;
    Lead lead = LeadOf(byte);
    if (lead.length <= back) return 0;  // No lead, or complete, or too many after it.
    if (back >= 2) {
      uint8_t second = static_cast<uint8_t>(bytes[size - back + 1]);
      if (second < lead.lo || second > lead.hi) return 0;
    }
    return back;
  }
  return 0;  // No lead byte in reach: continuation bytes that follow nothing valid.
}

}  // namespace sandboxd

#ifndef SANDBOXD_BASE_UTF8_H_
#define SANDBOXD_BASE_UTF8_H_

#include <string>

#include "absl/strings/string_view.h"

namespace sandboxd {

// Returns `bytes` as valid UTF-8: each run of bytes that belong to no valid sequence
// (stray continuation bytes, overlong forms, surrogates, code points past U+10FFFF, a
// cut-off sequence) becomes one U+FFFD. Valid input comes back unchanged. Protobuf
// string fields must hold valid UTF-8, and commands print whatever they like.
std::string SanitizeUtf8(absl::string_view bytes);

// Whether `bytes` is valid UTF-8 as it is (SanitizeUtf8 would return it unchanged).
bool IsValidUtf8(absl::string_view bytes);

// How many bytes at the end of `bytes` begin a UTF-8 sequence that is cut off (0 to
// 3), so that a stream split into chunks can hold them back for the next chunk. Only
// a sequence that the right bytes after it would make valid counts: a lead byte
// C2..F4 with fewer continuation bytes than it needs, its second byte (if there) in
// the range the lead allows. Anything else at the end (a stray continuation byte, C0,
// C1, F5..FF, a lead already followed by a wrong byte) counts 0, so that SanitizeUtf8
// replaces it now rather than it being held back for good.
size_t CutOffUtf8Suffix(absl::string_view bytes);

}  // namespace sandboxd

#endif  // SANDBOXD_BASE_UTF8_H_

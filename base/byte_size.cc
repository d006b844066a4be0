#include "base/byte_size.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace sandboxd {

namespace {

// The multiplier `unit` (lower case) stands for, 0 for none known.
uint64_t Multiplier(const std::string& unit) {
  if (unit.empty() || unit == "b") return 1;
  const std::string prefixes = "kmgt";
  size_t power = prefixes.find(unit[0]);
  if (power == std::string::npos) return 0;
  absl::string_view rest = absl::string_view(unit).substr(1);
  uint64_t base;
  if (rest.empty() || rest == "i" || rest == "ib") {
    base = 1024;
  } else if (rest == "b") {
    base = 1000;
  } else {
    return 0;
  }
  uint64_t multiplier = base;
  for (size_t i = 0; i < power; ++i) multiplier *= base;
  return multiplier;
}

}  // namespace

bool ParseByteSize(absl::string_view text, uint64_t* bytes) {
  size_t digits = 0;
  while (digits < text.size() && absl::ascii_isdigit(static_cast<unsigned char>(text[digits]))) {
    ++digits;
  }
  uint64_t number = 0;
  if (digits == 0 || !absl::SimpleAtoi(text.substr(0, digits), &number)) return false;
  uint64_t multiplier = Multiplier(absl::AsciiStrToLower(text.substr(digits)));
  if (multiplier == 0 || number > UINT64_MAX / multiplier) return false;
  *bytes = number * multiplier;
  return true;
}

bool AbslParseFlag(absl::string_view text, ByteSize* size, std::string* error) {
  if (ParseByteSize(text, &size->bytes)) return true;
  *error = absl::StrCat("\"", text, "\" is not a size in bytes; write e.g. 1048576, 512K, "
                        "4MiB, 2G or 1GB (K, M, G: powers of 1024; KB, MB, GB: of 1000)");
  return false;
}

std::string AbslUnparseFlag(ByteSize size) { return absl::StrCat(size.bytes); }

}  // namespace sandboxd

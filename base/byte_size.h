#ifndef SANDBOXD_BASE_BYTE_SIZE_H_
#define SANDBOXD_BASE_BYTE_SIZE_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace sandboxd {

// Parses a size in bytes: a whole number, optionally followed by a unit. K, M, G and T
// (also Ki, KiB, Mi, MiB ...) are powers of 1024, as Docker's --memory reads them; KB,
// MB, GB and TB are powers of 1000. Case does not matter. False for anything else, and
// for sizes that do not fit 64 bits.
bool ParseByteSize(absl::string_view text, uint64_t* bytes);

// A flag's value in bytes that takes the units ParseByteSize knows ("4MiB", "2G").
struct ByteSize {
  uint64_t bytes = 0;
};

// For ABSL_FLAG(ByteSize, ...).
bool AbslParseFlag(absl::string_view text, ByteSize* size, std::string* error);
std::string AbslUnparseFlag(ByteSize size);

}  // namespace sandboxd

#endif  // SANDBOXD_BASE_BYTE_SIZE_H_

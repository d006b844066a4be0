#ifndef SANDBOXD_SANDBOX_SESSION_OUTPUT_RING_H_
#define SANDBOXD_SANDBOX_SESSION_OUTPUT_RING_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace sandboxd {

// The last `capacity` bytes of an output stream, addressed by their offset in the
// whole stream, so that a reader can come back for what it has not read yet, and
// learn how much it missed when it comes back too late. Memory grows with what is kept,
// up to `capacity`. Not thread-safe.
class OutputRing {
 public:
  explicit OutputRing(size_t capacity) : capacity_(capacity) {}

  void Append(absl::string_view data);

  // What a read from `offset` gets: up to `max_bytes` from there, or from the first
  // byte kept when `offset` has been dropped (`lost` says how many were).
  struct Slice {
    uint64_t offset = 0;
    std::string data;
    uint64_t lost = 0;
  };
  // An offset past total_bytes() reads nothing from total_bytes().
  Slice Read(uint64_t offset, size_t max_bytes) const;

  // Bytes appended so far, kept or not.
  uint64_t total_bytes() const { return total_; }
  // The offset of the first byte kept.
  uint64_t first_kept() const { return total_ - kept_; }

 private:
  // The byte at stream offset `offset` (first_kept() <= offset < total_).
  size_t IndexOf(uint64_t offset) const;

  size_t capacity_;
  // Until full, the kept bytes in order; then a ring whose oldest byte is at start_.
  std::string buffer_;
  size_t start_ = 0;
  size_t kept_ = 0;
  uint64_t total_ = 0;
};

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_SESSION_OUTPUT_RING_H_

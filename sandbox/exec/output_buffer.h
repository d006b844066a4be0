#ifndef SANDBOXD_SANDBOX_EXEC_OUTPUT_BUFFER_H_
#define SANDBOXD_SANDBOX_EXEC_OUTPUT_BUFFER_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace sandboxd {

// Collects one output stream within a fixed number of bytes. Past the limit it keeps
// the first half and the most recent half and drops the middle, so memory stays bounded
// however much the command writes, and both the start (the command's first complaint)
// and the end (its summary) survive.
class OutputBuffer {
 public:
  explicit OutputBuffer(size_t limit);

  void Append(absl::string_view data);
  // Counts `n` bytes that went elsewhere (streamed), keeping none of them.
  void Count(uint64_t n) { total_ += n; }
  // The kept bytes: all of them, or head and tail joined when truncated().
  std::string Contents() const;
  bool truncated() const { return total_ > limit_; }
  uint64_t total_bytes() const { return total_; }

 private:
  size_t limit_;
  size_t head_limit_;
  std::string head_;
  // A ring of the last (limit_ - head_limit_) bytes once the head is full.
  std::string tail_;
  size_t tail_start_ = 0;
  uint64_t total_ = 0;
};

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_EXEC_OUTPUT_BUFFER_H_

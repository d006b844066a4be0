#include "sandbox/exec/output_buffer.h"

#include <algorithm>

namespace sandboxd {

OutputBuffer::OutputBuffer(size_t limit)
    : limit_(limit), head_limit_(limit - limit / 2) {}

void OutputBuffer::Append(absl::string_view data) {
  total_ += data.size();
  size_t to_head = std::min(data.size(), head_limit_ - head_.size());
  head_.append(data.data(), to_head);
  data.remove_prefix(to_head);
  size_t tail_limit = limit_ - head_limit_;
  if (data.empty() || tail_limit == 0) return;
  // Only the last tail_limit bytes of this chunk can survive.
  if (data.size() >= tail_limit) {
    tail_.assign(data.data() + data.size() - tail_limit, tail_limit);
    tail_start_ = 0;
    return;
  }
  while (!data.empty()) {
    if (tail_.size() < tail_limit) {
      size_t n = std::min(data.size(), tail_limit - tail_.size());
      tail_.append(data.data(), n);
      data.remove_prefix(n);
      continue;
    }
    size_t n = std::min(data.size(), tail_limit - tail_start_);
    tail_.replace(tail_start_, n, data.data(), n);
    tail_start_ = (tail_start_ + n) % tail_limit;
    data.remove_prefix(n);
  }
}

std::string OutputBuffer::Contents() const {
  std::string out = head_;
  out.append(tail_, tail_start_, std::string::npos);
  out.append(tail_, 0, tail_start_);
  return out;
}

}  // namespace sandboxd

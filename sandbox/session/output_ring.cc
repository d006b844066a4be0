#include "sandbox/session/output_ring.h"

#include <algorithm>

namespace sandboxd {

void OutputRing::Append(absl::string_view data) {
  total_ += data.size();
  if (capacity_ == 0) return;
  // Only the last capacity_ bytes of a large chunk can survive.
  if (data.size() >= capacity_) {
    buffer_.assign(data.data() + data.size() - capacity_, capacity_);
    start_ = 0;
    kept_ = capacity_;
    return;
  }
  // Growing: append while there is room below the capacity.
  if (buffer_.size() < capacity_) {
    size_t room = capacity_ - buffer_.size();
    size_t now = std::min(room, data.size());
    buffer_.append(data.data(), now);
    kept_ += now;
    data.remove_prefix(now);
    if (data.empty()) return;
  }
  // Full: overwrite the oldest bytes, wrapping at the end.
  while (!data.empty()) {
    size_t end = (start_ + kept_) % capacity_;  // == start_ when full.
    size_t now = std::min(data.size(), capacity_ - end);
    buffer_.replace(end, now, data.data(), now);
    data.remove_prefix(now);
    start_ = (start_ + now) % capacity_;
  }
}

size_t OutputRing::IndexOf(uint64_t offset) const {
  return (start_ + static_cast<size_t>(offset - first_kept())) % std::max<size_t>(capacity_, 1);
}

OutputRing::Slice OutputRing::Read(uint64_t offset, size_t max_bytes) const {
  Slice slice;
  if (offset < first_kept()) {
    slice.lost = first_kept() - offset;
    offset = first_kept();
  }
  offset = std::min(offset, total_);
  slice.offset = offset;
  size_t want = static_cast<size_t>(std::min<uint64_t>(total_ - offset, max_bytes));
  slice.data.reserve(want);
  size_t at = want == 0 ? 0 : IndexOf(offset);
  while (slice.data.size() < want) {
    size_t now = std::min(want - slice.data.size(), buffer_.size() - at);
    slice.data.append(buffer_, at, now);
    at = 0;
  }
  return slice;
}

}  // namespace sandboxd

#include "sandbox/inside/frames.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace sandboxd {

bool DecodeFrameHeader(const char (&bytes)[kFrameHeaderBytes], Frame& frame) {
  uint32_t length = 0;
  for (int i = 0; i < 4; ++i) {
    length |= uint32_t{static_cast<unsigned char>(bytes[1 + i])} << (8 * i);
  }
  frame.length = length;
  switch (static_cast<FrameType>(bytes[0])) {
    case FrameType::kData:
      frame.type = FrameType::kData;
      return length <= kMaxFramePayload;
    case FrameType::kResize:
      frame.type = FrameType::kResize;
      return length == 4;
    case FrameType::kEnd:
      frame.type = FrameType::kEnd;
      return length == 0;
  }
  return false;
}

HeaderRead ReadFrameHeader(int fd, Frame& frame) {
  char header[kFrameHeaderBytes];
  size_t have = 0;
  while (have < sizeof header) {
    ssize_t n = read(fd, header + have, sizeof header - have);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      pollfd wait{fd, POLLIN, 0};  // The server's pipe is non-blocking.
      poll(&wait, 1, -1);
      continue;
    }
    if (n < 0) return HeaderRead::kError;
    if (n == 0) return HeaderRead::kEndOfFile;
    have += static_cast<size_t>(n);
  }
  return DecodeFrameHeader(header, frame) ? HeaderRead::kFrame : HeaderRead::kMalformed;
}

bool FrameDecoder::Feed(const char* bytes, size_t size, Sink& sink) {
  while (size > 0 && !ended_ && !malformed_) {
    if (!in_payload_) {
      size_t take = std::min(size, kFrameHeaderBytes - header_size_);
      std::copy(bytes, bytes + take, header_ + header_size_);
      header_size_ += take;
      bytes += take;
      size -= take;
      if (header_size_ < kFrameHeaderBytes) break;
      header_size_ = 0;
      if (!DecodeFrameHeader(header_, frame_)) {
        malformed_ = true;
        break;
      }
      if (frame_.type == FrameType::kEnd) {
        ended_ = true;
        sink.OnEnd();
        break;
      }
      in_payload_ = true;
      payload_left_ = frame_.length;
      resize_size_ = 0;
      if (payload_left_ == 0) in_payload_ = false;  // An empty kData.
      continue;
    }
    size_t take = std::min<size_t>(size, payload_left_);
    if (frame_.type == FrameType::kData) {
      sink.OnData(bytes, take);
    } else {
      std::copy(bytes, bytes + take, resize_ + resize_size_);
      resize_size_ += take;
    }
    bytes += take;
    size -= take;
    payload_left_ -= static_cast<uint32_t>(take);
    if (payload_left_ > 0) continue;
    in_payload_ = false;
    if (frame_.type == FrameType::kResize) {
      auto u16 = [this](int at) {
        return static_cast<uint16_t>(static_cast<unsigned char>(resize_[at]) |
                                     static_cast<unsigned char>(resize_[at + 1]) << 8);
      };
      sink.OnResize(u16(0), u16(2));
    }
  }
  return !malformed_;
}

}  // namespace sandboxd

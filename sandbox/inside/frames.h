#ifndef SANDBOXD_SANDBOX_INSIDE_FRAMES_H_
#define SANDBOXD_SANDBOX_INSIDE_FRAMES_H_

#include <cstddef>
#include <cstdint>

#include "sandbox/inside/protocol.h"

// Reading the frames of protocol.h: whole headers from a blocking stream (a file
// write, whose payloads then go on by splice), or a stream fed in pieces (a terminal).

namespace sandboxd {

struct Frame {
  FrameType type = FrameType::kEnd;
  uint32_t length = 0;
};

// Decodes the header in `bytes` into `frame`; false when it is malformed: an unknown
// type, a payload over kMaxFramePayload, a kResize of other than 4 bytes, or a kEnd
// with a payload.
bool DecodeFrameHeader(const char (&bytes)[kFrameHeaderBytes], Frame& frame);

enum class HeaderRead {
  kFrame,      // `frame` holds a well-formed header.
  kEndOfFile,  // The stream ended before a header (or within one).
  kMalformed,  // See DecodeFrameHeader.
  kError,      // read(2) failed; errno says why.
};

// Reads exactly one header from `fd` and nothing past it, so that its payload can be
// spliced straight from a pipe.
HeaderRead ReadFrameHeader(int fd, Frame& frame);

// Decodes frames fed in pieces of any size, calling the sink in stream order. Data
// payloads are passed on as they arrive: nothing waits for a whole 4 MiB frame.
class FrameDecoder {
 public:
  class Sink {
   public:
    virtual ~Sink() = default;
    virtual void OnData(const char* bytes, size_t size) = 0;
    virtual void OnResize(uint16_t rows, uint16_t cols) = 0;
    virtual void OnEnd() = 0;
  };

  // Feeds `size` bytes. False once the stream is malformed (and from then on). After
  // kEnd the rest of the stream is ignored.
  bool Feed(const char* bytes, size_t size, Sink& sink);

  bool ended() const { return ended_; }

 private:
  char header_[kFrameHeaderBytes] = {};
  size_t header_size_ = 0;
  // Whether the bytes fed next belong to the payload of `frame_`.
  bool in_payload_ = false;
  Frame frame_;
  uint32_t payload_left_ = 0;
  char resize_[4] = {};
  size_t resize_size_ = 0;
  bool ended_ = false;
  bool malformed_ = false;
};

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_INSIDE_FRAMES_H_

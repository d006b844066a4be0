#include "sandbox/inside/frames.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

namespace sandboxd {
namespace {

std::string Encoded(FrameType type, const std::string& payload) {
  return FrameHeader(type, static_cast<uint32_t>(payload.size())) + payload;
}

bool Decode(const std::string& header, Frame& frame) {
  char bytes[kFrameHeaderBytes];
  header.copy(bytes, kFrameHeaderBytes);
  return DecodeFrameHeader(bytes, frame);
}

TEST(DecodeFrameHeaderTest, TakesWellFormedHeaders) {
  Frame frame;
  ASSERT_TRUE(Decode(FrameHeader(FrameType::kData, kMaxFramePayload), frame));
  EXPECT_EQ(frame.type, FrameType::kData);
  EXPECT_EQ(frame.length, kMaxFramePayload);
  ASSERT_TRUE(Decode(std::string("d\x01\x02\x03\x00", 5), frame));  // Little-endian.
  EXPECT_EQ(frame.length, 0x030201u);
  ASSERT_TRUE(Decode(FrameHeader(FrameType::kResize, 4), frame));
  EXPECT_EQ(frame.type, FrameType::kResize);
  ASSERT_TRUE(Decode(FrameHeader(FrameType::kEnd, 0), frame));
  EXPECT_EQ(frame.type, FrameType::kEnd);
}

TEST(DecodeFrameHeaderTest, RefusesMalformedHeaders) {
  Frame frame;
  EXPECT_FALSE(Decode(FrameHeader(FrameType::kData, kMaxFramePayload + 1), frame));
  EXPECT_FALSE(Decode(std::string("z\0\0\0\0", 5), frame));
  EXPECT_FALSE(Decode(FrameHeader(FrameType::kResize, 3), frame));
  EXPECT_FALSE(Decode(FrameHeader(FrameType::kEnd, 1), frame));
}

// What the decoder reported, in order.
class Recorder : public FrameDecoder::Sink {
 public:
  void OnData(const char* bytes, size_t size) override {
    if (!events.empty() && events.back() == 'D') {
      data.back().append(bytes, size);
      return;
    }
    events += 'D';
    data.emplace_back(bytes, size);
  }
  void OnResize(uint16_t rows, uint16_t cols) override {
    events += 'R';
    sizes.push_back(std::to_string(rows) + "x" + std::to_string(cols));
  }
  void OnEnd() override { events += 'E'; }

  std::string events;
  std::vector<std::string> data;
  std::vector<std::string> sizes;
};

std::string Stream() {
  return Encoded(FrameType::kData, "hello") + Encoded(FrameType::kResize, ResizePayload(50, 132)) +
         Encoded(FrameType::kData, "") + Encoded(FrameType::kData, "world") +
         Encoded(FrameType::kEnd, "") + "ignored after the end";
}

void ExpectStreamDecoded(const Recorder& recorder) {
  EXPECT_EQ(recorder.events, "DRDE");
  ASSERT_EQ(recorder.data.size(), 2u);
  EXPECT_EQ(recorder.data[0], "hello");
  EXPECT_EQ(recorder.data[1], "world");
  ASSERT_EQ(recorder.sizes.size(), 1u);
  EXPECT_EQ(recorder.sizes[0], "50x132");
}

TEST(FrameDecoderTest, DecodesAStreamFedWhole) {
  FrameDecoder decoder;
  Recorder recorder;
  std::string stream = Stream();
  EXPECT_TRUE(decoder.Feed(stream.data(), stream.size(), recorder));
  EXPECT_TRUE(decoder.ended());
  ExpectStreamDecoded(recorder);
}

TEST(FrameDecoderTest, DecodesAStreamFedByteByByte) {
  FrameDecoder decoder;
  Recorder recorder;
  for (char byte : Stream()) EXPECT_TRUE(decoder.Feed(&byte, 1, recorder));
  ExpectStreamDecoded(recorder);
}

TEST(FrameDecoderTest, MalformedStaysMalformed) {
  FrameDecoder decoder;
  Recorder recorder;
  std::string good = Encoded(FrameType::kData, "ok");
  std::string bad = FrameHeader(FrameType::kResize, 2) + "xx" + good;
  EXPECT_TRUE(decoder.Feed(good.data(), good.size(), recorder));
  EXPECT_FALSE(decoder.Feed(bad.data(), bad.size(), recorder));
  EXPECT_FALSE(decoder.Feed(good.data(), good.size(), recorder));
  EXPECT_EQ(recorder.events, "D");
}

TEST(ReadFrameHeaderTest, ReadsOneHeaderAndNoMore) {
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  std::string input = Encoded(FrameType::kData, "payload") + FrameHeader(FrameType::kEnd, 0) +
                      std::string("z\0\0\0\0", 5) + "ab";
  ASSERT_EQ(write(pipe_fds[1], input.data(), input.size()), static_cast<ssize_t>(input.size()));
  close(pipe_fds[1]);
  Frame frame;
  ASSERT_EQ(ReadFrameHeader(pipe_fds[0], frame), HeaderRead::kFrame);
  EXPECT_EQ(frame.type, FrameType::kData);
  ASSERT_EQ(frame.length, 7u);
  char payload[7];
  ASSERT_EQ(read(pipe_fds[0], payload, sizeof payload), 7);  // Still in the pipe.
  EXPECT_EQ(std::string(payload, 7), "payload");
  ASSERT_EQ(ReadFrameHeader(pipe_fds[0], frame), HeaderRead::kFrame);
  EXPECT_EQ(frame.type, FrameType::kEnd);
  EXPECT_EQ(ReadFrameHeader(pipe_fds[0], frame), HeaderRead::kMalformed);
  EXPECT_EQ(ReadFrameHeader(pipe_fds[0], frame), HeaderRead::kEndOfFile);  // Within one.
  close(pipe_fds[0]);
}

}  // namespace
}  // namespace sandboxd

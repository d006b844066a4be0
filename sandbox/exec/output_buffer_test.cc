#include "sandbox/exec/output_buffer.h"

#include <string>

#include <gtest/gtest.h>

namespace sandboxd {
namespace {

TEST(OutputBufferTest, KeepsEverythingWithinTheLimit) {
  OutputBuffer buffer(10);
  buffer.Append("hello");
  buffer.Append("world");
  EXPECT_EQ(buffer.Contents(), "helloworld");
  EXPECT_FALSE(buffer.truncated());
  EXPECT_EQ(buffer.total_bytes(), 10u);
}

TEST(OutputBufferTest, KeepsHeadAndTailBeyondTheLimit) {
  OutputBuffer buffer(6);
  for (char c = 'a'; c <= 'z'; ++c) buffer.Append(std::string(1, c));
  EXPECT_EQ(buffer.Contents(), "abcxyz");
  EXPECT_TRUE(buffer.truncated());
  EXPECT_EQ(buffer.total_bytes(), 26u);
}

TEST(OutputBufferTest, LargeChunkKeepsItsEnd) {
  OutputBuffer buffer(7);  // Head of 4, tail of 3.
  buffer.Append("0123456789");
  buffer.Append("ABCDEFGHIJ");
  EXPECT_EQ(buffer.Contents(), "0123HIJ");
}

TEST(OutputBufferTest, RingWrapsAcrossChunks) {
  OutputBuffer buffer(8);  // Head of 4, tail of 4.
  buffer.Append("head");
  buffer.Append("12");
  buffer.Append("345");
  buffer.Append("67");
  EXPECT_EQ(buffer.Contents(), "head4567");
}

TEST(OutputBufferTest, ZeroLimitKeepsNothingButCounts) {
  OutputBuffer buffer(0);
  buffer.Append("abc");
  EXPECT_EQ(buffer.Contents(), "");
  EXPECT_TRUE(buffer.truncated());
  EXPECT_EQ(buffer.total_bytes(), 3u);
}

}  // namespace
}  // namespace sandboxd

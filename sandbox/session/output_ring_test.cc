#include "sandbox/session/output_ring.h"

#include <string>

#include "gtest/gtest.h"

namespace sandboxd {
namespace {

TEST(OutputRingTest, KeepsEverythingWithinCapacity) {
  OutputRing ring(10);
  ring.Append("hello ");
  ring.Append("you");
  OutputRing::Slice all = ring.Read(0, 100);
  EXPECT_EQ(all.data, "hello you");
  EXPECT_EQ(all.offset, 0u);
  EXPECT_EQ(all.lost, 0u);
  EXPECT_EQ(ring.Read(6, 2).data, "yo");
  EXPECT_EQ(ring.Read(9, 5).data, "");
  EXPECT_EQ(ring.Read(50, 5).offset, 9u);
}

TEST(OutputRingTest, ReportsWhatWasDroppedAndWraps) {
  OutputRing ring(8);
  std::string stream;
  for (int i = 0; i < 50; ++i) {
    std::string piece = std::to_string(i) + ",";
    ring.Append(piece);
    stream += piece;
  }
  EXPECT_EQ(ring.total_bytes(), stream.size());
  OutputRing::Slice from_start = ring.Read(0, 100);
  EXPECT_EQ(from_start.lost, stream.size() - 8);
  EXPECT_EQ(from_start.offset, stream.size() - 8);
  EXPECT_EQ(from_start.data, stream.substr(stream.size() - 8));
  // Every offset kept reads what the stream had there.
  for (uint64_t offset = ring.first_kept(); offset <= stream.size(); ++offset) {
    OutputRing::Slice slice = ring.Read(offset, 3);
    EXPECT_EQ(slice.lost, 0u);
    EXPECT_EQ(slice.data, stream.substr(offset, 3)) << offset;
  }
}

TEST(OutputRingTest, ChunkLargerThanCapacityKeepsItsEnd) {
  OutputRing ring(4);
  ring.Append("ab");
  ring.Append("0123456789");
  EXPECT_EQ(ring.Read(0, 10).data, "6789");
  EXPECT_EQ(ring.Read(0, 10).lost, 8u);
  ring.Append("x");
  EXPECT_EQ(ring.Read(ring.first_kept(), 10).data, "789x");
}

}  // namespace
}  // namespace sandboxd

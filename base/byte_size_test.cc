#include "base/byte_size.h"

#include <gtest/gtest.h>

namespace sandboxd {
namespace {

uint64_t Parsed(absl::string_view text) {
  uint64_t bytes = 0;
  EXPECT_TRUE(ParseByteSize(text, &bytes)) << text;
  return bytes;
}

TEST(ByteSizeTest, TakesPlainNumbersAndUnits) {
  EXPECT_EQ(Parsed("4096"), 4096u);
  EXPECT_EQ(Parsed("10b"), 10u);
  EXPECT_EQ(Parsed("512K"), 512u << 10);
  EXPECT_EQ(Parsed("2G"), uint64_t{2} << 30);
  EXPECT_EQ(Parsed("2g"), uint64_t{2} << 30);
  EXPECT_EQ(Parsed("4Mi"), 4u << 20);
  EXPECT_EQ(Parsed("4MiB"), 4u << 20);
  EXPECT_EQ(Parsed("1GB"), 1000000000u);
  EXPECT_EQ(Parsed("3kb"), 3000u);
  EXPECT_EQ(Parsed("1T"), uint64_t{1} << 40);
}

TEST(ByteSizeTest, RefusesWhatIsNotASize) {
  uint64_t bytes = 0;
  for (absl::string_view bad : {"", "G", "-1", "1.5G", "2X", "2 G", "2GiBs", "2Gb x",
                                "99999999999999999999", "20000000T"}) {
    EXPECT_FALSE(ParseByteSize(bad, &bytes)) << bad;
  }
}

TEST(ByteSizeTest, IsAFlagType) {
  ByteSize size;
  std::string error;
  EXPECT_TRUE(AbslParseFlag("64MiB", &size, &error));
  EXPECT_EQ(size.bytes, 64u << 20);
  EXPECT_FALSE(AbslParseFlag("lots", &size, &error));
  EXPECT_NE(error.find("not a size in bytes"), std::string::npos);
  EXPECT_EQ(AbslUnparseFlag(size), "67108864");
}

}  // namespace
}  // namespace sandboxd

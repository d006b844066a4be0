#include "base/utf8.h"

#include <gtest/gtest.h>

namespace sandboxd {
namespace {

constexpr char kFffd[] = "\xEF\xBF\xBD";

TEST(SanitizeUtf8Test, ValidTextIsUnchanged) {
  std::string text = "plain ascii, caf\xC3\xA9, \xE2\x82\xAC, \xF0\x9F\x98\x80";
  EXPECT_EQ(SanitizeUtf8(text), text);
}

TEST(SanitizeUtf8Test, InvalidRunsBecomeOneReplacementEach) {
  EXPECT_EQ(SanitizeUtf8("a\xFF\xFE" "b"), std::string("a") + kFffd + "b");
  EXPECT_EQ(SanitizeUtf8("\x80x\x80"), std::string(kFffd) + "x" + kFffd);
}

TEST(SanitizeUtf8Test, RejectsOverlongsSurrogatesAndTooLarge) {
  EXPECT_EQ(SanitizeUtf8("\xC0\xAF"), kFffd);          // Overlong '/'.
  EXPECT_EQ(SanitizeUtf8("\xED\xA0\x80"), kFffd);      // U+D800.
  EXPECT_EQ(SanitizeUtf8("\xF4\x90\x80\x80"), kFffd);  // U+110000.
}

TEST(SanitizeUtf8Test, CutOffSequenceAtTheEnd) {
  EXPECT_EQ(SanitizeUtf8("ok\xE2\x82"), std::string("ok") + kFffd);
}

TEST(IsValidUtf8Test, SaysWhatSanitizeWouldLeaveAlone) {
  for (const char* text : {"", "plain", "caf\xC3\xA9", "\xF0\x9F\x98\x80", "a\xFFb", "\xC0\xAF",
                           "\xED\xA0\x80", "ok\xE2\x82"}) {
    EXPECT_EQ(IsValidUtf8(text), SanitizeUtf8(text) == text) << text;
  }
  EXPECT_TRUE(IsValidUtf8("caf\xC3\xA9"));
  EXPECT_FALSE(IsValidUtf8("a\xFFb"));
}

TEST(CutOffUtf8SuffixTest, FindsOnlyUnfinishedSequences) {
  EXPECT_EQ(CutOffUtf8Suffix("abc"), 0u);
  EXPECT_EQ(CutOffUtf8Suffix("caf\xC3\xA9"), 0u);     // Complete.
  EXPECT_EQ(CutOffUtf8Suffix("caf\xC3"), 1u);         // 2-byte sequence, 1 present.
  EXPECT_EQ(CutOffUtf8Suffix("x\xE2\x82"), 2u);       // 3-byte sequence, 2 present.
  EXPECT_EQ(CutOffUtf8Suffix("x\xF0\x9F\x98"), 3u);   // 4-byte sequence, 3 present.
  EXPECT_EQ(CutOffUtf8Suffix("\x80\x80\x80\x80"), 0u); // Garbage is not held back.
  EXPECT_EQ(CutOffUtf8Suffix(""), 0u);
}

}  // namespace
}  // namespace sandboxd

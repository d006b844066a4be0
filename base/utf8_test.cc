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
  for (const char* text : {"", "plain", "caf\xC3\xA9", "\xF0\x9F\x98\x80", "a\xFF" "b", "\xC0\xAF",
                           "\xED\xA0\x80", "ok\xE2\x82"}) {
    EXPECT_EQ(IsValidUtf8(text), SanitizeUtf8(text) == text) << text;
  }
  EXPECT_TRUE(IsValidUtf8("caf\xC3\xA9"));
  EXPECT_FALSE(IsValidUtf8("a\xFF" "b"));
}

TEST(CutOffUtf8SuffixTest, FindsOnlyUnfinishedSequences) {
  EXPECT_EQ(CutOffUtf8Suffix("abc"), 0u);
  EXPECT_EQ(CutOffUtf8Suffix("caf\xC3\xA9"), 0u);     // Complete.
  EXPECT_EQ(CutOffUtf8Suffix("caf\xC3"), 1u);         // 2-byte sequence, 1 present.
  EXPECT_EQ(CutOffUtf8Suffix("x\xE2\x82"), 2u);       // 3-byte sequence, 2 present.
  EXPECT_EQ(CutOffUtf8Suffix("x\xF0\x9F\x98"), 3u);   // 4-byte sequence, 3 present.
  EXPECT_EQ(CutOffUtf8Suffix("\x80\x80\x80\x80"), 0u); // Garbage is not held back.
  EXPECT_EQ(CutOffUtf8Suffix(""), 0u);
  EXPECT_EQ(CutOffUtf8Suffix("\xE2"), 1u);
  EXPECT_EQ(CutOffUtf8Suffix("\xE2\x82"), 2u);
  EXPECT_EQ(CutOffUtf8Suffix("\xF0\x9F\x98"), 3u);
  EXPECT_EQ(CutOffUtf8Suffix("x\xF4\x8F"), 2u);  // On the way to U+10FFFF.
}

// What can never become valid, however the stream goes on, is not held back: else a
// reader that follows the offsets would wait for it forever.
TEST(CutOffUtf8SuffixTest, HoldsNothingThatCanNeverBeValid) {
  EXPECT_EQ(CutOffUtf8Suffix("x\xF8"), 0u);       // Never a lead byte.
  EXPECT_EQ(CutOffUtf8Suffix("x\xFF"), 0u);
  EXPECT_EQ(CutOffUtf8Suffix("x\xF5"), 0u);       // Past U+10FFFF.
  EXPECT_EQ(CutOffUtf8Suffix("\xC0"), 0u);        // Overlong, whatever follows.
  EXPECT_EQ(CutOffUtf8Suffix("\xC1"), 0u);
  EXPECT_EQ(CutOffUtf8Suffix("\x80"), 0u);        // A continuation byte alone.
  EXPECT_EQ(CutOffUtf8Suffix("\xED\xA0"), 0u);    // A surrogate.
  EXPECT_EQ(CutOffUtf8Suffix("\xE0\x80"), 0u);    // Overlong.
  EXPECT_EQ(CutOffUtf8Suffix("\xF0\x80\x80"), 0u);  // Overlong.
  EXPECT_EQ(CutOffUtf8Suffix("\xF4\x90"), 0u);    // Past U+10FFFF.
  EXPECT_EQ(CutOffUtf8Suffix("\xE2\x82\xAC\x80"), 0u);  // One continuation too many.
  // Each is sanitized at once, so the stream moves past it.
  EXPECT_EQ(SanitizeUtf8("x\xF8"), std::string("x") + kFffd);
}

// Whatever is held back and then completed is exactly a valid character.
TEST(CutOffUtf8SuffixTest, WhatIsHeldBackCanStillBeValid) {
  for (const char* text : {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\xED\x9F\xBF",
                           "\xE0\xA0\x80", "\xF4\x8F\xBF\xBF"}) {
    std::string full = text;
    for (size_t cut = 1; cut < full.size(); ++cut) {
      EXPECT_EQ(CutOffUtf8Suffix(full.substr(0, cut)), cut) << full << " cut at " << cut;
    }
    EXPECT_EQ(CutOffUtf8Suffix(full), 0u) << full;
  }
}

}  // namespace
}  // namespace sandboxd

#include "server/request_log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sandboxd {
namespace {

using ::testing::EndsWith;
using ::testing::StartsWith;

TEST(JsonStringTest, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(JsonString("a\"b\\c\nd\x01"), "\"a\\\"b\\\\c\\nd\\u0001\"");
}

TEST(LogLineTest, FieldsInOrder) {
  std::string json = LogLine("exec").Add("argv0", "ls").Add("exit_code", 3).ToJson();
  EXPECT_THAT(json, StartsWith("{\"time\":\""));
  EXPECT_THAT(json, EndsWith("\"event\":\"exec\",\"argv0\":\"ls\",\"exit_code\":3}"));
}

}  // namespace
}  // namespace sandboxd

#include "server/request_log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sandboxd {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

TEST(LogLineTest, FieldsInTheProtosOrderWithTheirProtoNames) {
  LogLine line = NewLogLine("exec");
  line.set_exit_code(3);
  line.set_argv0("ls");
  std::string json = ToJson(line);
  EXPECT_THAT(json, StartsWith("{\"time\":\""));
  EXPECT_THAT(json, EndsWith("\"event\":\"exec\",\"argv0\":\"ls\",\"exit_code\":3}"));
}

TEST(LogLineTest, ZeroIsPrintedWhereItWasSetAndNothingElse) {
  LogLine line = NewLogLine("exec");
  line.set_exit_code(0);
  line.set_stdout_bytes(12345678901);
  std::string json = ToJson(line);
  EXPECT_THAT(json, HasSubstr("\"exit_code\":0"));
  EXPECT_THAT(json, HasSubstr("\"stdout_bytes\":12345678901"));
  EXPECT_THAT(json, Not(HasSubstr("signal")));
}

TEST(LogLineTest, EscapesWhatJsonNeedsAndKeepsTheLineValid) {
  LogLine line = NewLogLine("exec");
  line.set_argv0("a\"b\\c\nd\x01 \xff");
  std::string json = ToJson(line);
  EXPECT_THAT(json, HasSubstr("\"argv0\":\"a\\\"b\\\\c\\nd\\u0001 \xef\xbf\xbd\""));
  EXPECT_THAT(json, Not(HasSubstr("\n")));
}

}  // namespace
}  // namespace sandboxd

#include "client/args.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sandboxd {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::vector<OptionSpec> kSpecs = {
    {"mode", "MODE", "sandbox mode"},
    {"writable", "PATH", "writable root", /*repeated=*/true},
    {"network", "", "enable network"},
};

TEST(ParseArgsTest, OptionsThenCommand) {
  absl::StatusOr<ParsedArgs> parsed =
      ParseArgs({"--mode=ro", "--writable", "/a", "--writable=/b", "--network", "--", "ls",
                 "--mode"},
                kSpecs);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->Get("mode"), "ro");
  EXPECT_THAT(parsed->All("writable"), ElementsAre("/a", "/b"));
  EXPECT_TRUE(parsed->Has("network"));
  EXPECT_THAT(parsed->rest, ElementsAre("ls", "--mode"));
}

TEST(ParseArgsTest, CommandStartsAtFirstNonOption) {
  absl::StatusOr<ParsedArgs> parsed = ParseArgs({"echo", "--network"}, kSpecs);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_FALSE(parsed->Has("network"));
  EXPECT_THAT(parsed->rest, ElementsAre("echo", "--network"));
  EXPECT_EQ(parsed->Get("mode", "default"), "default");
}

TEST(ParseArgsTest, Errors) {
  EXPECT_THAT(ParseArgs({"--bogus"}, kSpecs).status().message(), HasSubstr("unknown option --bogus"));
  EXPECT_THAT(ParseArgs({"--mode"}, kSpecs).status().message(), HasSubstr("needs a MODE"));
  EXPECT_THAT(ParseArgs({"--network=yes"}, kSpecs).status().message(), HasSubstr("takes no value"));
  EXPECT_THAT(ParseArgs({"--mode=a", "--mode=b"}, kSpecs).status().message(),
              HasSubstr("given twice"));
}

TEST(OptionsHelpTest, ListsEveryOption) {
  std::string help = OptionsHelp(kSpecs);
  EXPECT_THAT(help, HasSubstr("--mode=MODE"));
  EXPECT_THAT(help, HasSubstr("writable root (repeatable)"));
  EXPECT_THAT(help, HasSubstr("--network "));
}

}  // namespace
}  // namespace sandboxd

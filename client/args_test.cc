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

const std::vector<OptionSpec> kShortSpecs = {
    {"recursive", "", "remove directories", false, false, 'r'},
    {"force", "", "never ask", false, false, 'f'},
    {"depth", "N", "levels", false, false, 'd'},
    {"wait", "DURATION", "how long"},
};

TEST(ParseArgsTest, ShortOptionsAloneTogetherAndWithValues) {
  absl::StatusOr<ParsedArgs> parsed = ParseArgs({"-rf", "-d", "2", "/work"}, kShortSpecs);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(parsed->Has("recursive"));
  EXPECT_TRUE(parsed->Has("force"));
  EXPECT_EQ(parsed->Get("depth"), "2");
  EXPECT_THAT(parsed->rest, ElementsAre("/work"));
  parsed = ParseArgs({"-d3", "-", "x"}, kShortSpecs);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->Get("depth"), "3");
  EXPECT_THAT(parsed->rest, ElementsAre("-", "x"));  // "-" is a word (stdin).
  EXPECT_THAT(ParseArgs({"-x"}, kShortSpecs).status().message(), HasSubstr("unknown option -x"));
  EXPECT_THAT(ParseArgs({"-d"}, kShortSpecs).status().message(), HasSubstr("-d needs a N"));
  EXPECT_THAT(ParseArgs({"-r", "--recursive"}, kShortSpecs).status().message(),
              HasSubstr("--recursive is given twice"));
}

TEST(ParseArgsTest, InterspersedOptionsMixWithWords) {
  absl::StatusOr<ParsedArgs> parsed =
      ParseArgs({"p-1", "--wait", "5s", "-r", "more", "--", "--force"}, kShortSpecs,
                /*interspersed=*/true);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->Get("wait"), "5s");
  EXPECT_TRUE(parsed->Has("recursive"));
  EXPECT_FALSE(parsed->Has("force"));
  EXPECT_THAT(parsed->rest, ElementsAre("p-1", "more", "--force"));
}

TEST(OptionsHelpTest, ListsEveryOption) {
  std::string help = OptionsHelp(kSpecs);
  EXPECT_THAT(help, HasSubstr("--mode=MODE"));
  EXPECT_THAT(help, HasSubstr("writable root (repeatable)"));
  EXPECT_THAT(help, HasSubstr("--network "));
  EXPECT_THAT(OptionsHelp(kShortSpecs), HasSubstr("-d, --depth=N"));
}

}  // namespace
}  // namespace sandboxd

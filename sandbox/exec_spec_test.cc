#include "sandbox/exec_spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sandboxd {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
namespace v1 = ::sandbox::v1;

v1::ExecRequest Request(std::initializer_list<std::string> argv) {
  v1::ExecRequest request;
  for (const std::string& arg : argv) request.add_argv(arg);
  return request;
}

TEST(ExecSpecTest, FillsDefaults) {
  Config config;
  absl::StatusOr<ExecSpec> spec = ExecSpec::Create(Request({"true"}), config);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->cwd(), "/");
  EXPECT_EQ(spec->timeout(), config.default_timeout);
  EXPECT_EQ(spec->output_limit(), config.default_output_limit);
  EXPECT_THAT(spec->env(), Contains("LANG=C.UTF-8"));
  EXPECT_THAT(spec->env(), Contains(HasSubstr("PATH=/usr/local/sbin:")));
}

TEST(ExecSpecTest, RequestEnvOverridesDefaultsAndServerEnvIsAbsent) {
  setenv("SANDBOXD_TEST_SECRET", "hunter2", 1);
  v1::ExecRequest request = Request({"env"});
  (*request.mutable_env())["HOME"] = "/work";
  (*request.mutable_env())["FOO"] = "bar";
  absl::StatusOr<ExecSpec> spec = ExecSpec::Create(request, Config());
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_THAT(spec->env(), Contains("HOME=/work"));
  EXPECT_THAT(spec->env(), Not(Contains("HOME=/tmp")));
  EXPECT_THAT(spec->env(), Contains("FOO=bar"));
  EXPECT_THAT(spec->env(), Not(Contains(HasSubstr("SANDBOXD_TEST_SECRET"))));
}

TEST(ExecSpecTest, TimeoutAndOutputLimitWithinCeilings) {
  v1::ExecRequest request = Request({"true"});
  request.mutable_timeout()->set_seconds(5);
  request.set_output_limit_bytes(100);
  absl::StatusOr<ExecSpec> spec = ExecSpec::Create(request, Config());
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->timeout(), absl::Seconds(5));
  EXPECT_EQ(spec->output_limit(), 100u);
}

struct BadRequestCase {
  std::string name;
  std::function<void(v1::ExecRequest&)> edit;
  absl::StatusCode code;
  std::string message;
};

class BadRequestTest : public ::testing::TestWithParam<BadRequestCase> {};

TEST_P(BadRequestTest, IsRefusedWithAClearMessage) {
  v1::ExecRequest request = Request({"true"});
  GetParam().edit(request);
  absl::StatusOr<ExecSpec> spec = ExecSpec::Create(request, Config());
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().code(), GetParam().code) << spec.status();
  EXPECT_THAT(spec.status().message(), HasSubstr(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadRequestTest,
    ::testing::Values(
        BadRequestCase{"EmptyArgv", [](v1::ExecRequest& r) { r.clear_argv(); },
                       absl::StatusCode::kInvalidArgument, "argv is empty"},
        BadRequestCase{"EmptyProgram", [](v1::ExecRequest& r) { r.set_argv(0, ""); },
                       absl::StatusCode::kInvalidArgument, "argv is empty"},
        BadRequestCase{"NulInArgument",
                       [](v1::ExecRequest& r) { r.add_argv(std::string("a\0b", 3)); },
                       absl::StatusCode::kInvalidArgument, "argv[1] contains a NUL byte"},
        BadRequestCase{"RelativeCwd", [](v1::ExecRequest& r) { r.set_cwd("tmp"); },
                       absl::StatusCode::kInvalidArgument, "cwd \"tmp\" must be an absolute path"},
        BadRequestCase{"MissingCwd", [](v1::ExecRequest& r) { r.set_cwd("/no/such/dir"); },
                       absl::StatusCode::kInvalidArgument, "cwd /no/such/dir cannot be used"},
        BadRequestCase{"FileCwd", [](v1::ExecRequest& r) { r.set_cwd("/etc/passwd"); },
                       absl::StatusCode::kInvalidArgument, "is not a directory"},
        BadRequestCase{"EnvNameWithEquals",
                       [](v1::ExecRequest& r) { (*r.mutable_env())["A=B"] = "c"; },
                       absl::StatusCode::kInvalidArgument, "env name \"A=B\" is invalid"},
        BadRequestCase{"NegativeTimeout",
                       [](v1::ExecRequest& r) { r.mutable_timeout()->set_seconds(-1); },
                       absl::StatusCode::kInvalidArgument, "timeout is negative"},
        BadRequestCase{"TimeoutOverCeiling",
                       [](v1::ExecRequest& r) { r.mutable_timeout()->set_seconds(86400); },
                       absl::StatusCode::kPermissionDenied, "--max_timeout"},
        BadRequestCase{"OutputOverCeiling",
                       [](v1::ExecRequest& r) { r.set_output_limit_bytes(uint64_t{1} << 40); },
                       absl::StatusCode::kPermissionDenied, "--max_output_limit"},
        BadRequestCase{"BadPolicy",
                       [](v1::ExecRequest& r) {
                         r.mutable_policy()->set_mode(v1::WORKSPACE_WRITE);
                       },
                       absl::StatusCode::kInvalidArgument, "writable root of /"}),
    [](const ::testing::TestParamInfo<BadRequestCase>& info) { return info.param.name; });

}  // namespace
}  // namespace sandboxd

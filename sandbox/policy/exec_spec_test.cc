#include "sandbox/policy/exec_spec.h"

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
                       absl::StatusCode::kInvalidArgument, "set cwd to the workspace"}),
    [](const ::testing::TestParamInfo<BadRequestCase>& info) { return info.param.name; });

// Each bound of RequestBounds: a request at it passes, one past it is refused before
// any filesystem work (the paths named do not even exist), naming the bound.
struct BoundCase {
  std::string name;
  size_t bound;
  // Makes `request` hold `n` of the thing bounded.
  std::function<void(v1::ExecRequest& request, size_t n)> fill;
  std::string message;
};

class BoundsTest : public ::testing::TestWithParam<BoundCase> {};

TEST_P(BoundsTest, AtTheBoundPassesAndPastItIsRefused) {
  const BoundCase& c = GetParam();
  v1::ExecRequest at = Request({"true"});
  c.fill(at, c.bound);
  EXPECT_TRUE(CheckBounds(at).ok()) << CheckBounds(at);
  v1::ExecRequest past = Request({"true"});
  c.fill(past, c.bound + 1);
  absl::Status status = CheckBounds(past);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr(c.message));
  EXPECT_EQ(ExecSpec::Create(past, Config()).status(), status);
}

void AddPaths(google::protobuf::RepeatedPtrField<std::string>* field, size_t n) {
  for (size_t i = 0; i < n; ++i) *field->Add() = "/no/such/path/" + std::to_string(i);
}

INSTANTIATE_TEST_SUITE_P(
    Bounds, BoundsTest,
    ::testing::Values(
        BoundCase{"ArgvEntries", RequestBounds::kArgs,
                  [](v1::ExecRequest& r, size_t n) {
                    for (size_t i = 1; i < n; ++i) r.add_argv("x");
                  },
                  "argv has 16385, over the server's limit of 16384"},
        BoundCase{"OneArgument", RequestBounds::kArgLength,
                  [](v1::ExecRequest& r, size_t n) { r.add_argv(std::string(n, 'x')); },
                  "over the kernel's limit of 131071 for one argument"},
        BoundCase{"ArgvBytes", RequestBounds::kArgBytes,
                  [](v1::ExecRequest& r, size_t n) {
                    // "true\0" is 5 bytes; the rest in arguments of 100000 bytes, each
                    // with its NUL.
                    n -= 5;
                    for (; n > 100001; n -= 100001) r.add_argv(std::string(100000, 'x'));
                    r.add_argv(std::string(n - 1, 'x'));
                  },
                  "argv (in bytes) has 1048577"},
        BoundCase{"EnvEntries", RequestBounds::kEnv,
                  [](v1::ExecRequest& r, size_t n) {
                    for (size_t i = 0; i < n; ++i) (*r.mutable_env())["V" + std::to_string(i)] = "";
                  },
                  "env has 1025"},
        BoundCase{"EnvBytes", RequestBounds::kEnvBytes,
                  [](v1::ExecRequest& r, size_t n) {
                    (*r.mutable_env())["V"] = std::string(n - 3, 'x');  // "V=...\0".
                  },
                  "env (in bytes) has 262145"},
        BoundCase{"WritableRoots", RequestBounds::kWritableRoots,
                  [](v1::ExecRequest& r, size_t n) {
                    AddPaths(r.mutable_policy()->mutable_writable_roots(), n);
                  },
                  "policy.writable_roots has 17"},
        BoundCase{"ProtectedNames", RequestBounds::kProtectedNames,
                  [](v1::ExecRequest& r, size_t n) {
                    for (size_t i = 0; i < n; ++i) {
                      r.mutable_policy()->add_protected_names("n" + std::to_string(i));
                    }
                  },
                  "policy.protected_names has 17"},
        BoundCase{"Domains", RequestBounds::kDomains,
                  [](v1::ExecRequest& r, size_t n) {
                    for (size_t i = 0; i < n; ++i) {
                      auto* list = i % 2 == 0 ? r.mutable_policy()->mutable_allow_domains()
                                              : r.mutable_policy()->mutable_deny_domains();
                      *list->Add() = "h" + std::to_string(i) + ".test";
                    }
                  },
                  "policy.allow_domains and policy.deny_domains together has 257"},
        BoundCase{"ReadRules", RequestBounds::kReadRules,
                  [](v1::ExecRequest& r, size_t n) {
                    AddPaths(r.mutable_policy()->mutable_readable_roots(), n / 2);
                    AddPaths(r.mutable_policy()->mutable_deny_read(), n - n / 2);
                  },
                  "policy.readable_roots and policy.deny_read together has 65"},
        BoundCase{"PathLength", RequestBounds::kPathLength,
                  [](v1::ExecRequest& r, size_t n) {
                    r.mutable_policy()->add_deny_read("/" + std::string(n - 1, 'x'));
                  },
                  "policy.deny_read[0] is 4097 bytes long"}),
    [](const ::testing::TestParamInfo<BoundCase>& info) { return info.param.name; });

}  // namespace
}  // namespace sandboxd

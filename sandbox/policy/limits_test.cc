#include "sandbox/policy/limits.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sandboxd {
namespace {

using ::testing::HasSubstr;
namespace v1 = ::sandbox::v1;

TEST(ValidLimitsTest, UnsetLimitsTakeTheCeilings) {
  Limits ceilings;
  ceilings.cpu_time = absl::Seconds(30);
  ceilings.open_files = 256;
  v1::ResourceLimits proto;
  proto.set_memory_bytes(1 << 30);
  absl::StatusOr<Limits> limits = ValidLimits(proto, ceilings);
  ASSERT_TRUE(limits.ok()) << limits.status();
  EXPECT_EQ(limits->cpu_time, absl::Seconds(30));
  EXPECT_EQ(limits->memory_bytes, uint64_t{1} << 30);
  EXPECT_EQ(limits->open_files, 256u);
  EXPECT_EQ(limits->file_size_bytes, 0u);
}

TEST(ValidLimitsTest, OverACeilingIsPermissionDenied) {
  Limits ceilings;
  ceilings.file_size_bytes = 1000;
  v1::ResourceLimits proto;
  proto.set_file_size_bytes(1001);
  absl::StatusOr<Limits> limits = ValidLimits(proto, ceilings);
  EXPECT_EQ(limits.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(limits.status().message(), HasSubstr("--max_file_size_bytes of 1000"));
  ceilings.cpu_time = absl::Seconds(1);
  v1::ResourceLimits cpu;
  cpu.mutable_cpu_time()->set_seconds(2);
  EXPECT_THAT(ValidLimits(cpu, ceilings).status().message(), HasSubstr("--max_cpu_time"));
}

}  // namespace
}  // namespace sandboxd

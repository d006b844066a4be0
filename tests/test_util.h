#ifndef SANDBOXD_TESTS_TEST_UTIL_H_
#define SANDBOXD_TESTS_TEST_UTIL_H_

#include <string>

#include <gtest/gtest.h>

#include "absl/time/time.h"
#include "tests/sandboxd_process.h"

namespace sandboxd::testing {

// Processes whose command line contains `marker`, as this test's /proc shows them.
int CountProcesses(const std::string& marker);

// Waits up to `wait` for every process naming `marker` to be gone; true if they are.
bool GoneWithin(const std::string& marker, absl::Duration wait);

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreeLoopbackPort();

// A suite whose tests share one server: its SetUpTestSuite calls StartServer, and the
// server is stopped after the suite. SIGPIPE is ignored (commands close pipes early).
class SharedServerTest : public ::testing::Test {
 protected:
  static void StartServer(const SandboxdProcess::Options& options = {});
  static void TearDownTestSuite();

  inline static SandboxdProcess* server_ = nullptr;
};

}  // namespace sandboxd::testing

#endif  // SANDBOXD_TESTS_TEST_UTIL_H_

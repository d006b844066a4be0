#include "client/process_commands.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "client/session_commands.h"

namespace sandboxd {
namespace {

using ::testing::HasSubstr;
namespace v1 = ::sandbox::v1;

TEST(ParseSignalNameTest, TakesTheNamesInAnyCase) {
  EXPECT_EQ(*ParseSignalName("INT"), v1::SIGNAL_INTERRUPT);
  EXPECT_EQ(*ParseSignalName("sigterm"), v1::SIGNAL_TERMINATE);
  EXPECT_EQ(*ParseSignalName("Kill"), v1::SIGNAL_KILL);
  EXPECT_EQ(*ParseSignalName("HUP"), v1::SIGNAL_HANGUP);
  EXPECT_EQ(*ParseSignalName("QUIT"), v1::SIGNAL_QUIT);
  EXPECT_THAT(ParseSignalName("USR1").status().message(), HasSubstr("is not INT, TERM"));
}

TEST(ParseTerminalSizeTest, RowsByColumns) {
  auto size = ParseTerminalSize("30x100");
  ASSERT_TRUE(size.ok()) << size.status();
  EXPECT_EQ(size->first, 30u);
  EXPECT_EQ(size->second, 100u);
  for (const char* bad : {"30", "0x10", "10x", "x10", "20000x10", "axb"}) {
    EXPECT_FALSE(ParseTerminalSize(bad).ok()) << bad;
  }
}

TEST(FormatProcessesTest, AlignsAColumnEach) {
  v1::ListProcessesResponse response;
  v1::ProcessInfo& running = *response.add_processes();
  running.set_process_id("p-1@a");
  running.set_running(true);
  running.set_terminal(true);
  running.add_argv("sh");
  running.add_argv("-c");
  running.add_argv("echo hi");
  running.mutable_started()->set_seconds(0);
  v1::ProcessInfo& exited = *response.add_processes();
  exited.set_process_id("p-22@a");
  exited.set_session_id("s-1@a");
  exited.set_termination(v1::EXITED);
  exited.set_exit_code(3);
  exited.add_argv("true");
  EXPECT_EQ(FormatProcesses(response),
            "ID      STATE     TTY  SESSION  STARTED               COMMAND\n"
            "p-1@a   running   yes  -        1970-01-01T00:00:00Z  sh -c 'echo hi'\n"
            "p-22@a  exited 3  no   s-1@a    1970-01-01T00:00:00Z  true\n");
}

TEST(FormatSessionsTest, OneSessionALine) {
  v1::ListSessionsResponse response;
  v1::Session& session = *response.add_sessions();
  session.set_session_id("s-abc@r");
  session.set_running_processes(2);
  session.mutable_idle_timeout()->set_seconds(600);
  EXPECT_THAT(FormatSessions(response), HasSubstr("s-abc@r        2          600s  1970-01-01T00:00:00Z\n"));
}

TEST(CommandTablesTest, EveryCommandHasASummary) {
  for (const auto* table : {&ProcessCommands(), &SessionCommands()}) {
    for (const Subcommand& command : *table) {
      EXPECT_NE(std::string(command.summary), "") << command.name;
      EXPECT_NE(command.run, nullptr) << command.name;
    }
  }
}

}  // namespace
}  // namespace sandboxd

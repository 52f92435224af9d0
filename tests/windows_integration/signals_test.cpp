// Console control events and buildlock.exe: Ctrl+C typed at the console reaches every process
// attached to it, buildlock and its command's tree alike (they share a process group, see
// os::command_in_own_group()). buildlock waits for the tree, stops what the command left
// running, releases, and exits with the command's status.
//
// Under Wine 8 without a display, GenerateConsoleCtrlEvent() sends CTRL_C_EVENT to a whole console
// but fails for CTRL_BREAK_EVENT (ERROR_INVALID_HANDLE, checked on this machine): ninja's
// Ctrl+Break to a step's group is not tested here (docs/windows.md).
#include "support/windows_process.h"

#include <gtest/gtest.h>

namespace buildlock::windows_test {
namespace {

BOOL WINAPI survive_event(DWORD) {
  return TRUE; // the test itself must outlive the Ctrl+C it sends to its console
}

// A console of this test's own, shared with the processes it starts: a Ctrl+C sent to it reaches
// nothing outside this test. (ctest starts the test without one.)
class ConsoleSignals : public ::testing::Test {
protected:
  void SetUp() override {
    FreeConsole();
    ASSERT_TRUE(AllocConsole()) << GetLastError();
    SetConsoleCtrlHandler(survive_event, TRUE);
  }
  void TearDown() override { SetConsoleCtrlHandler(survive_event, FALSE); }
};

// The command's leaf ignores Ctrl+C; its parent dies of it. The leaf must not run on after the
// release: buildlock kills it --kill-after later, then releases and exits as its command did.
TEST_F(ConsoleSignals, CtrlCStopsTheWholeTreeBeforeTheReleaseAndPassesTheStatusOn) {
  TestDirectory dir;
  Process holder = start_buildlock(
      dir, run_arguments(dir, "L", {"--kill-after", "0.5", "-v"}, tree_command(dir, true)));
  ASSERT_TRUE(wait_for_file(dir.file("ready"), start_bound)) << holder.err();
  const ProcessGuard parent(read_pid(dir.file("parent.pid")));
  const ProcessGuard leaf(read_pid(dir.file("leaf.pid")));

  ASSERT_TRUE(GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0)) << GetLastError();
  DWORD status = 0;
  ASSERT_TRUE(holder.wait(exit_bound, status));
  EXPECT_EQ(status, control_c_exit) << holder.err();
  // Gone before buildlock exited, not merely afterwards.
  EXPECT_FALSE(parent.alive());
  EXPECT_FALSE(leaf.alive());
  EXPECT_NE(
      holder.err().find("stopped 1 process(es) the command left running (1 with TerminateProcess)"),
      std::string::npos)
      << holder.err();
  const Finished next =
      run_buildlock(dir, run_arguments(dir, "L", {"--timeout", "0"}, exit_command(0)));
  EXPECT_EQ(next.status, 0u) << next.err;
}

// Ctrl+C while buildlock only waits for a lock ends it at once, as a console program, and leaves
// the holder's lock alone.
TEST_F(ConsoleSignals, CtrlCWhileWaitingEndsTheWaiterAndNotTheLock) {
  TestDirectory dir;
  // The holder does not share this console: it ignores Ctrl+C (an inherited setting).
  SetConsoleCtrlHandler(nullptr, TRUE);
  Process holder = start_buildlock(dir, run_arguments(dir, "L", {}, tree_command(dir)));
  SetConsoleCtrlHandler(nullptr, FALSE);
  ASSERT_TRUE(wait_for_file(dir.file("ready"), start_bound)) << holder.err();
  const ProcessGuard leaf(read_pid(dir.file("leaf.pid")));
  Process waiter = start_buildlock(dir, run_arguments(dir, "L", {"-v"}, exit_command(0)));
  ASSERT_TRUE(wait_for_output(waiter, "waiting for", start_bound)) << waiter.err();
  ASSERT_TRUE(GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0)) << GetLastError();
  DWORD status = 0;
  ASSERT_TRUE(waiter.wait(exit_bound, status));
  EXPECT_EQ(status, control_c_exit) << waiter.err();
  EXPECT_TRUE(process_alive(holder.pid()));
  EXPECT_EQ(finish_tree(dir, holder, 0), 0u) << holder.err();
}

} // namespace
} // namespace buildlock::windows_test

// buildlock.exe run: the scenarios of the Linux suite that apply on Windows, against the real
// binary. Every command is a tree (tree_command.exe and a child of its own).
#include "support/windows_process.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace buildlock::windows_test {
namespace {

using nlohmann::json;

// `buildlock run LOCK -- tree_command.exe tree DIR`, once the tree is running under the lock.
HeldTree hold(const TestDirectory& dir, const std::string& lock,
              const std::vector<std::string>& options = {}) {
  return windows_test::hold(dir, dir, lock, options);
}

TEST(Run, PassesTheCommandsExitStatusOnAndReleases) {
  TestDirectory dir;
  HeldTree held = hold(dir, "L");
  EXPECT_EQ(finish_tree(dir, held.holder, 7), 7u) << held.holder.err();
  const Finished again =
      run_buildlock(dir, run_arguments(dir, "L", {"--timeout", "0"}, exit_command(0)));
  EXPECT_EQ(again.status, 0u) << again.err;
}

// The release rule as on POSIX: what a command that exited normally left running is a daemon it
// meant to leave (a compiler server), not killed with the Job object when buildlock exits.
TEST(Run, LeavesTheDaemonOfACommandThatExitedNormallyRunning) {
  TestDirectory dir;
  HeldTree held = hold(dir, "L");
  EXPECT_EQ(finish_tree(dir, held.holder, 0), 0u) << held.holder.err();
  EXPECT_TRUE(held.guards[1].alive()); // the guard ends it
}

TEST(Run, LiveHolderMakesAnotherRunTimeOutWith75) {
  TestDirectory dir;
  HeldTree held = hold(dir, "L");
  const Finished waiter =
      run_buildlock(dir, run_arguments(dir, "L", {"--timeout", "0.3"}, exit_command(0)));
  EXPECT_EQ(waiter.status, 75u) << waiter.err;
  EXPECT_TRUE(is_one_error_line(waiter.err, "timed out after ")) << waiter.err;
  EXPECT_EQ(finish_tree(dir, held.holder, 0), 0u);
}

// The trace (issue 24) through Windows' own calls (os/windows/append_only_file.cpp, the file
// created whole by MoveFileExW): the holder's wait and hold, and a waiter's timed-out wait, each
// a line of JSON after the "[" line.
TEST(Run, TraceHasEveryRunsWaitAndHold) {
  TestDirectory dir;
  const std::string trace = dir.file("trace.json");
  HeldTree held = hold(dir, "L", {"--trace", trace});
  const Finished waiter = run_buildlock(
      dir, run_arguments(dir, "L", {"--trace", trace, "--timeout", "0.3"}, exit_command(0)));
  EXPECT_EQ(waiter.status, 75u) << waiter.err;
  EXPECT_EQ(finish_tree(dir, held.holder, 7), 7u) << held.holder.err();

  const std::string text = read_file(trace);
  ASSERT_EQ(text.substr(0, 2), "[\n") << text;
  int waits = 0, timeouts = 0, holds = 0;
  std::size_t at = 2;
  while (at < text.size()) {
    const std::size_t end = text.find('\n', at);
    ASSERT_NE(end, std::string::npos) << "a line without its end: " << text.substr(at);
    ASSERT_EQ(text[end - 1], ',') << text.substr(at, end - at);
    const json event = json::parse(text.substr(at, end - at - 1));
    at = end + 1;
    if (event.value("cat", "") == "buildlock.wait") {
      ++waits;
      timeouts += event.at("args").at("outcome") == "timeout" ? 1 : 0;
    } else if (event.value("cat", "") == "buildlock.hold") {
      ++holds;
      EXPECT_EQ(event.at("args").at("exit"), 7) << event.dump();
    }
  }
  EXPECT_EQ(waits, 2);
  EXPECT_EQ(timeouts, 1);
  EXPECT_EQ(holds, 1);
}

TEST(Run, LiveHolderWithoutKernelLocksIsHeldByItsPid) {
  TestDirectory dir;
  HeldTree held = hold(dir, "L", {"--kernel-locks", "off"});
  const Finished waiter = run_buildlock(
      dir, run_arguments(dir, "L", {"--kernel-locks", "off", "--timeout", "0.3"}, exit_command(0)));
  EXPECT_EQ(waiter.status, 75u) << waiter.err;
  EXPECT_EQ(finish_tree(dir, held.holder, 0), 0u);
}

// Task Manager's "End task" or `taskkill /F` of buildlock.exe: the Job object takes the command's
// whole tree with it, and the lock is free at once (--timeout 0: a single try).
TEST(Run, KilledHolderTakesItsTreeWithItAndIsReclaimedAtOnce) {
  TestDirectory dir;
  HeldTree held = hold(dir, "L");
  held.holder.kill();
  EXPECT_TRUE(wait_for_exit(held.parent, exit_bound));
  EXPECT_TRUE(wait_for_exit(held.leaf, exit_bound));
  const Finished next =
      run_buildlock(dir, run_arguments(dir, "L", {"--timeout", "0", "-v"}, exit_command(0)));
  EXPECT_EQ(next.status, 0u) << next.err;
}

TEST(Run, KilledHolderWithoutKernelLocksIsReclaimedByItsDeadPid) {
  TestDirectory dir;
  HeldTree held = hold(dir, "L", {"--kernel-locks", "off"});
  held.holder.kill();
  ASSERT_TRUE(wait_for_exit(held.leaf, exit_bound));
  const Finished next =
      run_buildlock(dir, run_arguments(dir, "L", {"--kernel-locks", "off", "--timeout", "0", "-v"},
                                       exit_command(0)));
  EXPECT_EQ(next.status, 0u) << next.err;
  EXPECT_NE(next.err.find("[holder-dead]"), std::string::npos) << next.err;
}

// Windows reuses pids quickly. The metadata of a dead holder, its pid replaced by a live
// process's (this test's), still names the dead one: the creation time differs.
TEST(Run, PidOfALiveProcessWithAnotherStartTimeIsReused) {
  TestDirectory dir;
  HeldTree held = hold(dir, "L", {"--kernel-locks", "off"});
  held.holder.kill();
  ASSERT_TRUE(wait_for_exit(held.leaf, exit_bound));
  const std::string lock_file = dir.file("locks\\L.lock");
  json metadata = json::parse(read_file(lock_file));
  ASSERT_FALSE(metadata["start_time"].is_null()) << metadata.dump();
  metadata["pid"] = GetCurrentProcessId();
  write_file(lock_file, metadata.dump() + "\n");
  const Finished next =
      run_buildlock(dir, run_arguments(dir, "L", {"--kernel-locks", "off", "--timeout", "0", "-v"},
                                       exit_command(0)));
  EXPECT_EQ(next.status, 0u) << next.err;
  EXPECT_NE(next.err.find("[pid-reused]"), std::string::npos) << next.err;
}

// A build run under the lock runs buildlock for the same lock again: byte-range locks are never
// inherited, so the inner run proves the hold by the pid chain (its parent's parent holds it).
// Without that it would wait for its own ancestor, here until --timeout 1 gives up with 75.
class Nested : public ::testing::TestWithParam<const char*> {};

TEST_P(Nested, RunOfTheSameLockRunsWithoutWaiting) {
  TestDirectory dir;
  const std::vector<std::string> kernel_locks = {"--kernel-locks", GetParam()};
  std::vector<std::string> inner = {buildlock_exe(), "run", "--dir", dir.file("locks"),
                                    "--timeout",     "1",   "-v"};
  inner.insert(inner.end(), kernel_locks.begin(), kernel_locks.end());
  inner.insert(inner.end(), {"L", "--"});
  const std::vector<std::string> command = exit_command(3);
  inner.insert(inner.end(), command.begin(), command.end());
  const Finished outer = run_buildlock(dir, run_arguments(dir, "L", kernel_locks, inner));
  EXPECT_EQ(outer.status, 3u) << outer.err;
  EXPECT_NE(outer.err.find("already held by a parent buildlock"), std::string::npos) << outer.err;
}

INSTANTIATE_TEST_SUITE_P(KernelLocks, Nested, ::testing::Values("auto", "off"));

} // namespace
} // namespace buildlock::windows_test

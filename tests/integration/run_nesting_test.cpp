// Nested holds (issue 2, scenario 12): `buildlock run X -- ... buildlock run X -- cmd` runs cmd
// without deadlock, but only while the ancestor really holds X. A process that outlives the
// outer hold, or one that merely claims to be nested, waits like anyone else.
#include "support/integration_test.h"
#include "support/lock_files.h"
#include "support/waiting.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

namespace buildlock::test {
namespace {

class RunNesting : public IntegrationTest {
protected:
  // `buildlock run --dir <lock_dir> OPTIONS... LOCK -- COMMAND...` as a command line for a
  // command (the binary's path first).
  std::vector<std::string> nested_run(const std::string& lock, std::vector<std::string> command,
                                      std::vector<std::string> options = {}) const {
    std::vector<std::string> argv = run_arguments(lock, std::move(command), std::move(options));
    argv.insert(argv.begin(), buildlock_binary());
    return argv;
  }

  std::int64_t pid_in_lock_file(const std::string& lock) const {
    return nlohmann::json::parse(read_file(lock_path(lock))).at("pid").get<std::int64_t>();
  }
};

std::vector<std::string> concat(std::vector<std::string> first,
                                const std::vector<std::string>& second) {
  first.insert(first.end(), second.begin(), second.end());
  return first;
}

// A wrapped custom command inside a wrapped whole build, with a make-like process between.
TEST_F(RunNesting, InnerRunOfTheSameLockRunsItsCommandWithoutWaiting) {
  Pipe inner_started, release, inner_status;
  const auto inner =
      nested_run("X", scripted({"notify", "3", "wait", "4", "exit", "42"}), {"--verbose"});
  // The intermediate process ("make") runs the inner buildlock and reports how it ended.
  Command outer = run_under_lock("X", scripted(concat({"run", "5"}, inner)));
  outer.pass_fd(3, inner_started.write_fd())
      .pass_fd(4, release.read_fd())
      .pass_fd(5, inner_status.write_fd());
  Process outer_process = outer.start();
  inner_started.close_write();
  release.close_read();
  inner_status.close_write();

  ASSERT_TRUE(inner_started.receives_byte(10s)) << "deadlock? " << outer_process.stderr_text();
  // Only the outer hold exists while the inner command runs.
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{"X.lock"});
  EXPECT_EQ(pid_in_lock_file("X"), outer_process.pid());

  release.write_byte();
  EXPECT_EQ(inner_status.read_to_end(10s), "exit 42") << "the inner status did not pass through";
  EXPECT_EQ(outer_process.wait(10s), ExitStatus::exited(0));
  EXPECT_TRUE(file_eventually_contains(outer_process.stderr_path(),
                                       "already held by a parent buildlock", 0ms));
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{});
}

TEST_F(RunNesting, InnerRunOfTheSameLockDirectlyUnderTheOuterPassesItsStatusThrough) {
  Finished finished = run(run_under_lock("X", nested_run("X", scripted({"exit", "7"}))), 10s);
  EXPECT_EQ(finished.status, ExitStatus::exited(7)) << finished.err;
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{});
}

TEST_F(RunNesting, InnerRunOfAnotherLockTakesThatLock) {
  Pipe inner_started, release;
  Command outer =
      run_under_lock("X", nested_run("Y", scripted({"notify", "3", "wait", "4"}), {"--verbose"}));
  outer.pass_fd(3, inner_started.write_fd()).pass_fd(4, release.read_fd());
  Process outer_process = outer.start();
  inner_started.close_write();
  release.close_read();

  ASSERT_TRUE(inner_started.receives_byte(10s)) << outer_process.stderr_text();
  EXPECT_EQ(directory_entries(lock_dir), (std::vector<std::string>{"X.lock", "Y.lock"}));
  EXPECT_NE(pid_in_lock_file("Y"), outer_process.pid());
  release.write_byte();
  EXPECT_EQ(outer_process.wait(10s), ExitStatus::exited(0));
  EXPECT_TRUE(file_eventually_contains(outer_process.stderr_path(), "acquired lock `Y`", 0ms));
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{});
}

// A process the outer command left behind (it inherited BUILDLOCK_HELD and the lock's
// descriptor) runs `buildlock run X` after the outer hold ended and someone else took X: it must
// wait for the new holder, not slip in beside it.
TEST_F(RunNesting, LeftoverProcessOfAnEndedHoldWaitsForTheNewHolder) {
  Pipe go, report, leftover_ran;
  const auto late_run = nested_run("X", scripted({"notify", "6"}), {"--verbose", "--timeout", "1"});
  Command outer =
      run_under_lock("X", scripted(concat({"background", "wait", "4", "run", "5"}, late_run)));
  outer.pass_fd(4, go.read_fd()).pass_fd(5, report.write_fd()).pass_fd(6, leftover_ran.write_fd());
  Process outer_process = outer.start();
  go.close_read();
  report.close_write();
  leftover_ran.close_write();

  // The outer command returned at once, leaving its background child; the outer hold ended.
  EXPECT_EQ(outer_process.wait(10s), ExitStatus::exited(0)) << outer_process.stderr_text();
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{});

  auto new_holder = start_holding("X");
  go.write_byte();
  EXPECT_EQ(report.read_to_end(10s), "exit 75")
      << "the leftover process did not wait for the new holder:\n"
      << outer_process.stderr_text();
  EXPECT_TRUE(leftover_ran.ends_without_data(5s)) << "the leftover process ran beside the holder";
  EXPECT_TRUE(file_eventually_contains(outer_process.stderr_path(),
                                       "held by pid " + std::to_string(new_holder->pid()), 0ms));
  EXPECT_EQ(pid_in_lock_file("X"), new_holder->pid());

  new_holder->let_go();
  EXPECT_EQ(new_holder->process->wait(10s), ExitStatus::exited(0));
}

// The same leftover process when nobody holds X: it takes the lock for real (its own lock file),
// rather than running as if still nested.
TEST_F(RunNesting, LeftoverProcessOfAnEndedHoldTakesTheLockItself) {
  Pipe go, report, leftover_started, leftover_release;
  const auto late_run = nested_run("X", scripted({"notify", "6", "wait", "7"}), {"--verbose"});
  Command outer =
      run_under_lock("X", scripted(concat({"background", "wait", "4", "run", "5"}, late_run)));
  outer.pass_fd(4, go.read_fd())
      .pass_fd(5, report.write_fd())
      .pass_fd(6, leftover_started.write_fd())
      .pass_fd(7, leftover_release.read_fd());
  Process outer_process = outer.start();
  go.close_read();
  report.close_write();
  leftover_started.close_write();
  leftover_release.close_read();
  EXPECT_EQ(outer_process.wait(10s), ExitStatus::exited(0)) << outer_process.stderr_text();

  go.write_byte();
  ASSERT_TRUE(leftover_started.receives_byte(10s)) << outer_process.stderr_text();
  ASSERT_EQ(directory_entries(lock_dir), std::vector<std::string>{"X.lock"})
      << "the leftover process runs without holding the lock";
  EXPECT_NE(pid_in_lock_file("X"), outer_process.pid());
  Finished probe = run(run_under_lock("X", scripted({}), {"--timeout", "0"}));
  EXPECT_EQ(probe.status, ExitStatus::exited(75));

  leftover_release.write_byte();
  EXPECT_EQ(report.read_to_end(10s), "exit 0");
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{});
}

// BUILDLOCK_HELD naming the right file through a descriptor that is not the holder's open file
// (here: the lock file opened separately) proves nothing: the kernel lock is someone else's.
// Without kernel locks the claim proves no more, and the claimant must wait all the same.
TEST_F(RunNesting, ClaimingToBeNestedWithoutHoldingTheLockDoesNotGetIn) {
  auto holder = start_holding("X");
  const int lock_fd = ::open(lock_path("X").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(lock_fd, 0);
  struct stat info {};
  ASSERT_EQ(::fstat(lock_fd, &info), 0);
  Pipe ran;
  Command claimant = run_under_lock("X", scripted({"notify", "3"}), {"--timeout", "0.3"});
  claimant
      .env("BUILDLOCK_HELD", "9:" + std::to_string(info.st_dev) + ":" + std::to_string(info.st_ino))
      .pass_fd(9, lock_fd)
      .pass_fd(3, ran.write_fd());
  Finished finished = run(claimant);
  ::close(lock_fd);
  ran.close_write();
  EXPECT_EQ(finished.status, ExitStatus::exited(75)) << finished.err;
  EXPECT_TRUE(ran.ends_without_data(5s)) << "the claimant ran beside the holder";

  holder->let_go();
  EXPECT_EQ(holder->process->wait(10s), ExitStatus::exited(0));
}

} // namespace
} // namespace buildlock::test

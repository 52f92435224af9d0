// buildlock.exe run, waiting: the Linux scenarios of a waiter handed the lock at the holder's
// release, of `--shared` and of `--slots`, where Wine can show them (issue 20). Every holder's
// command is a tree (tree_command.exe and a child of its own) that runs until the test lets it go;
// every waiter's command writes a file, so that when it ran is seen in order with what the test
// did, never guessed from a duration.
//
// Each test runs with kernel locks (byte-range locks, polled by a waiter) and without (the pid
// and the lock file).
#include "support/windows_process.h"

#include <gtest/gtest.h>

namespace buildlock::windows_test {
namespace {

// The command of a waiter: writes `marker` when it runs.
std::vector<std::string> marking_command(const std::string& marker) {
  return {tree_command_exe(), "args", marker, "ran"};
}

class Waiting : public ::testing::TestWithParam<const char*> {
protected:
  // `--kernel-locks auto|off` and then `options`.
  std::vector<std::string> with(std::vector<std::string> options) const {
    options.insert(options.begin(), {"--kernel-locks", GetParam()});
    return options;
  }

  // A holder of L in `locks` (run with `options`) whose tree runs in `tree` until finish_tree().
  HeldTree hold_l(const TestDirectory& locks, const TestDirectory& tree,
                  const std::vector<std::string>& options) const {
    return hold(locks, tree, "L", with(options));
  }

  // A -v waiter on L in `locks` whose command writes `marker`, once it has judged the lock (or
  // every slot) held.
  Process wait_for_l(const TestDirectory& locks, const std::string& marker,
                     const std::vector<std::string>& options, const std::string& seen) const {
    std::vector<std::string> verbose = with(options);
    verbose.push_back("-v");
    Process waiter =
        start_buildlock(locks, run_arguments(locks, "L", verbose, marking_command(marker)));
    EXPECT_TRUE(wait_for_output(waiter, seen, start_bound)) << waiter.err();
    return waiter;
  }
};

// A waiter is handed the lock when the holder's command ends: it runs its command only then, and
// reports the lock held by a live holder until then.
TEST_P(Waiting, AWaiterIsHandedTheLockWhenTheHolderReleases) {
  TestDirectory dir;
  TestDirectory tree;
  HeldTree held = hold_l(dir, tree, {});
  const std::string marker = dir.file("waiter-ran");
  Process waiter = wait_for_l(dir, marker, {}, " is held by ");
  const std::string reason =
      std::string(GetParam()) == "off" ? "[pid-alive]" : "[kernel-lock-held]";
  EXPECT_NE(waiter.err().find(reason), std::string::npos) << waiter.err();
  EXPECT_FALSE(file_exists(marker)) << "the waiter ran while the holder held";

  EXPECT_EQ(finish_tree(tree, held.holder, 0), 0u) << held.holder.err();
  DWORD status = 1;
  ASSERT_TRUE(waiter.wait(exit_bound, status)) << waiter.err();
  EXPECT_EQ(status, 0u) << waiter.err();
  EXPECT_TRUE(file_exists(marker));
  EXPECT_EQ(waiter.err().find("reclaimed"), std::string::npos) << waiter.err();
}

// Two --shared runs hold the lock together (both trees run at once), an exclusive run is kept out
// while either holds, and a waiting exclusive run gets the lock only after the last one ended.
TEST_P(Waiting, SharedHoldersRunTogetherAndAWriterWaitsForTheLastOne) {
  TestDirectory dir;
  TestDirectory first_tree;
  TestDirectory second_tree;
  HeldTree first = hold_l(dir, first_tree, {"--shared"});
  // Both trees run now: the first one's waits for a finish the test has not written yet.
  HeldTree second = hold_l(dir, second_tree, {"--shared"});

  const Finished refused =
      run_buildlock(dir, run_arguments(dir, "L", with({"--timeout", "0"}), exit_command(0)));
  EXPECT_EQ(refused.status, 75u) << refused.err;

  const std::string marker = dir.file("writer-ran");
  Process writer = wait_for_l(dir, marker, {}, " is held by ");
  EXPECT_EQ(finish_tree(first_tree, first.holder, 0), 0u) << first.holder.err();
  EXPECT_FALSE(file_exists(marker)) << "the writer ran beside the second reader";
  EXPECT_EQ(finish_tree(second_tree, second.holder, 0), 0u) << second.holder.err();
  DWORD status = 1;
  ASSERT_TRUE(writer.wait(exit_bound, status)) << writer.err();
  EXPECT_EQ(status, 0u) << writer.err();
  EXPECT_TRUE(file_exists(marker));
  EXPECT_EQ(directory_entries(dir.file("locks")), std::vector<std::string>{});
}

// --slots 2: two holders run together, a third waits for a slot and gets the one freed first.
TEST_P(Waiting, TwoSlotsRunTogetherAndAThirdGetsTheFirstSlotFreed) {
  TestDirectory dir;
  TestDirectory first_tree;
  TestDirectory second_tree;
  HeldTree first = hold_l(dir, first_tree, {"--slots", "2"});
  HeldTree second = hold_l(dir, second_tree, {"--slots", "2"});

  const Finished refused = run_buildlock(
      dir, run_arguments(dir, "L", with({"--slots", "2", "--timeout", "0"}), exit_command(0)));
  EXPECT_EQ(refused.status, 75u) << refused.err;

  const std::string marker = dir.file("third-ran");
  Process third = wait_for_l(dir, marker, {"--slots", "2"}, "waiting for a slot of lock `L`");
  EXPECT_FALSE(file_exists(marker)) << "a third holder ran beside two";
  EXPECT_EQ(finish_tree(second_tree, second.holder, 0), 0u) << second.holder.err();
  DWORD status = 1;
  ASSERT_TRUE(third.wait(exit_bound, status)) << third.err();
  EXPECT_EQ(status, 0u) << third.err();
  EXPECT_TRUE(file_exists(marker));
  EXPECT_NE(third.err().find("acquired slot 2 of lock `L`"), std::string::npos) << third.err();
  EXPECT_TRUE(process_alive(first.holder.pid())) << "the first holder ended meanwhile";
  EXPECT_EQ(finish_tree(first_tree, first.holder, 0), 0u) << first.holder.err();
  EXPECT_EQ(directory_entries(dir.file("locks")), std::vector<std::string>{});
}

INSTANTIATE_TEST_SUITE_P(KernelLocks, Waiting, ::testing::Values("auto", "off"));

} // namespace
} // namespace buildlock::windows_test

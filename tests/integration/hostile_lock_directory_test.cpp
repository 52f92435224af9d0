// Hostile lock directories (issue 8): read-only, owned by another user (private, and /tmp-like
// with the sticky bit), and world-writable without the sticky bit. buildlock runs as an
// unprivileged user here (uid 65534 through setpriv when the suite runs as root, since root
// ignores permission bits). What it may not do ends in one error line with exit 74; another
// user's held lock is never taken away; nothing outside the lock directory changes.
// (run_lock_path_test.cpp covers the warning for root's own world-writable directory;
// manage_status_test.cpp and manage_clean_test.cpp `status` and `clean` in a read-only one.)
#include "hostile_test_support.h"
#include "support/skip_or_fail.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

namespace buildlock::test {
namespace {

class HostileLockDirectory : public HostileInputTest {
protected:
  // `buildlock run --dir <lock_dir> LOCK -- scripted_command notify 3` as the unprivileged user;
  // `ran` learns whether the command ran.
  Finished run_unprivileged(const std::string& lock, Pipe& ran,
                            std::vector<std::string> options = {}) const {
    Command command =
        as_unprivileged_user(run_under_lock(lock, scripted({"notify", "3"}), std::move(options)));
    command.pass_fd(3, ran.write_fd());
    Finished finished = run(command);
    ran.close_write();
    return finished;
  }

  // A lock directory owned by root with `mode`, holding a stale lock `dead` left by root.
  void make_roots_lock_dir(mode_t mode) {
    make_lock_dir();
    ASSERT_EQ(::chmod(lock_dir.c_str(), mode), 0);
    make_temp_dir_traversable();
    craft_lock("dead", dead_holder());
  }

  // Why this test cannot run here, or "". (A helper cannot skip the test that calls it:
  // GTEST_SKIP only returns from the function it is written in, so the test must.)
  static std::string why_not_other_user() {
    return why_not_root("the lock directory and its locks must belong to another user than the "
                        "one buildlock runs as");
  }
};

TEST_F(HostileLockDirectory, ReadOnlyRefusesRunAndBreakWithExit74) {
  give_lock_dir_to_unprivileged_user();
  craft_lock("dead", dead_holder());
  if (::geteuid() == 0) {
    ASSERT_EQ(::chown(lock_path("dead").c_str(), 65534, 65534), 0);
  }
  ModeRestorer read_only(lock_dir, 0555);
  freeze_outside();

  Pipe ran;
  Finished refused = run_unprivileged("L", ran);
  EXPECT_EQ(refused.status, ExitStatus::exited(74)) << refused.err;
  EXPECT_TRUE(is_one_error_line(refused.err, "lock directory `" + lock_dir + "`: cannot create `" +
                                                 lock_dir + "/.L."));
  EXPECT_TRUE(
      refused.err.ends_with(": Permission denied (use another with --dir or BUILDLOCK_DIR)\n"))
      << refused.err;
  EXPECT_TRUE(ran.ends_without_data(5s)) << "the command ran";

  Pipe ran_below;
  std::vector<std::string> below_arguments = {"run", "--dir", lock_dir + "/sub", "L", "--"};
  for (const std::string& word : scripted({"notify", "3"})) {
    below_arguments.push_back(word);
  }
  Command below_command = as_unprivileged_user(buildlock(below_arguments));
  below_command.pass_fd(3, ran_below.write_fd());
  Finished below = run(below_command);
  ran_below.close_write();
  EXPECT_EQ(below.status, ExitStatus::exited(74)) << below.err;
  EXPECT_TRUE(is_one_error_line(below.err, "lock directory `" + lock_dir +
                                               "/sub`: cannot create directory `"));
  EXPECT_TRUE(ran_below.ends_without_data(5s)) << "the command ran";

  Finished broken = run(as_unprivileged_user(manage("break", {"dead"})));
  EXPECT_EQ(broken.status, ExitStatus::exited(74)) << broken.err;
  EXPECT_TRUE(is_one_error_line(broken.err, "cannot break lock `dead`: "));
  EXPECT_TRUE(broken.err.ends_with(": Permission denied\n")) << broken.err;

  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{"dead.lock"});
}

// Another user's private directory (0755): nothing can be created or removed in it, but its
// locks can be looked at; a live holder there is never disturbed, not even by `break --force`.
TEST_F(HostileLockDirectory, OwnedByAnotherUserIsReadableButNeverChanged) {
  if (const std::string why = why_not_other_user(); !why.empty()) {
    SKIP_OR_FAIL_IN_CI(why);
  }
  make_roots_lock_dir(0755);
  LiveHolder holder = hold("L");
  freeze_outside();

  Pipe ran;
  Finished refused = run_unprivileged("L", ran, {"--timeout", "0"});
  EXPECT_EQ(refused.status, ExitStatus::exited(74)) << refused.err;
  EXPECT_TRUE(is_one_error_line(refused.err, "lock directory `" + lock_dir + "`: cannot create `"));
  EXPECT_TRUE(ran.ends_without_data(5s)) << "the command ran";

  Finished status = run(as_unprivileged_user(manage("status", {"--json"})));
  EXPECT_EQ(status.status, ExitStatus::exited(0)) << status.err;
  const json array = json::parse(status.out, nullptr, false);
  ASSERT_TRUE(array.is_array()) << status.out;
  EXPECT_EQ(object_for(array, "L")["reason"], "kernel-lock-held");
  EXPECT_EQ(object_for(array, "dead")["state"], "stale");

  Finished forced = run(as_unprivileged_user(manage("break", {"--force", "L"})));
  EXPECT_EQ(forced.status, ExitStatus::exited(74)) << forced.err;
  EXPECT_TRUE(is_one_error_line(forced.err, "cannot break lock `L`: "));
  Finished cleaned = run(as_unprivileged_user(manage("clean")));
  EXPECT_EQ(cleaned.status, ExitStatus::exited(74)) << cleaned.err;
  EXPECT_TRUE(is_one_error_line(cleaned.err, "cannot remove stale `" + lock_path("dead") + "`: "));

  EXPECT_EQ(directory_entries(lock_dir), (std::vector<std::string>{"L.lock", "dead.lock"}));
  std::string holder_err;
  EXPECT_EQ(holder.release(&holder_err), ExitStatus::exited(0));
  EXPECT_EQ(holder_err, "") << "the holder's lock was disturbed";
}

// Another user's /tmp-like directory (1777): everyone may create locks, but the sticky bit keeps
// them from removing each other's. A stale lock of the other user cannot be reclaimed (exit 74
// naming it, as docs/protocol.md says); a held one is waited for, never taken.
TEST_F(HostileLockDirectory, OwnedByAnotherUserWithStickyBitProtectsTheirLocks) {
  if (const std::string why = why_not_other_user(); !why.empty()) {
    SKIP_OR_FAIL_IN_CI(why);
  }
  make_roots_lock_dir(01777);
  LiveHolder holder = hold("L");
  freeze_outside();

  Pipe ran_own;
  Finished own = run_unprivileged("mine", ran_own);
  EXPECT_EQ(own.status, ExitStatus::exited(0)) << own.err;
  EXPECT_EQ(own.err, "");
  EXPECT_TRUE(ran_own.receives_byte(5s));

  Pipe ran_dead;
  Finished not_reclaimed = run_unprivileged("dead", ran_dead);
  EXPECT_EQ(not_reclaimed.status, ExitStatus::exited(74)) << not_reclaimed.err;
  EXPECT_TRUE(
      is_one_error_line(not_reclaimed.err, "cannot reclaim stale lock `dead`: cannot remove `" +
                                               lock_path("dead") + "`: Operation not permitted"));
  EXPECT_TRUE(ran_dead.ends_without_data(5s)) << "the command ran";

  Pipe ran_held;
  Finished waited = run_unprivileged("L", ran_held, {"--timeout", "0"});
  EXPECT_EQ(waited.status, ExitStatus::exited(75)) << waited.err;
  EXPECT_TRUE(is_one_error_line(waited.err, "timed out after "));
  EXPECT_TRUE(ran_held.ends_without_data(5s)) << "the command ran";

  Finished broken = run(as_unprivileged_user(manage("break", {"dead"})));
  EXPECT_EQ(broken.status, ExitStatus::exited(74)) << broken.err;
  EXPECT_TRUE(is_one_error_line(broken.err, "cannot break lock `dead`: "));

  EXPECT_EQ(directory_entries(lock_dir), (std::vector<std::string>{"L.lock", "dead.lock"}));
  std::string holder_err;
  EXPECT_EQ(holder.release(&holder_err), ExitStatus::exited(0));
  EXPECT_EQ(holder_err, "") << "the holder's lock was disturbed";
}

// World-writable without the sticky bit: any user may remove anyone's files there, so buildlock
// warns (every `run`). It still takes only what is stale: another user's held lock is waited
// for, their stale one reclaimed.
TEST_F(HostileLockDirectory, WorldWritableWithoutStickyBitWarnsAndStealsNothingHeld) {
  if (const std::string why = why_not_other_user(); !why.empty()) {
    SKIP_OR_FAIL_IN_CI(why);
  }
  make_roots_lock_dir(0777);
  LiveHolder holder = hold("L");
  freeze_outside();
  const std::string warning = "buildlock: warning: lock directory `" + lock_dir +
                              "` is world-writable without the sticky bit: any user can remove "
                              "its locks (chmod +t it)\n";

  Pipe ran_held;
  Finished waited = run_unprivileged("L", ran_held, {"--timeout", "0"});
  EXPECT_EQ(waited.status, ExitStatus::exited(75)) << waited.err;
  ASSERT_TRUE(waited.err.starts_with(warning)) << waited.err;
  EXPECT_TRUE(is_one_error_line(waited.err.substr(warning.size()), "timed out after "));
  EXPECT_TRUE(ran_held.ends_without_data(5s)) << "the command ran";

  Pipe ran_dead;
  Finished reclaimed = run_unprivileged("dead", ran_dead);
  EXPECT_EQ(reclaimed.status, ExitStatus::exited(0)) << reclaimed.err;
  EXPECT_TRUE(reclaimed.err.starts_with(warning + "buildlock: reclaimed stale lock `dead` "))
      << reclaimed.err;
  EXPECT_TRUE(ran_dead.receives_byte(5s));

  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{"L.lock"});
  std::string holder_err;
  EXPECT_EQ(holder.release(&holder_err), ExitStatus::exited(0));
  EXPECT_EQ(holder_err, warning) << "the holder's lock was disturbed";
}

} // namespace
} // namespace buildlock::test

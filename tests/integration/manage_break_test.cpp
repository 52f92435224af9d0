// `buildlock break`: a stale lock goes at once; a held one only with --force, with a warning
// naming its holder; entries that are not lock files are never touched.
#include "manage_test_support.h"
#include "support/waiting.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

namespace buildlock::test {
namespace {

using namespace std::chrono_literals;

class Break : public ManageLocksTest {};

::testing::AssertionResult is_one_line_starting(const std::string& text, const std::string& start) {
  if (lines_of(text).size() != 1 || !text.starts_with(start) || text.back() != '\n') {
    return ::testing::AssertionFailure() << "not one line starting `" << start << "`:\n" << text;
  }
  return ::testing::AssertionSuccess();
}

TEST_F(Break, StaleLockIsRemoved) {
  const HolderMetadata metadata = dead_holder();
  craft_lock("dead", metadata);
  Finished finished = run(manage("break", {"dead"}));
  EXPECT_EQ(finished.status, ExitStatus::exited(0)) << finished.err;
  EXPECT_EQ(finished.out, "");
  EXPECT_TRUE(is_one_line_starting(finished.err, "buildlock: removed stale lock `dead` of pid " +
                                                     std::to_string(metadata.pid)));
  EXPECT_NE(finished.err.find("[holder-dead]"), std::string::npos) << finished.err;
  EXPECT_FALSE(exists_no_follow(lock_path("dead")));
}

TEST_F(Break, QuietRemovesSilently) {
  craft_lock("dead", dead_holder());
  Finished finished = run(manage("break", {"--quiet", "dead"}));
  EXPECT_EQ(finished.status, ExitStatus::exited(0)) << finished.err;
  EXPECT_EQ(finished.err, "");
  EXPECT_FALSE(exists_no_follow(lock_path("dead")));
}

TEST_F(Break, HeldLockIsRefusedWithoutForce) {
  LiveHolder holder = hold("busy");
  const auto mtime = mtime_of(lock_path("busy"));
  Finished finished = run(manage("break", {"busy"}));
  EXPECT_EQ(finished.status, ExitStatus::exited(75)) << finished.err;
  EXPECT_EQ(finished.out, "");
  EXPECT_TRUE(is_one_line_starting(finished.err, "buildlock: error: lock `busy` is held by pid " +
                                                     std::to_string(holder.pid())));
  EXPECT_NE(finished.err.find("`buildlock break --force busy`"), std::string::npos) << finished.err;
  EXPECT_EQ(mtime_of(lock_path("busy")), mtime);
  std::string err;
  EXPECT_EQ(holder.release(&err), ExitStatus::exited(0));
  EXPECT_EQ(err, "") << "the holder's lock was touched";
}

TEST_F(Break, ForceBreaksAHeldLockAndNamesItsHolder) {
  LiveHolder holder = hold("busy");
  Finished finished = run(manage("break", {"--force", "busy"}));
  EXPECT_EQ(finished.status, ExitStatus::exited(0)) << finished.err;
  EXPECT_TRUE(
      is_one_line_starting(finished.err, "buildlock: warning: broke lock `busy` held by pid " +
                                             std::to_string(holder.pid())));
  EXPECT_NE(finished.err.find("[kernel-lock-held]"), std::string::npos) << finished.err;
  EXPECT_FALSE(exists_no_follow(lock_path("busy")));
  // Anyone gets the lock at once now, while the old holder still runs...
  Finished next = run(run_under_lock("busy", scripted({"exit", "0"}), {"--timeout", "0"}));
  EXPECT_EQ(next.status, ExitStatus::exited(0)) << next.err;
  // ...and the old holder says, when it ends, that its lock was taken from it.
  std::string err;
  EXPECT_EQ(holder.release(&err), ExitStatus::exited(0));
  EXPECT_NE(err.find("buildlock: warning: lock `" + lock_path("busy") +
                     "` was removed or replaced by someone else"),
            std::string::npos)
      << err;
}

TEST_F(Break, LockHeldByAFreshHeartbeatNeedsForceToo) {
  craft_lock("remote", holder_on_other_host());
  Finished refused = run(manage("break", {"remote"}));
  EXPECT_EQ(refused.status, ExitStatus::exited(75)) << refused.err;
  EXPECT_NE(refused.err.find("[heartbeat-fresh]"), std::string::npos) << refused.err;
  EXPECT_TRUE(exists_no_follow(lock_path("remote")));

  Finished forced = run(manage("break", {"remote", "-f"}));
  EXPECT_EQ(forced.status, ExitStatus::exited(0)) << forced.err;
  EXPECT_TRUE(is_one_line_starting(forced.err, "buildlock: warning: broke lock `remote` held by "));
  EXPECT_NE(forced.err.find("on host `elsewhere.example`"), std::string::npos) << forced.err;
  EXPECT_FALSE(exists_no_follow(lock_path("remote")));
}

TEST_F(Break, FreeLockIsNothingToBreak) {
  Finished finished = run(manage("break", {"absent"}));
  EXPECT_EQ(finished.status, ExitStatus::exited(0)) << finished.err;
  EXPECT_EQ(finished.err,
            "buildlock: lock `absent` is not held (no lock file): nothing to break\n");
  EXPECT_FALSE(exists_no_follow(lock_dir)) << "break created the lock directory";
}

TEST_F(Break, EntryThatIsNotALockFileIsNeverTouchedEvenWithForce) {
  make_lock_dir();
  const std::string target = temp / "target";
  write_file(target, "precious");
  ASSERT_EQ(::symlink(target.c_str(), lock_path("symlink").c_str()), 0);
  ASSERT_EQ(::mkfifo(lock_path("fifo").c_str(), 0644), 0);
  ASSERT_EQ(::mkdir(lock_path("directory").c_str(), 0755), 0);
  for (const char* name : {"symlink", "fifo", "directory"}) {
    for (const std::vector<std::string>& arguments :
         {std::vector<std::string>{name}, std::vector<std::string>{"--force", name}}) {
      Finished finished = run(manage("break", arguments));
      EXPECT_EQ(finished.status, ExitStatus::exited(74)) << name << ": " << finished.err;
      EXPECT_TRUE(is_one_line_starting(finished.err, std::string("buildlock: error: cannot break "
                                                                 "lock `") +
                                                         name + "`"));
    }
  }
  EXPECT_EQ(directory_entries(lock_dir),
            (std::vector<std::string>{"directory.lock", "fifo.lock", "symlink.lock"}));
  EXPECT_EQ(read_file(target), "precious");
}

TEST_F(Break, UnreadableLockFileExits74) {
  craft_lock("secret", dead_holder());
  ModeRestorer traversable(temp.path(), 0755);
  ModeRestorer unreadable(lock_path("secret"), 0000);
  Finished finished = run(as_unprivileged_user(manage("break", {"--force", "secret"})));
  EXPECT_EQ(finished.status, ExitStatus::exited(74)) << finished.err;
  EXPECT_TRUE(is_one_line_starting(finished.err, "buildlock: error: cannot break lock `secret`"));
  EXPECT_TRUE(exists_no_follow(lock_path("secret")));
}

TEST_F(Break, UsageErrorsExit2) {
  for (const std::vector<std::string>& arguments : {std::vector<std::string>{},
                                                    {"../escape"},
                                                    {"a", "b"},
                                                    {"x", "--", "y"},
                                                    {"--stale-after", "-1", "x"}}) {
    Finished finished = run(manage("break", arguments));
    EXPECT_EQ(finished.status, ExitStatus::exited(2)) << finished.err;
    EXPECT_EQ(finished.out, "");
    EXPECT_TRUE(is_one_line_starting(finished.err, "buildlock: error: "));
  }
  EXPECT_FALSE(exists_no_follow(lock_dir));
}

// `break --json` (issue 25, item 8): for scripts, what became of each file of the lock, with the
// fields of `status --json` plus `action` and `error`; the messages stay on stderr.
TEST_F(Break, JsonSaysWhatWasRemovedWithTheFieldsOfStatus) {
  const HolderMetadata metadata = dead_holder();
  craft_lock("dead", metadata);
  const json array = json_from(manage("break", {"--json", "dead"}));
  ASSERT_EQ(array.size(), 1u) << array.dump(2);
  expect_status_schema(array[0], {"action", "error"});
  EXPECT_EQ(array[0]["name"], "dead");
  EXPECT_EQ(array[0]["state"], "stale");
  EXPECT_EQ(array[0]["reason"], "holder-dead");
  EXPECT_EQ(array[0]["pid"], metadata.pid);
  EXPECT_EQ(array[0]["action"], "removed");
  EXPECT_EQ(array[0]["error"], nullptr);
  EXPECT_FALSE(exists_no_follow(lock_path("dead")));
  EXPECT_EQ(json_from(manage("break", {"--json", "dead"})), json::array()) << "nothing left";
}

TEST_F(Break, JsonSaysWhatWasRefusedAndWhatWasBroken) {
  LiveHolder holder = hold("busy");
  const json refused = json_from(manage("break", {"--json", "busy"}), 75);
  ASSERT_EQ(refused.size(), 1u) << refused.dump(2);
  expect_status_schema(refused[0], {"action", "error"});
  EXPECT_EQ(refused[0]["state"], "held");
  EXPECT_EQ(refused[0]["pid"], holder.pid());
  EXPECT_EQ(refused[0]["action"], "refused");
  EXPECT_EQ(refused[0]["error"], nullptr);
  EXPECT_TRUE(exists_no_follow(lock_path("busy")));

  const json broken = json_from(manage("break", {"--json", "--force", "busy"}));
  ASSERT_EQ(broken.size(), 1u) << broken.dump(2);
  expect_status_schema(broken[0], {"action", "error"});
  EXPECT_EQ(broken[0]["state"], "held");
  EXPECT_EQ(broken[0]["action"], "broken");
  EXPECT_FALSE(exists_no_follow(lock_path("busy")));
  std::string err;
  holder.release(&err); // its lock was broken: it says so and exits 76
}

} // namespace
} // namespace buildlock::test

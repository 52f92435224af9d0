// Races of the directory protocol that an outside review reproduced (issue 20, findings 1 and 4),
// forced instead of hoped for: helpers/link_hook, preloaded into one buildlock, stops it right
// before a link() of a claim and lets the test act at exactly that point.
//
// Finding 1: the last member of a group counts no member, a member without kernel locks joins,
// the last member removes the anchor, counts again, finds it and is about to link the anchor back
// when an exclusive run (kernel locks auto) creates NAME.lock in the empty name. That run never
// saw a group; it must still wait for the member, whose holder file is what keeps it in.
// Finding 4: a waiter behind someone else's claim on a stale lock of another host must pause
// between attempts, not spin (it made thousands of link() calls a second), and must not prepare a
// temporary file per attempt. Counted, not timed.
#include "support/integration_test.h"
#include "support/lock_files.h"
#include "support/waiting.h"

#include <cstdio>
#include <cstdlib>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace buildlock::test {
namespace {

const std::string link_hook = LINK_HOOK_LIBRARY;

// Lines of the hook's log whose link() target ends with `suffix`.
std::size_t links_to(const std::vector<std::string>& log, const std::string& suffix) {
  std::size_t count = 0;
  for (const std::string& line : log) {
    if (line.size() >= suffix.size() &&
        line.compare(line.size() - suffix.size(), suffix.size(), suffix) == 0) {
      ++count;
    }
  }
  return count;
}

using RunGroupEnd = IntegrationTest;

TEST_F(RunGroupEnd, ExclusiveRunInTheNameTheLastMemberEmptiedWaitsForTheMemberThatJoined) {
  make_lock_dir();
  Pipe paused; // the last member, stopped before a link() of its claim
  Pipe resume;
  auto last =
      start_holding("L", {"--shared", "--kernel-locks", "off", "--stale-after", "600"}, {},
                    [&](Command& command) {
                      command.stop_in_hook(link_hook, "LINK_HOOK", ".claim", paused, resume);
                    });
  ASSERT_TRUE(last);
  paused.close_write();
  resume.close_read();
  // The anchor as if refreshed a moment ago, however long the steps below take on a loaded
  // machine: the joiner below judges the group "forming" (its first member being added), as it
  // does for real within a second of the last refresh. (A heartbeat would undo this: with
  // --stale-after 600 the next one is minutes away.)
  set_mtime(lock_path("L"), WallClock::now() + std::chrono::hours(1));

  last->let_go();
  ASSERT_TRUE(paused.receives_byte(10s))
      << "the last member did not come to claim the anchor: " << last->process->stderr_text();
  // It counted no member and is about to claim the anchor: a member without kernel locks joins.
  auto member = start_holding("L", {"--shared", "--kernel-locks", "off"});
  ASSERT_TRUE(member);
  resume.write_byte();
  ASSERT_TRUE(paused.receives_byte(10s))
      << "the last member did not stop to link the anchor back: " << last->process->stderr_text();
  // It removed the name, counted the new member, and is about to link the anchor back.
  ASSERT_FALSE(exists_no_follow(lock_path("L"))) << "the name is not empty: nothing was forced";

  const std::string ran = temp / "exclusive-ran";
  Finished exclusive = run(run_under_lock("L", {"sh", "-c", ": > '" + ran + "'"},
                                          {"--kernel-locks", "auto", "--timeout", "0"}));
  EXPECT_EQ(exclusive.status, ExitStatus::exited(75)) << exclusive.err;
  EXPECT_FALSE(exists_no_follow(ran)) << "an exclusive run ran inside a shared member's hold";
  EXPECT_NE(exclusive.err.find("the last members of a group"), std::string::npos) << exclusive.err;

  resume.close_write(); // the link back, and every later link(), go through
  EXPECT_EQ(last->process->wait(10s), ExitStatus::exited(0)) << last->process->stderr_text();
  member->let_go();
  EXPECT_EQ(member->process->wait(10s), ExitStatus::exited(0)) << member->process->stderr_text();
  Finished after = run(run_under_lock("L", {"true"}, {"--timeout", "10"}));
  EXPECT_EQ(after.status, ExitStatus::exited(0)) << after.err;
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{}) << "leftovers";
}

// The exclusive run that waits for a group's last members holds NAME.lock meanwhile: it refreshes
// it like any holder, or another host would judge it stale behind a slow member and reclaim it.
TEST_F(RunGroupEnd, ExclusiveRunWaitingForTheLastMembersKeepsItsLockFresh) {
  make_lock_dir();
  auto member = start_holding("L", {"--shared", "--kernel-locks", "off"});
  ASSERT_TRUE(member);
  // What the race above leaves at worst: a member inside, its anchor's name gone.
  ASSERT_EQ(::unlink(lock_path("L").c_str()), 0);
  const std::string ran = temp / "exclusive-ran";
  Process exclusive = run_under_lock("L", {"sh", "-c", ": > '" + ran + "'"},
                                     {"--kernel-locks", "off", "--stale-after", "0.4", "--verbose"})
                          .start();
  ASSERT_TRUE(file_eventually_contains(lock_path("L"), "\"mode\":\"exclusive\"", 10s))
      << exclusive.stderr_text();
  const auto created = mtime_of(lock_path("L"));
  const auto deadline = Clock::now() + 10s;
  while (mtime_of(lock_path("L")) == created && Clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_NE(mtime_of(lock_path("L")), created)
      << "the lock was never refreshed while its run waited: " << exclusive.stderr_text();
  EXPECT_FALSE(exists_no_follow(ran)) << "the exclusive run did not wait for the member";
  member->let_go();
  EXPECT_EQ(member->process->wait(10s), ExitStatus::exited(0)) << member->process->stderr_text();
  EXPECT_EQ(exclusive.wait(10s), ExitStatus::exited(0)) << exclusive.stderr_text();
  EXPECT_TRUE(exists_no_follow(ran));
}

using RunReclaimPace = IntegrationTest;

// A lock of another host whose heartbeat expired, and a claim on it left by a reclaimer killed a
// moment ago: only when that claim is older than --stale-after may it be dropped. Meanwhile the
// waiter pauses between attempts (10 ms, doubling up to 250 ms: about 14 in 2 s, fewer on a slow
// machine, never more), and looks at the name instead of preparing a temporary file each time.
TEST_F(RunReclaimPace, WaiterBehindAnAbandonedClaimPausesAndPreparesNoFilePerAttempt) {
  make_lock_dir();
  HolderMetadata elsewhere = metadata_for_local_process(::getpid());
  elsewhere.boot_id = other_boot_id();
  elsewhere.host = "elsewhere";
  elsewhere.pid = 4242;
  write_lock_file(lock_path("L"), to_json(elsewhere) + "\n",
                  WallClock::now() - std::chrono::hours(1));
  struct stat lock {};
  ASSERT_EQ(::stat(lock_path("L").c_str(), &lock), 0);
  char claim_name[64];
  std::snprintf(claim_name, sizeof claim_name, ".L.%016llx.claim",
                static_cast<unsigned long long>(lock.st_ino));
  // The claim: a second name of the lock file, whose status change time it ages by.
  ASSERT_EQ(::link(lock_path("L").c_str(), (lock_dir + "/" + claim_name).c_str()), 0);

  const std::string log = temp / "links";
  Finished waiter =
      run(run_under_lock("L", {"true"}, {"--kernel-locks", "auto", "--stale-after", "2"})
              .preload(link_hook)
              .env("LINK_HOOK_LOG", log),
          50s); // about 2 s (--stale-after); the rest only for a machine that stalls
  EXPECT_EQ(waiter.status, ExitStatus::exited(0)) << waiter.err;
  EXPECT_NE(waiter.err.find("reclaimed stale lock"), std::string::npos) << waiter.err;
  const std::vector<std::string> links = lines_of(read_file(log));
  // Claims: one per pause, the last one the claim that removed the lock.
  EXPECT_LE(links_to(links, ".claim"), 40u) << links.size() << " link() calls";
  // The lock's name: tried once before the claim was in the way, once after the reclaim.
  EXPECT_LE(links_to(links, "/L.lock"), 2u) << links.size() << " link() calls";
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{}) << "leftovers";
}

} // namespace
} // namespace buildlock::test

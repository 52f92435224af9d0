// Lock files written by holders on other hosts and in other containers (issue 6), judged by a
// real `buildlock run` here: a pid is checked only inside its own PID namespace on its own kernel;
// a holder in another PID namespace on this kernel is judged by the kernel lock (or, without one,
// by its heartbeat); a holder on another kernel by its heartbeat alone.
//
// Each crafted pid is chosen to mislead a reader that would check it: dead here where the lock
// must stay, alive here where it must go. The cases run_reclaim_test.cpp covers already (another
// host fresh or expired with a live pid here, a previous boot) are not repeated.
#include "shared_fs_test_support.h"
#include "support/waiting.h"

#include <functional>
#include <gtest/gtest.h>
#include <memory>
#include <optional>

namespace buildlock::test {
namespace {

using std::chrono::seconds;

class SharedFsForeignMetadata : public IntegrationTest {
protected:
  void SetUp() override { make_lock_dir(); }

  // `buildlock run --verbose --timeout TIMEOUT OPTIONS... LOCK -- scripted_command notify 3`.
  Finished try_lock(const std::string& timeout, std::vector<std::string> options, bool& ran) const {
    options.insert(options.begin(), {"--verbose", "--timeout", timeout});
    Pipe started;
    Command command = run_under_lock("L", scripted({"notify", "3"}), std::move(options));
    command.pass_fd(3, started.write_fd());
    Finished finished = run(command);
    started.close_write();
    ran = started.read_to_end(5s).value_or("") == "n";
    return finished;
  }

  std::string holder_file(const std::string& suffix) const { return lock_path("L") + suffix; }
};

// One crafted exclusive lock and what buildlock must make of it.
struct ForeignLock {
  std::string name;
  std::function<std::string()> content;
  seconds age{0};                // mtime this long ago
  bool kernel_lock_held = false; // this test process holds its flock, as a live holder would
  std::vector<std::string> options;
  bool reclaimed = false; // else left alone, byte for byte
  std::string reason;
  std::string explanation; // a phrase the verbose line must contain ("" = none checked)
};

void PrintTo(const ForeignLock& lock, std::ostream* out) {
  *out << lock.name;
}

std::vector<ForeignLock> foreign_locks() {
  const std::vector<std::string> auto_locks = {"--kernel-locks", "auto", "--stale-after", "2"};
  const std::vector<std::string> no_locks = {"--kernel-locks", "off", "--stale-after", "2"};
  return {
      // Same kernel, another PID namespace: the kernel lock decides, never the pid.
      {"ContainerLivePidHereKernelLockFree",
       [] { return to_json(metadata_from_other_container(::getpid())); }, seconds(0), false,
       auto_locks, true, "holder-exited", "in another PID namespace"},
      {"ContainerDeadPidHereKernelLockFree",
       [] { return to_json(metadata_from_other_container(reaped_pid())); }, seconds(0), false,
       auto_locks, true, "holder-exited", "in another PID namespace"},
      {"ContainerDeadPidHereKernelLockHeld",
       [] { return to_json(metadata_from_other_container(reaped_pid())); }, seconds(600), true,
       auto_locks, false, "kernel-lock-held", ""},
      // Same kernel, another PID namespace, no kernel lock: the heartbeat decides, never the pid.
      {"ContainerWithoutKernelLockDeadPidHereFresh",
       [] { return without_kernel_lock(metadata_from_other_container(reaped_pid())); }, seconds(0),
       false, auto_locks, false, "heartbeat-fresh", "in another PID namespace"},
      {"ContainerWithoutKernelLockLivePidHereExpired",
       [] { return without_kernel_lock(metadata_from_other_container(::getpid())); }, seconds(10),
       false, auto_locks, true, "heartbeat-expired", "in another PID namespace"},
      // Seen without kernel locks: a holder on this kernel that says it keeps one is still asked
      // through it (docs/protocol.md, "Mixing kernel-lock settings").
      {"ContainerSeenWithKernelLocksOffKernelLockFree",
       [] { return to_json(metadata_from_other_container(::getpid())); }, seconds(0), false,
       no_locks, true, "holder-exited", "in another PID namespace"},
      {"ContainerSeenWithKernelLocksOffDeadPidHereKernelLockHeld",
       [] { return to_json(metadata_from_other_container(reaped_pid())); }, seconds(600), true,
       no_locks, false, "kernel-lock-held", ""},
      // Another kernel: a free kernel lock proves nothing (NFS may not show the other host's), a
      // pid that is dead here means nothing.
      {"OtherHostDeadPidHereKernelLockFreeFresh",
       [] { return to_json(metadata_from_other_host(reaped_pid())); }, seconds(0), false,
       auto_locks, false, "heartbeat-fresh", other_host_name},
      {"OtherHostWithoutKernelLockDeadPidHereFresh",
       [] { return without_kernel_lock(metadata_from_other_host(reaped_pid())); }, seconds(0),
       false, no_locks, false, "heartbeat-fresh", other_host_name},
      // An empty boot id (a system without one) matches no kernel, not even this one.
      {"EmptyBootIdDeadPidHereFresh",
       [] {
         HolderMetadata metadata = metadata_for_local_process(::getpid());
         metadata.pid = reaped_pid();
         metadata.boot_id = "";
         return to_json(metadata);
       },
       seconds(0), false, auto_locks, false, "heartbeat-fresh", ""},
  };
}

class SharedFsForeignLock : public SharedFsForeignMetadata,
                            public ::testing::WithParamInterface<ForeignLock> {};

TEST_P(SharedFsForeignLock, IsJudgedByTheRuleForWhereItsHolderLives) {
  const ForeignLock& lock = GetParam();
  write_lock_file(lock_path("L"), lock.content(), WallClock::now() - lock.age);
  std::optional<HeldFileLock> kernel_lock;
  if (lock.kernel_lock_held) {
    kernel_lock.emplace(lock_path("L"), HeldFileLock::Mode::exclusive);
  }
  const std::string before = read_file(lock_path("L"));
  const auto mtime_before = mtime_of(lock_path("L"));

  bool ran = false;
  // A short wait rather than --timeout 0 when the lock must stay, so that the verbose line with
  // the reason comes before giving up.
  Finished finished = try_lock(lock.reclaimed ? "0" : "0.2", lock.options, ran);
  const std::string verdict_line = "[" + lock.reason + "]";
  EXPECT_NE(finished.err.find(verdict_line), std::string::npos) << finished.err;
  if (!lock.explanation.empty()) {
    EXPECT_NE(finished.err.find(lock.explanation), std::string::npos) << finished.err;
  }
  if (lock.reclaimed) {
    EXPECT_EQ(finished.status, ExitStatus::exited(0)) << finished.err;
    EXPECT_TRUE(ran) << "the command did not run";
    EXPECT_NE(finished.err.find("reclaimed stale lock `L`"), std::string::npos) << finished.err;
    EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{});
  } else {
    EXPECT_EQ(finished.status, ExitStatus::exited(75)) << finished.err;
    EXPECT_FALSE(ran) << "the command ran although the lock's holder may be alive";
    EXPECT_EQ(read_file(lock_path("L")), before);
    EXPECT_EQ(mtime_of(lock_path("L")), mtime_before);
    EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{"L.lock"});
  }
}

INSTANTIATE_TEST_SUITE_P(Holders, SharedFsForeignLock, ::testing::ValuesIn(foreign_locks()),
                         [](const auto& param) { return param.param.name; });

// A slotted lock shared by a holder here, one on another host and one in another container: the
// free slot of a container whose holder is gone is reclaimed by its kernel lock; the other host's
// slot (its pid dead here) and the live container's slot are counted as held.
TEST_F(SharedFsForeignMetadata, SlotsOfOtherHostsAndContainersAreCountedByTheirOwnRules) {
  write_lock_file(lock_path("L"), to_json(as_slots(metadata_for_local_process(::getpid()), 3)));
  const HeldFileLock local_member(lock_path("L"), HeldFileLock::Mode::shared);
  const std::string other_host_slot = to_json(as_slots(metadata_from_other_host(reaped_pid()), 3));
  const std::string live_container_slot =
      to_json(as_slots(metadata_from_other_container(reaped_pid()), 3));
  write_lock_file(holder_file("+slot.1"), other_host_slot, WallClock::now());
  write_lock_file(holder_file("+slot.2"), live_container_slot);
  const HeldFileLock live_container(holder_file("+slot.2"), HeldFileLock::Mode::exclusive);
  write_lock_file(holder_file("+slot.3"),
                  to_json(as_slots(metadata_from_other_container(::getpid()), 3)));

  bool ran = false;
  Finished finished = try_lock("0", {"--kernel-locks", "auto", "--slots", "3"}, ran);
  EXPECT_EQ(finished.status, ExitStatus::exited(0)) << finished.err;
  EXPECT_TRUE(ran);
  EXPECT_NE(finished.err.find("reclaimed stale slot 3 of lock `L`"), std::string::npos)
      << finished.err;
  EXPECT_NE(finished.err.find("[holder-exited]"), std::string::npos) << finished.err;
  EXPECT_NE(finished.err.find("acquired slot 3 of lock `L`"), std::string::npos) << finished.err;
  EXPECT_EQ(read_file(holder_file("+slot.1")), other_host_slot);
  EXPECT_EQ(read_file(holder_file("+slot.2")), live_container_slot);
  EXPECT_EQ(directory_entries(lock_dir),
            (std::vector<std::string>{"L.lock", "L.lock+slot.1", "L.lock+slot.2"}));

  // The other host stops refreshing its slot: gone once older than --stale-after, not before.
  set_mtime(holder_file("+slot.1"), WallClock::now() - seconds(10));
  finished = try_lock("0", {"--kernel-locks", "auto", "--slots", "3", "--stale-after", "2"}, ran);
  EXPECT_EQ(finished.status, ExitStatus::exited(0)) << finished.err;
  EXPECT_NE(finished.err.find("reclaimed stale slot 1 of lock `L`"), std::string::npos)
      << finished.err;
  EXPECT_NE(finished.err.find("[heartbeat-expired]"), std::string::npos) << finished.err;
  EXPECT_NE(finished.err.find(other_host_name), std::string::npos) << finished.err;
  EXPECT_EQ(directory_entries(lock_dir), (std::vector<std::string>{"L.lock", "L.lock+slot.2"}));
}

// An anchor whose creator died here is not an ended group while members of other hosts or
// containers, which hold no kernel lock on it, are alive by their own rules (another host's
// fresh file, a live container's held file); once they are not, the group is over and every
// member's file is swept.
TEST_F(SharedFsForeignMetadata, SharedMembersOfOtherHostsAndContainersAreSweptByTheirOwnRules) {
  HolderMetadata dead_creator = metadata_for_local_process(::getpid());
  dead_creator.pid = reaped_pid();
  write_lock_file(lock_path("L"), to_json(as_shared(dead_creator)));
  const std::string fresh_other_host = to_json(as_shared(metadata_from_other_host(reaped_pid())));
  const std::string live_container =
      to_json(as_shared(metadata_from_other_container(reaped_pid())));
  write_lock_file(holder_file("+shared.00000000000000a1"), fresh_other_host, WallClock::now());
  write_lock_file(holder_file("+shared.00000000000000a2"),
                  to_json(as_shared(metadata_from_other_host(::getpid()))),
                  WallClock::now() - seconds(10));
  write_lock_file(holder_file("+shared.00000000000000a3"),
                  to_json(as_shared(metadata_from_other_container(::getpid()))));
  write_lock_file(holder_file("+shared.00000000000000a4"), live_container);
  std::optional<HeldFileLock> live;
  live.emplace(holder_file("+shared.00000000000000a4"), HeldFileLock::Mode::exclusive);
  const std::vector<std::string> all = {
      "L.lock", "L.lock+shared.00000000000000a1", "L.lock+shared.00000000000000a2",
      "L.lock+shared.00000000000000a3", "L.lock+shared.00000000000000a4"};

  bool ran = false;
  Finished finished = try_lock("0", {"--kernel-locks", "auto", "--stale-after", "2"}, ran);
  EXPECT_EQ(finished.status, ExitStatus::exited(75)) << finished.err;
  EXPECT_FALSE(ran);
  EXPECT_NE(finished.err.find("[members-alive]"), std::string::npos) << finished.err;
  EXPECT_EQ(directory_entries(lock_dir), all);

  // The other host stops refreshing: the live container still keeps the group.
  set_mtime(holder_file("+shared.00000000000000a1"), WallClock::now() - seconds(10));
  finished = try_lock("0", {"--kernel-locks", "auto", "--stale-after", "2"}, ran);
  EXPECT_EQ(finished.status, ExitStatus::exited(75)) << finished.err;
  EXPECT_EQ(directory_entries(lock_dir), all);
  EXPECT_EQ(read_file(holder_file("+shared.00000000000000a4")), live_container);

  live.reset(); // the container's member ends
  finished = try_lock("0", {"--kernel-locks", "auto", "--stale-after", "2"}, ran);
  EXPECT_EQ(finished.status, ExitStatus::exited(0)) << finished.err;
  EXPECT_TRUE(ran);
  EXPECT_EQ(count_occurrences(finished.err, "reclaimed stale shared hold of lock `L`"), 4U)
      << finished.err;
  EXPECT_NE(finished.err.find("[heartbeat-expired]"), std::string::npos) << finished.err;
  EXPECT_NE(finished.err.find("[holder-exited]"), std::string::npos) << finished.err;
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{});
}

// Without kernel locks (NFS without a lock daemon), a slotted group of other hosts is joined by
// adding a member file: their fresh slot is held, the next one is ours, and the group's anchor
// stays for them when we leave.
TEST_F(SharedFsForeignMetadata, WithoutKernelLocksASlottedGroupOfOtherHostsIsJoined) {
  const std::string anchor = without_kernel_lock(as_slots(metadata_from_other_host(4242), 2));
  const std::string other_host_slot =
      without_kernel_lock(as_slots(metadata_from_other_host(reaped_pid()), 2));
  write_lock_file(lock_path("L"), anchor, WallClock::now() - seconds(5));
  write_lock_file(holder_file("+slot.1"), other_host_slot, WallClock::now());

  bool ran = false;
  Finished finished =
      try_lock("0", {"--kernel-locks", "off", "--slots", "2", "--stale-after", "60"}, ran);
  EXPECT_EQ(finished.status, ExitStatus::exited(0)) << finished.err;
  EXPECT_TRUE(ran);
  EXPECT_NE(finished.err.find("acquired slot 2 of lock `L`"), std::string::npos) << finished.err;
  EXPECT_EQ(read_file(lock_path("L")), anchor);
  EXPECT_EQ(read_file(holder_file("+slot.1")), other_host_slot);
  EXPECT_EQ(directory_entries(lock_dir), (std::vector<std::string>{"L.lock", "L.lock+slot.1"}));

  // A container on this kernel takes the other slot: both count as held, by their heartbeats (its
  // pid is dead here, and without kernel locks our PID namespace is the only one we may check).
  write_lock_file(holder_file("+slot.2"),
                  without_kernel_lock(as_slots(metadata_from_other_container(reaped_pid()), 2)),
                  WallClock::now());
  finished = try_lock("0.2", {"--kernel-locks", "off", "--slots", "2", "--stale-after", "60"}, ran);
  EXPECT_EQ(finished.status, ExitStatus::exited(75)) << finished.err;
  EXPECT_FALSE(ran);
  EXPECT_NE(finished.err.find("all 2 held"), std::string::npos) << finished.err;

  // Both stop refreshing: once older than --stale-after the group is empty, its anchor goes and
  // a slot is reclaimed.
  set_mtime(holder_file("+slot.1"), WallClock::now() - seconds(10));
  set_mtime(holder_file("+slot.2"), WallClock::now() - seconds(10));
  finished = try_lock("0", {"--kernel-locks", "off", "--slots", "2", "--stale-after", "2"}, ran);
  EXPECT_EQ(finished.status, ExitStatus::exited(0)) << finished.err;
  EXPECT_TRUE(ran);
  EXPECT_NE(finished.err.find("reclaimed stale slot 1 of lock `L`"), std::string::npos)
      << finished.err;
  EXPECT_NE(finished.err.find("[heartbeat-expired]"), std::string::npos) << finished.err;
  // Our slot and the new anchor went with us; slot 2 waits for the next taker to reclaim it.
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{"L.lock+slot.2"});
}

} // namespace
} // namespace buildlock::test

// `status`, `clean` and `break` on shared and slotted locks: the lock file (the group's anchor,
// held shared by every member) and one holder file per member, each listed, judged and removed
// like a lock file. Live members are real `buildlock run --shared` / `--slots N`; dead ones are
// real holders killed with SIGKILL, or files crafted as a killed holder leaves them.
#include "manage_test_support.h"
#include "support/waiting.h"

#include <csignal>
#include <gtest/gtest.h>
#include <set>
#include <unistd.h>

namespace buildlock::test {
namespace {

using namespace std::chrono_literals;

class SharedLocks : public ManageLocksTest {
protected:
  std::string holder_path(const std::string& lock, const std::string& suffix) const {
    return lock_path(lock) + suffix;
  }

  // The holder files of `lock` now in the lock directory (names without the directory).
  std::vector<std::string> holder_files(const std::string& lock) const {
    std::vector<std::string> names;
    for (const std::string& name : directory_entries(lock_dir)) {
      if (name.starts_with(lock + ".lock+")) {
        names.push_back(name);
      }
    }
    return names;
  }

  // A member of a crafted group: its own file with `metadata`, its kernel lock held by this test
  // when `alive` (as the member's buildlock would), else free (as after the member was killed).
  std::optional<HeldFileLock> craft_member(const std::string& file_name,
                                           const HolderMetadata& metadata, bool alive) const {
    make_lock_dir();
    write_lock_file(lock_dir + "/" + file_name, to_json(metadata));
    if (!alive) {
      return std::nullopt;
    }
    return std::make_optional<HeldFileLock>(lock_dir + "/" + file_name,
                                            HeldFileLock::Mode::exclusive);
  }

  // A live holder in a process group of its own, so that SIGKILL reaches its command too.
  LiveHolder hold_killable(const std::string& lock, std::vector<std::string> options) const {
    Command command = run_under_lock(lock, holder_command(), std::move(options));
    command.own_process_group();
    return LiveHolder(command, lock);
  }
};

std::set<std::int64_t> pids_of(const json& holders) {
  std::set<std::int64_t> pids;
  for (const json& holder : holders) {
    pids.insert(holder["pid"].get<std::int64_t>());
  }
  return pids;
}

::testing::AssertionResult is_one_line_per_file(const std::string& text, std::size_t files) {
  if (lines_of(text).size() != files) {
    return ::testing::AssertionFailure() << "not " << files << " lines:\n" << text;
  }
  return ::testing::AssertionSuccess();
}

TEST_F(SharedLocks, StatusListsEverySharedHolderUnderItsLock) {
  LiveHolder first = hold("cache", {"--shared"});
  LiveHolder second = hold("cache", {"--shared"});
  const json array = status_json();
  ASSERT_EQ(array.size(), 1u) << array.dump(2);
  const json& lock = array[0];
  expect_lock_schema(lock);
  EXPECT_EQ(lock["name"], "cache");
  EXPECT_EQ(lock["path"], lock_path("cache"));
  EXPECT_EQ(lock["state"], "held");
  EXPECT_EQ(lock["reason"], "kernel-lock-held");
  EXPECT_EQ(lock["mode"], "shared");
  EXPECT_TRUE(lock["slots"].is_null());
  EXPECT_TRUE(lock["slot"].is_null());
  const json& holders = lock["holders"];
  ASSERT_EQ(holders.size(), 2u) << lock.dump(2);
  for (const json& holder : holders) {
    EXPECT_EQ(holder["kind"], "shared");
    EXPECT_EQ(holder["state"], "held");
    EXPECT_EQ(holder["reason"], "kernel-lock-held");
    EXPECT_EQ(holder["mode"], "shared");
    EXPECT_TRUE(holder["slot"].is_null());
    EXPECT_TRUE(holder["path"].get<std::string>().starts_with(lock_path("cache") + "+shared."))
        << holder["path"];
    EXPECT_EQ(holder["command"], json(holder_command()));
    EXPECT_EQ(holder["host"], this_host_name());
    EXPECT_LT(holder["held_seconds"].get<double>(), 10.0);
  }
  EXPECT_EQ(pids_of(holders), (std::set<std::int64_t>{first.pid(), second.pid()}));
  EXPECT_EQ(first.release(), ExitStatus::exited(0));
  EXPECT_EQ(second.release(), ExitStatus::exited(0));
  EXPECT_EQ(status_json(), json::array()) << "the last member removes every file";
}

TEST_F(SharedLocks, StatusListsSlotHoldersWithTheirSlotNumber) {
  LiveHolder first = hold("links", {"--slots", "2"});
  LiveHolder second = hold("links", {"--slots", "2"});
  const json lock = object_for(status_json({"links"}), "links");
  expect_lock_schema(lock);
  EXPECT_EQ(lock["state"], "held");
  EXPECT_EQ(lock["mode"], "slots");
  EXPECT_EQ(lock["slots"], 2);
  const json& holders = lock["holders"];
  ASSERT_EQ(holders.size(), 2u) << lock.dump(2);
  for (int slot = 1; slot <= 2; ++slot) {
    const json& holder = holders[static_cast<std::size_t>(slot - 1)];
    EXPECT_EQ(holder["kind"], "slot");
    EXPECT_EQ(holder["slot"], slot);
    EXPECT_EQ(holder["path"], holder_path("links", "+slot." + std::to_string(slot)));
    EXPECT_EQ(holder["state"], "held");
    EXPECT_EQ(holder["mode"], "slots");
    EXPECT_EQ(holder["slots"], 2);
  }
  EXPECT_EQ(pids_of(holders), (std::set<std::int64_t>{first.pid(), second.pid()}));
  EXPECT_EQ(first.release(), ExitStatus::exited(0));
  EXPECT_EQ(second.release(), ExitStatus::exited(0));
}

TEST_F(SharedLocks, TableShowsEachHolderFileUnderItsLock) {
  LiveHolder slot_holder = hold("links", {"--slots", "3"});
  LiveHolder exclusive = hold("compile");
  Finished finished = run(manage("status"));
  EXPECT_EQ(finished.status, ExitStatus::exited(0)) << finished.err;
  const auto lines = lines_of(finished.out);
  ASSERT_EQ(lines.size(), 4u) << finished.out;
  const std::size_t state_column = lines[0].find("STATE");
  const std::size_t mode_column = lines[0].find("MODE");
  const std::size_t pid_column = lines[0].find("PID");
  ASSERT_NE(mode_column, std::string::npos) << lines[0];
  EXPECT_TRUE(lines[1].starts_with("compile ")) << lines[1];
  EXPECT_EQ(lines[1].substr(mode_column, 10), "exclusive ");
  EXPECT_TRUE(lines[2].starts_with("links ")) << lines[2];
  EXPECT_EQ(lines[2].substr(mode_column, 8), "slots 3 ");
  EXPECT_TRUE(lines[3].starts_with("  +slot.1 ")) << lines[3];
  EXPECT_EQ(lines[3].substr(state_column, 5), "held ");
  EXPECT_EQ(lines[3].substr(mode_column, 8), "slots 3 ");
  EXPECT_EQ(lines[3].substr(pid_column, std::to_string(slot_holder.pid()).size()),
            std::to_string(slot_holder.pid()));
  EXPECT_EQ(slot_holder.release(), ExitStatus::exited(0));
  EXPECT_EQ(exclusive.release(), ExitStatus::exited(0));
}

TEST_F(SharedLocks, QueuedWriterIsListedBesideTheSharedHolders) {
  LiveHolder reader = hold("cache", {"--shared"});
  // An exclusive run queues behind the reader: it holds `cache.lock+writer` while it waits.
  Command writer_command = run_under_lock("cache", scripted({"exit", "0"}), {"--verbose"});
  Process writer = writer_command.start();
  ASSERT_TRUE(file_eventually_contains(writer.stderr_path(), "is held by", 10s));
  const json lock = object_for(status_json(), "cache");
  expect_lock_schema(lock);
  EXPECT_EQ(lock["mode"], "shared");
  const json& holders = lock["holders"];
  ASSERT_EQ(holders.size(), 2u) << lock.dump(2);
  EXPECT_EQ(holders[0]["kind"], "shared");
  EXPECT_EQ(holders[0]["pid"], reader.pid());
  EXPECT_EQ(holders[1]["kind"], "writer");
  EXPECT_EQ(holders[1]["path"], holder_path("cache", "+writer"));
  EXPECT_EQ(holders[1]["state"], "held");
  EXPECT_EQ(holders[1]["pid"], writer.pid());
  EXPECT_EQ(holders[1]["mode"], "exclusive");
  // In the table the queued writer is waiting, not holding (issue 25): it holds nothing yet.
  Finished table = run(manage("status"));
  const auto lines = lines_of(table.out);
  ASSERT_EQ(lines.size(), 4u) << table.out;
  const std::size_t state_column = lines[0].find("STATE");
  EXPECT_TRUE(lines[3].starts_with("  +writer ")) << lines[3];
  EXPECT_EQ(lines[3].substr(state_column, 8), "waiting ") << table.out;
  EXPECT_EQ(lines[2].substr(state_column, 5), "held ") << table.out;
  EXPECT_EQ(reader.release(), ExitStatus::exited(0));
  EXPECT_EQ(writer.wait(10s), ExitStatus::exited(0)) << writer.stderr_text();
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{});
}

TEST_F(SharedLocks, KilledSharedHolderIsStaleAndCleanRemovesOnlyItsFile) {
  LiveHolder killed = hold_killable("cache", {"--shared"});
  LiveHolder survivor = hold("cache", {"--shared"});
  const std::int64_t killed_pid = killed.pid();
  EXPECT_EQ(killed.kill_everything(), ExitStatus::killed_by(SIGKILL));

  const json lock = object_for(status_json(), "cache");
  EXPECT_EQ(lock["state"], "held") << "the survivor still holds the group";
  std::string killed_file;
  for (const json& holder : lock["holders"]) {
    if (holder["pid"] == killed_pid) {
      EXPECT_EQ(holder["state"], "stale");
      EXPECT_EQ(holder["reason"], "holder-dead");
      killed_file = holder["path"];
    } else {
      EXPECT_EQ(holder["pid"], survivor.pid());
      EXPECT_EQ(holder["state"], "held");
    }
  }
  ASSERT_FALSE(killed_file.empty()) << lock.dump(2);

  const json removed = json_from(manage("clean", {"--json"}));
  ASSERT_EQ(removed.size(), 1u) << removed.dump(2);
  expect_status_schema(removed[0], {"action", "error"});
  EXPECT_EQ(removed[0]["action"], "removed");
  EXPECT_EQ(removed[0]["kind"], "shared");
  EXPECT_EQ(removed[0]["name"], "cache");
  EXPECT_EQ(removed[0]["path"], killed_file);
  EXPECT_EQ(removed[0]["pid"], killed_pid);
  EXPECT_FALSE(exists_no_follow(killed_file));
  EXPECT_TRUE(exists_no_follow(lock_path("cache")));
  EXPECT_EQ(holder_files("cache").size(), 1u);

  std::string err;
  EXPECT_EQ(survivor.release(&err), ExitStatus::exited(0));
  EXPECT_EQ(err, "") << "the survivor's files were touched";
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{});
}

TEST_F(SharedLocks, KilledSlotHolderIsStaleAndItsSlotCleaned) {
  LiveHolder killed = hold_killable("links", {"--slots", "2"});
  EXPECT_EQ(killed.kill_everything(), ExitStatus::killed_by(SIGKILL));
  // Nobody is left: the anchor is an empty group and the slot file an orphan.
  const json lock = object_for(status_json(), "links");
  EXPECT_EQ(lock["state"], "stale");
  EXPECT_NE(lock["explanation"].get<std::string>().find("empty group"), std::string::npos)
      << lock["explanation"];
  ASSERT_EQ(lock["holders"].size(), 1u);
  EXPECT_EQ(lock["holders"][0]["slot"], 1);
  EXPECT_EQ(lock["holders"][0]["state"], "stale");

  Finished finished = run(manage("clean"));
  EXPECT_EQ(finished.status, ExitStatus::exited(0)) << finished.err;
  const auto lines = lines_of(finished.out);
  ASSERT_EQ(lines.size(), 3u) << finished.out;
  EXPECT_TRUE(lines[1].starts_with("removed  links.lock ")) << lines[1];
  EXPECT_TRUE(lines[2].starts_with("removed  links.lock+slot.1 ")) << lines[2];
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{});
}

TEST_F(SharedLocks, CleanKeepsLiveMembersAndRemovesDeadOnesOfACraftedGroup) {
  const HolderMetadata live = as_slots(metadata_for_local_process(::getpid()), 3);
  craft_lock("links", live);
  HeldFileLock anchor(lock_path("links"), HeldFileLock::Mode::shared);
  auto slot_1 = craft_member("links.lock+slot.1", live, true);
  auto slot_3 = craft_member("links.lock+slot.3", as_slots(dead_holder(), 3), false);
  auto writer = craft_member("links.lock+writer", dead_holder(), false);
  const json removed = json_from(manage("clean", {"--json"}));
  std::vector<std::string> paths;
  for (const json& object : removed) {
    expect_status_schema(object, {"action", "error"});
    paths.push_back(object["path"]);
  }
  EXPECT_EQ(paths, (std::vector<std::string>{holder_path("links", "+slot.3"),
                                             holder_path("links", "+writer")}));
  ASSERT_EQ(removed.size(), 2u);
  EXPECT_EQ(removed[0]["kind"], "slot");
  EXPECT_EQ(removed[0]["slot"], 3);
  EXPECT_EQ(removed[0]["slots"], 3);
  EXPECT_EQ(removed[1]["kind"], "writer");
  EXPECT_EQ(removed[1]["mode"], "exclusive");
  EXPECT_EQ(directory_entries(lock_dir),
            (std::vector<std::string>{"links.lock", "links.lock+slot.1"}));
}

TEST_F(SharedLocks, BreakRefusesWhileAnyHolderLivesAndNamesThem) {
  LiveHolder first = hold("cache", {"--shared"});
  LiveHolder second = hold("cache", {"--shared"});
  const auto before = directory_entries(lock_dir);
  Finished finished = run(manage("break", {"cache"}));
  EXPECT_EQ(finished.status, ExitStatus::exited(75)) << finished.err;
  EXPECT_EQ(finished.out, "");
  EXPECT_TRUE(is_one_line_per_file(finished.err, 1));
  EXPECT_TRUE(finished.err.starts_with("buildlock: error: lock `cache` has 2 live holders: "
                                       "shared holder pid "))
      << finished.err;
  for (const LiveHolder* holder : {&first, &second}) {
    EXPECT_NE(finished.err.find("pid " + std::to_string(holder->pid()) + " "), std::string::npos)
        << finished.err;
  }
  EXPECT_NE(finished.err.find("`buildlock break --force cache`"), std::string::npos);
  EXPECT_EQ(directory_entries(lock_dir), before);
  for (LiveHolder* holder : {&first, &second}) {
    std::string err;
    EXPECT_EQ(holder->release(&err), ExitStatus::exited(0));
    EXPECT_EQ(err, "");
  }
}

TEST_F(SharedLocks, ForceBreaksTheGroupAndItsMembersNoticeAtRelease) {
  LiveHolder first = hold("links", {"--slots", "2"});
  LiveHolder second = hold("links", {"--slots", "2"});
  Finished finished = run(manage("break", {"--force", "links"}));
  EXPECT_EQ(finished.status, ExitStatus::exited(0)) << finished.err;
  // One warning for the lock file, one per holder file, each naming what it broke.
  EXPECT_TRUE(is_one_line_per_file(finished.err, 3));
  EXPECT_TRUE(finished.err.starts_with("buildlock: warning: broke slots 2 lock `links` ("))
      << finished.err;
  for (int slot = 1; slot <= 2; ++slot) {
    EXPECT_NE(finished.err.find("buildlock: warning: broke slot " + std::to_string(slot) +
                                " holder file `links.lock+slot." + std::to_string(slot) +
                                "` of pid "),
              std::string::npos)
        << finished.err;
  }
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{});
  // The lock is free for anyone at once, while the old members still run...
  Finished next = run(run_under_lock("links", scripted({"exit", "0"}), {"--timeout", "0"}));
  EXPECT_EQ(next.status, ExitStatus::exited(0)) << next.err;
  // ...and each says, when it ends, that its hold was taken from it.
  for (LiveHolder* holder : {&first, &second}) {
    std::string err;
    EXPECT_EQ(holder->release(&err), ExitStatus::exited(0));
    EXPECT_NE(err.find("buildlock: warning: lock `" + lock_path("links") + "+slot."),
              std::string::npos)
        << err;
    EXPECT_NE(err.find("was removed or replaced by someone else"), std::string::npos) << err;
  }
}

TEST_F(SharedLocks, BreakRemovesADeadGroupWithoutForce) {
  craft_lock("cache", as_shared(dead_holder()));
  craft_member("cache.lock+shared.0123456789abcdef", as_shared(dead_holder()), false);
  craft_member("cache.lock+shared.fedcba9876543210", as_shared(dead_holder()), false);
  Finished finished = run(manage("break", {"cache"}));
  EXPECT_EQ(finished.status, ExitStatus::exited(0)) << finished.err;
  EXPECT_TRUE(is_one_line_per_file(finished.err, 3));
  EXPECT_TRUE(finished.err.starts_with("buildlock: removed stale shared lock `cache`: no member "
                                       "holds it any more (an empty group"))
      << finished.err;
  EXPECT_EQ(count_occurrences(finished.err, "buildlock: removed stale shared holder file "
                                            "`cache.lock+shared."),
            2u)
      << finished.err;
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{});
}

TEST_F(SharedLocks, BreakRemovesHolderFilesWhoseLockFileIsGone) {
  craft_member("links.lock+slot.2", as_slots(dead_holder(), 2), false);
  EXPECT_EQ(object_for(status_json(), "links")["state"], "free");
  Finished finished = run(manage("break", {"links"}));
  EXPECT_EQ(finished.status, ExitStatus::exited(0)) << finished.err;
  EXPECT_TRUE(finished.err.starts_with(
      "buildlock: removed stale slot 2 holder file `links.lock+slot.2` of pid "))
      << finished.err;
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{});
}

TEST_F(SharedLocks, BreakTouchesNothingWhenAHolderFileIsNotALockFile) {
  craft_lock("cache", as_shared(dead_holder()));
  ASSERT_EQ(::mkdir(holder_path("cache", "+writer").c_str(), 0755), 0);
  Finished finished = run(manage("break", {"--force", "cache"}));
  EXPECT_EQ(finished.status, ExitStatus::exited(74)) << finished.err;
  EXPECT_TRUE(finished.err.starts_with("buildlock: error: cannot break lock `cache`: "
                                       "`cache.lock+writer` is a directory"))
      << finished.err;
  EXPECT_EQ(directory_entries(lock_dir),
            (std::vector<std::string>{"cache.lock", "cache.lock+writer"}));
}

// A directory that can be searched but not listed still lets commands reach locks by name, as
// before holder files existed; they say that holder files cannot be seen there.
TEST_F(SharedLocks, NamedLocksInADirectoryThatCannotBeListedAreStillJudged) {
  craft_lock("dead", dead_holder());
  craft_lock("also-dead", dead_holder());
  ModeRestorer traversable(temp.path(), 0755);
  // Everyone may enter and write (to remove a lock), nobody may list.
  ModeRestorer unlistable(lock_dir, 0333);
  Finished status = run(as_unprivileged_user(manage("status", {"--json", "dead"})));
  EXPECT_EQ(status.status, ExitStatus::exited(0)) << status.err;
  const json array = json::parse(status.out, nullptr, false);
  ASSERT_TRUE(array.is_array() && array.size() == 1u) << status.out;
  EXPECT_EQ(array[0]["state"], "stale");
  EXPECT_TRUE(is_one_line_per_file(status.err, 1));
  EXPECT_TRUE(status.err.starts_with("buildlock: warning: cannot list")) << status.err;
  EXPECT_NE(status.err.find("holder files of shared and slotted locks are not shown"),
            std::string::npos)
      << status.err;

  Finished broken = run(as_unprivileged_user(manage("break", {"dead"})));
  EXPECT_EQ(broken.status, ExitStatus::exited(0)) << broken.err;
  EXPECT_TRUE(is_one_line_per_file(broken.err, 2));
  EXPECT_NE(broken.err.find("only `dead.lock` is judged"), std::string::npos) << broken.err;
  EXPECT_NE(broken.err.find("buildlock: removed stale lock `dead`"), std::string::npos)
      << broken.err;
  EXPECT_FALSE(exists_no_follow(lock_path("dead")));
  EXPECT_TRUE(exists_no_follow(lock_path("also-dead")));
}

// Without kernel locks the lock file of a group is vouched for by its members' files; status,
// clean and break given the same --kernel-locks judge it that way too.
TEST_F(SharedLocks, WithoutKernelLocksTheGroupIsJudgedByItsMembers) {
  LiveHolder member = hold("cache", {"--shared", "--kernel-locks", "off"});
  const json lock = object_for(status_json({"--kernel-locks", "off"}), "cache");
  expect_lock_schema(lock);
  EXPECT_EQ(lock["state"], "held");
  EXPECT_EQ(lock["reason"], "members-alive");
  EXPECT_EQ(lock["judged_by"], "members");
  ASSERT_EQ(lock["holders"].size(), 1u) << lock.dump(2);
  EXPECT_EQ(lock["holders"][0]["pid"], member.pid());
  EXPECT_EQ(lock["holders"][0]["reason"], "pid-alive");

  Finished refused = run(manage("break", {"--kernel-locks", "off", "cache"}));
  EXPECT_EQ(refused.status, ExitStatus::exited(75)) << refused.err;
  EXPECT_TRUE(
      refused.err.starts_with("buildlock: error: lock `cache` is held by shared holder pid " +
                              std::to_string(member.pid())))
      << refused.err;
  Finished cleaned = run(manage("clean", {"--kernel-locks", "off"}));
  EXPECT_EQ(cleaned.status, ExitStatus::exited(0)) << cleaned.err;
  EXPECT_EQ(cleaned.out, "");
  std::string err;
  EXPECT_EQ(member.release(&err), ExitStatus::exited(0));
  EXPECT_EQ(err, "");
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{});
}

// Members join and leave groups over and over while `clean` runs again and again: eight
// `--slots 1` contenders in a critical section that detects overlaps, and four `--shared` ones on
// another lock. Dead members' files crafted beside them prove that clean does remove meanwhile.
TEST_F(SharedLocks, CleanRacingWithJoiningAndLeavingMembersRemovesNothingHeld) {
  constexpr int acquisitions_each = 15;
  make_lock_dir();
  const std::string work = temp / "work";
  ASSERT_EQ(::mkdir(work.c_str(), 0755), 0);
  const std::string log = temp / "log";
  std::set<std::int64_t> dead_pids;
  auto craft_dead = [&](const std::string& file_name, const HolderMetadata& metadata) {
    dead_pids.insert(metadata.pid);
    write_lock_file(lock_dir + "/" + file_name, to_json(metadata));
  };
  craft_dead("slotted.lock+slot.1", as_slots(dead_holder(), 1));
  craft_dead("readers.lock+shared.0123456789abcdef", as_shared(dead_holder()));
  for (int i = 0; i < 10; ++i) {
    craft_dead("orphan-" + std::to_string(i) + ".lock+slot.1", as_slots(dead_holder(), 1));
  }

  const std::string loop = "i=0; while [ $i -lt " + std::to_string(acquisitions_each) +
                           " ]; do \"$@\" || exit $?; i=$((i+1)); done";
  auto contender = [&](const std::string& lock, std::vector<std::string> options,
                       std::vector<std::string> command) {
    std::vector<std::string> argv = {"sh", "-c", loop, "sh"};
    const Command buildlock_run = run_under_lock(lock, std::move(command), std::move(options));
    argv.insert(argv.end(), buildlock_run.argv().begin(), buildlock_run.argv().end());
    return program(std::move(argv)).start();
  };
  std::vector<Process> processes;
  processes.reserve(12);
  for (int i = 0; i < 8; ++i) {
    processes.push_back(
        contender("slotted", {"--quiet", "--slots", "1"}, {critical_section_binary(), work, log}));
  }
  for (int i = 0; i < 4; ++i) {
    processes.push_back(contender("readers", {"--quiet", "--shared"}, {"true"}));
  }
  auto any_running = [&] {
    bool running = false;
    for (Process& process : processes) {
      running = process.is_running() || running;
    }
    return running;
  };

  std::set<std::string> removed_holder_files;
  int cleans_during_race = 0;
  do {
    for (const json& object : json_from(manage("clean", {"--json"}))) {
      EXPECT_EQ(object["action"], "removed");
      if (object["kind"] != "lock") {
        // A live member's own file is never stale: only the crafted ones may go.
        EXPECT_EQ(dead_pids.count(object["pid"].get<std::int64_t>()), 1u)
            << "removed a live member's file: " << object.dump(2);
        removed_holder_files.insert(object["path"].get<std::string>());
      } else {
        // A group's lock file goes only as an empty group (a leaving member may leave one
        // behind when it finds `clean` looking at it).
        EXPECT_EQ(object["state"], "stale") << object.dump(2);
      }
    }
    cleans_during_race += any_running() ? 1 : 0;
  } while (any_running());
  EXPECT_GE(cleans_during_race, 1);

  for (Process& process : processes) {
    EXPECT_EQ(process.wait(30s), ExitStatus::exited(0)) << process.stderr_text();
    // A member warns when its file was removed under it.
    EXPECT_EQ(process.stderr_text(), "") << process.description();
  }
  const std::string entries = read_file(log);
  EXPECT_EQ(lines_of(entries).size(), std::size_t{8} * acquisitions_each);
  EXPECT_EQ(count_occurrences(entries, "overlap"), 0u) << entries;
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(
        removed_holder_files.count(lock_dir + "/orphan-" + std::to_string(i) + ".lock+slot.1"), 1u)
        << i;
  }
  // Whatever a member left behind while `clean` looked at it is an empty group now.
  EXPECT_EQ(run(manage("clean", {"--quiet"})).status, ExitStatus::exited(0));
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{});
}

} // namespace
} // namespace buildlock::test

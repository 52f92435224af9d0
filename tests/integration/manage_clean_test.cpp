// `buildlock clean`: removes exactly the stale locks and left-over temporary files, with run's
// judgment; --dry-run removes nothing; held locks survive `clean` racing with eight acquirers.
#include "manage_test_support.h"
#include "support/waiting.h"

#include <gtest/gtest.h>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

namespace buildlock::test {
namespace {

using namespace std::chrono_literals;

class Clean : public ManageLocksTest {
protected:
  // A directory with one entry of each kind; `stale_entries` are the ones clean must remove.
  void populate() {
    make_lock_dir();
    craft_lock("dead", dead_holder());
    write_lock_file(lock_path("no-metadata-old"), "", WallClock::now() - 60s);
    write_lock_file(lock_dir + "/.dead.0123456789abcdef.tmp", to_json(dead_holder()));
    craft_lock("remote-expired", holder_on_other_host(), WallClock::now() - 60s);
    // Kept: held by their heartbeat, not regular files, not buildlock's, a temporary file still
    // being prepared (no metadata yet, young).
    craft_lock("remote-fresh", holder_on_other_host());
    write_lock_file(lock_path("no-metadata-young"), "");
    write_lock_file(lock_dir + "/.young.fedcba9876543210.tmp", "");
    ASSERT_EQ(::mkfifo(lock_path("fifo").c_str(), 0644), 0);
    ASSERT_EQ(::symlink(lock_path("dead").c_str(), lock_path("symlink").c_str()), 0);
    write_file(lock_dir + "/README", "not a lock");
  }

  const std::set<std::string> stale_entries = {"dead.lock", "no-metadata-old.lock",
                                               ".dead.0123456789abcdef.tmp", "remote-expired.lock"};

  std::vector<std::string> entries_without(const std::set<std::string>& removed) const {
    std::vector<std::string> left;
    for (const auto& name : directory_entries(lock_dir)) {
      if (removed.count(name) == 0) {
        left.push_back(name);
      }
    }
    return left;
  }

  static std::set<std::string> file_names_in(const json& array) {
    std::set<std::string> names;
    for (const json& object : array) {
      const std::string path = object["path"];
      names.insert(path.substr(path.rfind('/') + 1));
    }
    return names;
  }
};

TEST_F(Clean, DryRunListsEveryStaleEntryAndRemovesNothing) {
  populate();
  LiveHolder holder = hold("held");
  const auto before = directory_entries(lock_dir);
  const json array = json_from(manage("clean", {"--dry-run", "--json", "--stale-after", "30"}));
  EXPECT_EQ(file_names_in(array), stale_entries) << array.dump(2);
  for (const json& object : array) {
    expect_status_schema(object, {"action", "error"});
    EXPECT_EQ(object["state"], "stale");
    EXPECT_EQ(object["action"], "would-remove");
    EXPECT_TRUE(object["error"].is_null());
  }
  EXPECT_EQ(directory_entries(lock_dir), before);
  EXPECT_EQ(holder.release(), ExitStatus::exited(0));
}

TEST_F(Clean, RemovesExactlyTheStaleEntries) {
  populate();
  LiveHolder holder = hold("held");
  const auto held_mtime = mtime_of(lock_path("held"));
  const auto expected_left = entries_without(stale_entries);
  const json array = json_from(manage("clean", {"--json", "--stale-after", "30"}));
  EXPECT_EQ(file_names_in(array), stale_entries) << array.dump(2);
  for (const json& object : array) {
    expect_status_schema(object, {"action", "error"});
    EXPECT_EQ(object["action"], "removed");
  }
  EXPECT_EQ(directory_entries(lock_dir), expected_left);
  const json& temp_file = array[0]; // sorted by file name: the hidden temporary file first
  EXPECT_EQ(temp_file["kind"], "temp");
  EXPECT_EQ(temp_file["name"], "dead");
  EXPECT_EQ(temp_file["reason"], "holder-dead");
  // The live holder's lock is untouched and its holder releases it without a warning.
  EXPECT_EQ(mtime_of(lock_path("held")), held_mtime);
  std::string err;
  EXPECT_EQ(holder.release(&err), ExitStatus::exited(0));
  EXPECT_EQ(err, "");
}

TEST_F(Clean, TableListsWhatWasRemoved) {
  craft_lock("dead", dead_holder());
  Finished finished = run(manage("clean"));
  EXPECT_EQ(finished.status, ExitStatus::exited(0)) << finished.err;
  const auto lines = lines_of(finished.out);
  ASSERT_EQ(lines.size(), 2u) << finished.out;
  EXPECT_TRUE(lines[0].starts_with("ACTION   ENTRY ")) << lines[0];
  EXPECT_TRUE(lines[1].starts_with("removed  dead.lock ")) << lines[1];
  EXPECT_NE(lines[1].find("[holder-dead]"), std::string::npos) << lines[1];
  EXPECT_FALSE(exists_no_follow(lock_path("dead")));
}

TEST_F(Clean, DryRunTableSaysWouldRemove) {
  craft_lock("dead", dead_holder());
  Finished finished = run(manage("clean", {"-n"}));
  EXPECT_EQ(finished.status, ExitStatus::exited(0)) << finished.err;
  const auto lines = lines_of(finished.out);
  ASSERT_EQ(lines.size(), 2u) << finished.out;
  EXPECT_TRUE(lines[1].starts_with("would remove  dead.lock ")) << lines[1];
  EXPECT_TRUE(exists_no_follow(lock_path("dead")));
}

TEST_F(Clean, NothingToCleanPrintsNothingOnStdout) {
  LiveHolder holder = hold("held");
  Finished finished = run(manage("clean"));
  EXPECT_EQ(finished.status, ExitStatus::exited(0)) << finished.err;
  EXPECT_EQ(finished.out, "");
  EXPECT_EQ(finished.err, "buildlock: nothing to clean in `" + lock_dir + "`\n");
  EXPECT_EQ(json_from(manage("clean", {"--json"})), json::array());
  EXPECT_TRUE(exists_no_follow(lock_path("held")));
  EXPECT_EQ(holder.release(), ExitStatus::exited(0));
}

TEST_F(Clean, VerboseSaysWhyEachEntryIsKept) {
  LiveHolder holder = hold("held");
  make_lock_dir();
  ASSERT_EQ(::mkfifo(lock_path("fifo").c_str(), 0644), 0);
  Finished finished = run(manage("clean", {"--verbose"}));
  EXPECT_EQ(finished.status, ExitStatus::exited(0)) << finished.err;
  EXPECT_NE(finished.err.find("buildlock: keeping `held.lock`: its kernel lock is held "
                              "[kernel-lock-held]\n"),
            std::string::npos)
      << finished.err;
  EXPECT_NE(finished.err.find("buildlock: keeping `fifo.lock`: "), std::string::npos)
      << finished.err;
  EXPECT_EQ(holder.release(), ExitStatus::exited(0));
}

TEST_F(Clean, MissingDirectoryIsNothingToClean) {
  EXPECT_EQ(json_from(manage("clean", {"--json"})), json::array());
  EXPECT_FALSE(exists_no_follow(lock_dir));
}

TEST_F(Clean, EntryThatCannotBeRemovedIsReportedAndExits74) {
  craft_lock("dead", dead_holder());
  craft_lock("also-dead", dead_holder());
  ModeRestorer traversable(temp.path(), 0755);
  ModeRestorer not_writable(lock_dir, 0555);
  Finished finished = run(as_unprivileged_user(manage("clean", {"--json"})));
  EXPECT_EQ(finished.status, ExitStatus::exited(74)) << finished.err;
  const json array = json::parse(finished.out, nullptr, false);
  ASSERT_TRUE(array.is_array() && array.size() == 2u) << finished.out;
  for (const json& object : array) {
    expect_status_schema(object, {"action", "error"});
    EXPECT_EQ(object["action"], "failed");
    EXPECT_NE(object["error"].get<std::string>().find("Permission denied"), std::string::npos);
  }
  // One error line per entry, and both entries were tried.
  EXPECT_EQ(count_occurrences(finished.err, "buildlock: error: cannot remove stale"), 2u)
      << finished.err;
  EXPECT_EQ(directory_entries(lock_dir), (std::vector<std::string>{"also-dead.lock", "dead.lock"}));
}

// Eight processes take the same lock over and over, each time running a critical section that
// detects overlaps, while `clean` runs again and again. Stale locks of other names, and one on
// the contended name, prove that clean does remove while the race goes on.
TEST_F(Clean, RacingWithEightAcquirersRemovesNothingHeld) {
  constexpr int acquirers = 8;
  constexpr int acquisitions_each = 20;
  make_lock_dir();
  const std::string work = temp / "work";
  ASSERT_EQ(::mkdir(work.c_str(), 0755), 0);
  const std::string log = temp / "log";
  std::set<std::int64_t> dead_pids;
  auto craft_orphan = [&](const std::string& name) {
    const HolderMetadata metadata = dead_holder();
    dead_pids.insert(metadata.pid);
    craft_lock(name, metadata);
  };
  craft_orphan("contended");
  for (int i = 0; i < 20; ++i) {
    craft_orphan("orphan-" + std::to_string(i));
  }

  const std::string loop = "i=0; while [ $i -lt " + std::to_string(acquisitions_each) +
                           " ]; do \"$@\" || exit $?; i=$((i+1)); done";
  std::vector<Process> processes;
  for (int i = 0; i < acquirers; ++i) {
    // --quiet: a contender that waits over a second under load prints a notice; warnings (a lock
    // removed under its holder) still show, and are what this test looks for.
    Command acquirer({"sh", "-c", loop, "sh", buildlock_binary(), "run", "--quiet", "--dir",
                      lock_dir, "contended", "--", critical_section_binary(), work, log});
    for (const char* variable : {"BUILDLOCK_DIR", "BUILDLOCK_STALE_AFTER", "BUILDLOCK_HELD"}) {
      acquirer.unset_env(variable);
    }
    processes.push_back(acquirer.start());
  }
  auto any_running = [&] {
    bool running = false;
    for (Process& process : processes) {
      running = process.is_running() || running;
    }
    return running;
  };

  std::set<std::string> removed;
  int cleans_during_race = 0;
  // At least once, and again and again until every acquirer is done.
  do {
    const json array = json_from(manage("clean", {"--json"}));
    for (const json& object : array) {
      EXPECT_EQ(object["action"], "removed");
      EXPECT_EQ(dead_pids.count(object["pid"].get<std::int64_t>()), 1u)
          << "removed a lock that was not a crafted orphan: " << object.dump(2);
      EXPECT_TRUE(removed.insert(object["name"]).second) << "removed twice: " << object.dump();
    }
    cleans_during_race += any_running() ? 1 : 0;
  } while (any_running());
  EXPECT_GE(cleans_during_race, 1);

  for (Process& process : processes) {
    EXPECT_EQ(process.wait(30s), ExitStatus::exited(0)) << process.stderr_text();
    // `run` warns when its lock was removed under it.
    EXPECT_EQ(process.stderr_text(), "") << process.description();
  }
  const auto lines = lines_of(read_file(log));
  EXPECT_EQ(lines.size(), std::size_t{acquirers} * acquisitions_each);
  EXPECT_EQ(count_occurrences(read_file(log), "overlap"), 0u) << read_file(log);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(removed.count("orphan-" + std::to_string(i)), 1u) << i;
  }
  // Clean or one of the acquirers reclaimed the stale contended lock; nothing is left.
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{});
}

} // namespace
} // namespace buildlock::test

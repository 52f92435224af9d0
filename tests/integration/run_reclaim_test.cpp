// Orphaned lock files that buildlock takes over on the spot (issue 2, scenarios 4, 5, 6, 7), and
// the ones it must leave alone. Each lock file is crafted as its holder would have left it; no
// process holds its kernel lock, so only the metadata and the file's age decide.
//
// "At once" is checked with --timeout 0: buildlock tries exactly once, so it either reclaims on
// its first look or exits 75.
#include "support/integration_test.h"
#include "support/lock_files.h"
#include "support/waiting.h"

#include <gtest/gtest.h>
#include <thread>
#include <unistd.h>

namespace buildlock::test {
namespace {

class RunReclaim : public IntegrationTest {
protected:
  void SetUp() override { make_lock_dir(); }

  // `buildlock run --verbose --timeout TIMEOUT OPTIONS... LOCK -- scripted_command notify 3`;
  // `ran` tells whether the command ran.
  Finished try_lock(const std::string& lock, const std::string& timeout,
                    std::vector<std::string> options, bool& ran) const {
    options.insert(options.begin(), {"--verbose", "--timeout", timeout});
    Pipe started;
    Command command = run_under_lock(lock, scripted({"notify", "3"}), std::move(options));
    command.pass_fd(3, started.write_fd());
    Finished finished = run(command);
    started.close_write();
    ran = started.read_to_end(5s).value_or("") == "n";
    return finished;
  }

  // Takes over the crafted lock on the first look, says why, and leaves nothing behind.
  void expect_reclaimed_at_once(const std::string& reason, std::vector<std::string> options = {}) {
    bool ran = false;
    Finished finished = try_lock("L", "0", std::move(options), ran);
    EXPECT_EQ(finished.status, ExitStatus::exited(0)) << finished.err;
    EXPECT_TRUE(ran) << "the command did not run";
    EXPECT_NE(finished.err.find("reclaimed stale lock `L`"), std::string::npos) << finished.err;
    EXPECT_NE(finished.err.find("[" + reason + "]"), std::string::npos) << finished.err;
    EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{});
  }

  // Refuses to take the crafted lock and leaves it byte for byte as it was. (A short wait rather
  // than --timeout 0, so that the verbose line with the reason code comes before giving up.)
  void expect_left_alone(const std::string& expected_reason,
                         std::vector<std::string> options = {}) {
    const std::string before = read_file(lock_path("L"));
    const auto mtime_before = mtime_of(lock_path("L"));
    bool ran = false;
    Finished finished = try_lock("L", "0.1", std::move(options), ran);
    EXPECT_EQ(finished.status, ExitStatus::exited(75)) << finished.err;
    EXPECT_FALSE(ran) << "the command ran although the lock is not stale";
    EXPECT_NE(finished.err.find("[" + expected_reason + "]"), std::string::npos) << finished.err;
    EXPECT_EQ(read_file(lock_path("L")), before);
    EXPECT_EQ(mtime_of(lock_path("L")), mtime_before);
  }
};

// Scenario 4.
TEST_F(RunReclaim, LockOfADeadPidIsReclaimedAtOnce) {
  HolderMetadata metadata = metadata_for_local_process(::getpid());
  metadata.pid = reaped_pid();
  write_lock_file(lock_path("L"), to_json(metadata));
  expect_reclaimed_at_once("holder-dead");
}

// Scenario 5: the pid is alive, but it is another process than the one that took the lock.
TEST_F(RunReclaim, LockOfAReusedPidIsReclaimedAtOnceWithoutHarmingThatProcess) {
  Pipe stop;
  Process bystander = Command(scripted({"wait", "4"})).pass_fd(4, stop.read_fd()).start();
  stop.close_read();
  HolderMetadata metadata = metadata_for_local_process(bystander.pid());
  ASSERT_TRUE(metadata.start_time.has_value());
  *metadata.start_time += 4242; // the lock's holder started at another moment
  write_lock_file(lock_path("L"), to_json(metadata));

  expect_reclaimed_at_once("pid-reused");
  EXPECT_TRUE(bystander.is_running()) << "buildlock harmed the process that reuses the pid";
  stop.write_byte();
  EXPECT_EQ(bystander.wait(10s), ExitStatus::exited(0));
}

// On one kernel the kernel lock is exact: a live process that does not hold it is no holder.
// Without kernel locks the pid is the only evidence: a live pid with the recorded start time
// keeps the lock (docs/shared-filesystems.md, "Kernel locks").
TEST_F(RunReclaim, LockNamingALiveProcessThatDoesNotHoldItIsReclaimedAtOnce) {
  // Also without kernel locks of our own: the holder says it keeps one, on our kernel, so its free
  // kernel lock is asked (docs/protocol.md, "Mixing kernel-lock settings").
  write_lock_file(lock_path("L"), to_json(metadata_for_local_process(::getpid())));
  expect_reclaimed_at_once("holder-exited");
}

// Scenario 6: this host, another boot, untouched since before this boot.
TEST_F(RunReclaim, LockFromAPreviousBootIsReclaimedAtOnce) {
  HolderMetadata metadata = metadata_for_local_process(::getpid());
  metadata.boot_id = other_boot_id();
  metadata.pid = 4242;
  metadata.start_time = 17;
  write_lock_file(lock_path("L"), to_json(metadata), boot_time() - std::chrono::minutes(10));
  expect_reclaimed_at_once("previous-boot");
}

// Another boot id, but refreshed since this boot: another machine with our host name holds it.
TEST_F(RunReclaim, LockFromAnotherBootRefreshedSinceThisBootIsLeftAlone) {
  HolderMetadata metadata = metadata_for_local_process(::getpid());
  metadata.boot_id = other_boot_id();
  write_lock_file(lock_path("L"), to_json(metadata), WallClock::now());
  expect_left_alone("heartbeat-fresh");
}

// Issue 13, finding 1: another machine with our host name (a VM cloned from our image) whose
// holder last refreshed before we booted, but within --stale-after. Our short uptime must not
// make it "previous boot": its holder may still be alive.
TEST_F(RunReclaim, LockOfANamesakeOlderThanOurUptimeButWithinStaleAfterIsLeftAlone) {
  HolderMetadata metadata = metadata_for_local_process(::getpid());
  metadata.boot_id = other_boot_id();
  metadata.pid = 4242;
  metadata.start_time = 17;
  const auto refreshed = boot_time() - std::chrono::minutes(10);
  write_lock_file(lock_path("L"), to_json(metadata), refreshed);
  // A limit that makes the namesake's heartbeat fresh: its age plus an hour.
  const auto limit =
      std::chrono::duration_cast<std::chrono::seconds>(WallClock::now() - refreshed + 1h);
  expect_left_alone("heartbeat-fresh", {"--stale-after", std::to_string(limit.count())});
}

// Issue 13, finding 10: a holder without kernel locks (`"kernel_lock": false`) on this kernel
// whose pid cannot be checked (beyond any pid this kernel hands out) used to be "alive" forever.
// It vouches for nothing, so the heartbeat decides: held while fresh, reclaimed once expired.
TEST_F(RunReclaim, LockWithoutKernelLockWhosePidCannotBeCheckedFallsToTheHeartbeat) {
  HolderMetadata metadata = metadata_for_local_process(::getpid());
  metadata.pid = std::int64_t{1} << 40;
  std::string json = to_json(metadata);
  json.insert(json.rfind('}'), R"(,"kernel_lock":false)");
  write_lock_file(lock_path("L"), json, WallClock::now() - std::chrono::seconds(5));
  expect_left_alone("heartbeat-fresh", {"--stale-after", "60"});
  expect_reclaimed_at_once("heartbeat-expired", {"--stale-after", "2"});
}

// Another host cannot be checked: its lock lives as long as it keeps refreshing.
TEST_F(RunReclaim, LockFromAnotherHostIsLeftAloneWhileFresh) {
  HolderMetadata metadata = metadata_for_local_process(::getpid());
  metadata.boot_id = other_boot_id();
  metadata.host = "some-other-host.example";
  write_lock_file(lock_path("L"), to_json(metadata), WallClock::now() - std::chrono::seconds(5));
  expect_left_alone("heartbeat-fresh", {"--stale-after", "60"});
}

TEST_F(RunReclaim, LockFromAnotherHostIsReclaimedOnceOlderThanStaleAfter) {
  HolderMetadata metadata = metadata_for_local_process(::getpid());
  metadata.boot_id = other_boot_id();
  metadata.host = "some-other-host.example";
  write_lock_file(lock_path("L"), to_json(metadata), WallClock::now() - std::chrono::seconds(5));
  expect_reclaimed_at_once("heartbeat-expired", {"--stale-after", "2"});
}

// The age rule never robs a live holder: it refreshes its lock file every --stale-after / 4.
TEST_F(RunReclaim, LiveHolderRefreshesItsLockFile) {
  auto holder = start_holding("L", {"--stale-after", "0.4"});
  const auto first = mtime_of(lock_path("L"));
  const auto deadline = Clock::now() + 5s;
  while (mtime_of(lock_path("L")) == first && Clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_GT(mtime_of(lock_path("L")), first) << "the holder did not refresh its lock file";
  holder->let_go();
  EXPECT_EQ(holder->process->wait(10s), ExitStatus::exited(0));
}

// Scenario 7: lock files without usable metadata, each kind a broken writer could leave.
struct Garbage {
  std::string name;
  std::string bytes;
};

void PrintTo(const Garbage& garbage, std::ostream* out) {
  *out << garbage.name << " (" << garbage.bytes.size() << " bytes)";
}

std::vector<Garbage> garbage_kinds() {
  const std::string valid = to_json(metadata_for_local_process(::getpid()));
  std::string binary;
  for (int i = 0; i < 512; ++i) {
    binary += static_cast<char>((i * 37) & 0xff);
  }
  std::string wrong_types = valid;
  const std::string pid_field = "\"pid\":" + std::to_string(::getpid());
  wrong_types.replace(wrong_types.find(pid_field), pid_field.size(),
                      "\"pid\":\"" + std::to_string(::getpid()) + "\"");
  std::string future = valid;
  future.replace(future.find("\"version\":1"), 11, "\"version\":99");
  // Valid metadata naming this live process, padded past the size limit: if buildlock read it
  // anyway, it would judge the lock by the pid (stale at once) instead of by its age.
  HolderMetadata padded = metadata_for_local_process(::getpid());
  padded.command.assign(1, std::string(std::size_t{100} * 1024, 'x'));
  return {
      {"Empty", ""},
      {"Whitespace", " \n\t\n"},
      {"NotJson", "this is not json\n"},
      {"TruncatedJson", valid.substr(0, valid.size() / 2)},
      {"WrongTypes", wrong_types},
      {"NegativePid", "{\"format\":\"buildlock\",\"version\":1,\"pid\":-5,\"boot_id\":\"b\","
                      "\"host\":\"h\"}"},
      {"JsonArray", "[1, 2, 3]\n"},
      {"OtherFormat", "{\"format\":\"something-else\",\"version\":1}\n"},
      {"FutureVersion", future},
      {"Binary", binary},
      {"DeeplyNested", std::string(200000, '[')},
      {"HundredKilobytes", to_json(padded)},
  };
}

class RunReclaimGarbage : public RunReclaim, public ::testing::WithParamInterface<Garbage> {};

TEST_P(RunReclaimGarbage, OlderThanStaleAfterIsReclaimedAtOnce) {
  write_lock_file(lock_path("L"), GetParam().bytes, WallClock::now() - std::chrono::seconds(10));
  expect_reclaimed_at_once("no-metadata-expired", {"--stale-after", "2"});
}

TEST_P(RunReclaimGarbage, YoungerThanStaleAfterIsLeftAlone) {
  write_lock_file(lock_path("L"), GetParam().bytes, WallClock::now());
  expect_left_alone("no-metadata-recent", {"--stale-after", "60"});
}

INSTANTIATE_TEST_SUITE_P(Kinds, RunReclaimGarbage, ::testing::ValuesIn(garbage_kinds()),
                         [](const auto& param) { return param.param.name; });

// "Otherwise the waiter takes it within a second after it reaches that age": it looks again when
// the lock would expire, not at its next notice. All kinds at once, each under its own lock name,
// so that the whole test takes about one --stale-after. That is 2 s, past the one-second notice
// that wakes every waiter once anyway: a waiter that did not schedule its next look by the lock's
// age would then sleep until its next notice, 30 s later, and fail the 10 s wait for its command
// (no bound on the delay itself, which a loaded machine stretches: 2.4 s was seen).
TEST_F(RunReclaim, YoungLockWithoutMetadataIsTakenAtTheFirstLookPastStaleAfter) {
  constexpr auto stale_after = std::chrono::seconds(2);
  const auto kinds = garbage_kinds();
  struct Waiter {
    std::string lock;
    Pipe started;
    std::optional<Process> process;
  };
  std::vector<std::unique_ptr<Waiter>> waiters;
  const auto written_at = WallClock::now();
  for (const Garbage& kind : kinds) {
    auto waiter = std::make_unique<Waiter>();
    waiter->lock = "garbage-" + kind.name;
    write_lock_file(lock_path(waiter->lock), kind.bytes, written_at);
    Command command = run_under_lock(waiter->lock, scripted({"notify", "3"}),
                                     {"--verbose", "--stale-after", "2"});
    command.pass_fd(3, waiter->started.write_fd());
    waiter->process.emplace(command.start());
    waiter->started.close_write();
    waiters.push_back(std::move(waiter));
  }
  // Not before --stale-after on the test's clock, read after the fact (so only ever too long); at
  // the first look past it (every earlier look found the lock recent), whatever the delay.
  for (auto& waiter : waiters) {
    SCOPED_TRACE(waiter->lock);
    ASSERT_TRUE(waiter->started.receives_byte(10s)) << waiter->process->stderr_text();
    const auto age_when_taken = WallClock::now() - written_at;
    EXPECT_GE(age_when_taken, stale_after) << "taken before it reached --stale-after";
    EXPECT_EQ(waiter->process->wait(10s), ExitStatus::exited(0));
    const std::string err = waiter->process->stderr_text();
    const auto seen_age = age_seen_at_reclaim(err);
    ASSERT_TRUE(seen_age) << err;
    EXPECT_GE(*seen_age, stale_after) << err;
    // (No recent look need come first: on a loaded machine a waiter's first look can come after
    // two seconds. Seen at a load of 40.)
    EXPECT_EQ(count_occurrences(err, "[no-metadata-expired]"), 1U) << err;
    EXPECT_EQ(looks_at_held_lock(err), count_occurrences(err, "[no-metadata-recent]")) << err;
  }
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{});
}

} // namespace
} // namespace buildlock::test

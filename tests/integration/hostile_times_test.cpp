// Hostile times (issue 8): an `acquired_at` in the future or not a time at all, and a lock file
// modification time in the future. `acquired_at` is for people only: it never decides, and a
// "held for" is never negative or absurd. The modification time is the heartbeat: on this kernel
// a free kernel lock decides before any age, so a future mtime cannot keep a dead holder's lock;
// a lock judged by its age alone (no usable metadata, another host) with an mtime in the future
// stays held until that time has passed plus --stale-after. That is the safe side (no second
// holder); `--timeout` ends the wait and `break --force` removes such a lock.
#include "hostile_test_support.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace buildlock::test {
namespace {

using std::chrono::hours;

constexpr auto one_year = hours(24 * 365);

struct HostileAcquiredAt {
  std::string label;
  std::string acquired_at;
  bool shown; // whether buildlock can show a "held for" (then 0: it lies in the future)
};

void PrintTo(const HostileAcquiredAt& value, std::ostream* out) {
  *out << value.label;
}

class HostileAcquiredAtTime : public HostileInputTest,
                              public ::testing::WithParamInterface<HostileAcquiredAt> {};

TEST_P(HostileAcquiredAtTime, NeverDecidesAndNeverShowsANegativeOrAbsurdDuration) {
  const HostileAcquiredAt& hostile = GetParam();
  HolderMetadata holder = dead_holder();
  holder.acquired_at = hostile.acquired_at;
  craft_lock("L", holder);
  // Held first: the test holds the kernel lock itself, as a live holder would.
  const int fd = ::open(lock_path("L").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  freeze_outside();

  const json held = status_json({"L"});
  ASSERT_EQ(held.size(), 1u) << held.dump(2);
  EXPECT_EQ(held[0]["state"], "held");
  EXPECT_EQ(held[0]["acquired_at"], hostile.acquired_at);
  if (hostile.shown) {
    EXPECT_EQ(held[0]["held_seconds"], 0.0) << held.dump(2);
  } else {
    EXPECT_TRUE(held[0]["held_seconds"].is_null()) << held.dump(2);
  }
  Finished timed_out = run(run_under_lock("L", scripted({}), {"--timeout", "0"}));
  EXPECT_EQ(timed_out.status, ExitStatus::exited(75)) << timed_out.err;
  EXPECT_TRUE(is_one_error_line(timed_out.err, "timed out after "));
  EXPECT_EQ(timed_out.err.find(", held for "),
            hostile.shown ? timed_out.err.find(", held for 0.0s") : std::string::npos)
      << timed_out.err;

  // Then dead: reclaimed at once, whatever acquired_at says.
  ::close(fd);
  Finished reclaimed = run(run_under_lock("L", scripted({})));
  EXPECT_EQ(reclaimed.status, ExitStatus::exited(0)) << reclaimed.err;
  EXPECT_NE(reclaimed.err.find("[holder-dead]"), std::string::npos) << reclaimed.err;
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{});
}

INSTANTIATE_TEST_SUITE_P(
    Times, HostileAcquiredAtTime,
    ::testing::Values(HostileAcquiredAt{"NextCentury", "2099-01-01T00:00:00.000Z", true},
                      // Past what int64 nanoseconds hold: not a time (it used to overflow).
                      HostileAcquiredAt{"YearThreeThousand", "3000-01-01T00:00:00.000Z", false},
                      HostileAcquiredAt{"YearOneThousand", "1000-01-01T00:00:00.000Z", false},
                      HostileAcquiredAt{"FieldsOutOfRange", "2026-13-45T99:99:99.999Z", false},
                      HostileAcquiredAt{"NotATime", "tomorrow", false}),
    [](const auto& param) { return param.param.label; });

class HostileModificationTime : public HostileInputTest {};

// On this kernel the free kernel lock decides first: the future heartbeat changes nothing.
TEST_F(HostileModificationTime, InTheFutureDoesNotKeepADeadHoldersLock) {
  craft_lock("L", dead_holder(), WallClock::now() + one_year);
  freeze_outside();
  const json status = status_json({"L"});
  ASSERT_EQ(status.size(), 1u) << status.dump(2);
  EXPECT_EQ(status[0]["state"], "stale");
  EXPECT_EQ(status[0]["reason"], "holder-dead");

  Finished reclaimed = run(run_under_lock("L", scripted({})));
  EXPECT_EQ(reclaimed.status, ExitStatus::exited(0)) << reclaimed.err;
  EXPECT_NE(reclaimed.err.find("[holder-dead]"), std::string::npos) << reclaimed.err;
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{});
}

class HostileModificationTimeJudgedByAge : public HostileInputTest,
                                           public ::testing::WithParamInterface<std::string> {
protected:
  void craft() {
    if (GetParam() == "WithoutMetadata") {
      make_lock_dir();
      write_lock_file(lock_path("L"), "garbage\n", WallClock::now() + one_year);
    } else {
      craft_lock("L", holder_on_other_host(), WallClock::now() + one_year);
    }
  }

  // `run --timeout 0` gives up (exit 75) without running its command, and `clean` keeps the lock.
  void expect_no_second_holder() {
    Pipe ran;
    Command command =
        run_under_lock("L", scripted({"notify", "3"}), {"--timeout", "0", "--stale-after", "1"});
    command.pass_fd(3, ran.write_fd());
    Finished timed_out = run(command);
    ran.close_write();
    EXPECT_EQ(timed_out.status, ExitStatus::exited(75)) << timed_out.err;
    EXPECT_TRUE(is_one_error_line(timed_out.err, "timed out after "));
    EXPECT_TRUE(ran.ends_without_data(5s)) << "the command ran";
    EXPECT_EQ(json_from(manage("clean", {"--json", "--stale-after", "1"})), json::array());
  }
};

// Judged by its age, a lock "refreshed" a year from now stays held (no age is negative; it is
// stale a year plus --stale-after from now): no second holder gets in, --timeout ends the wait
// with exit 75, `clean` keeps it, and only `break --force` removes it.
TEST_P(HostileModificationTimeJudgedByAge, StaysHeldUntilBrokenByHand) {
  craft();
  freeze_outside();

  const json status = status_json({"L", "--stale-after", "1"});
  ASSERT_EQ(status.size(), 1u) << status.dump(2);
  EXPECT_EQ(status[0]["state"], "held");
  EXPECT_EQ(status[0]["age_seconds"], 0.0) << status.dump(2);
  EXPECT_GT(status[0]["stale_in_seconds"].get<double>(), 364.0 * 24 * 3600) << status.dump(2);

  expect_no_second_holder();
  Finished refused = run(manage("break", {"--stale-after", "1", "L"}));
  EXPECT_EQ(refused.status, ExitStatus::exited(75)) << refused.err;
  EXPECT_TRUE(is_one_error_line(refused.err, "lock `L` is held by "));
  ASSERT_EQ(directory_entries(lock_dir), std::vector<std::string>{"L.lock"});

  Finished broken = run(manage("break", {"--force", "L"}));
  EXPECT_EQ(broken.status, ExitStatus::exited(0)) << broken.err;
  EXPECT_TRUE(broken.err.starts_with("buildlock: warning: broke lock `L`")) << broken.err;
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{});
}

// Issue 13, finding 10: past 2262 (where int64 nanoseconds end) the time used to wrap around to
// the distant past, and the lock was reclaimed at once. It must stay held like any future time.
TEST_P(HostileModificationTimeJudgedByAge, PastTheYear2262StaysHeldToo) {
  craft();
  const timespec year_2400[2] = {{0, UTIME_OMIT}, {13'569'465'600, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, lock_path("L").c_str(), year_2400, 0), 0);
  freeze_outside();

  const json status = status_json({"L", "--stale-after", "1"});
  ASSERT_EQ(status.size(), 1u) << status.dump(2);
  EXPECT_EQ(status[0]["state"], "held") << status.dump(2);

  expect_no_second_holder();
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{"L.lock"});
}

INSTANTIATE_TEST_SUITE_P(Holders, HostileModificationTimeJudgedByAge,
                         ::testing::Values("WithoutMetadata", "OnAnotherHost"),
                         [](const auto& param) { return param.param; });

} // namespace
} // namespace buildlock::test

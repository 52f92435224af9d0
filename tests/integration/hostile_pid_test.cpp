// Hostile pids in lock metadata (issue 8): values that are not process ids (negative, 0, beyond
// 64 bits, fractional), values no process can have (past pid_t, past pid_max, 2^63-1), pid 1,
// and the pid of another user's process, for which kill(pid, 0) fails with EPERM: that means
// alive, never dead. buildlock never signals the recorded pid; it only asks whether it exists.
#include "hostile_test_support.h"
#include "support/skip_or_fail.h"

#include <gtest/gtest.h>
#include <limits>
#include <signal.h>

namespace buildlock::test {
namespace {

using std::chrono::hours;

// Lock metadata as a dead holder on this machine would write it, with `pid` replaced by `pid`
// as it appears in the JSON (any JSON number).
std::string metadata_with_pid(const json& pid) {
  json document = json::parse(to_json(metadata_for_local_process(reaped_pid())));
  document["pid"] = pid;
  return document.dump() + "\n";
}

struct HostilePid {
  std::string label;
  json pid;
  std::string problem; // how buildlock describes the metadata: "field `pid` ..."
};

void PrintTo(const HostilePid& value, std::ostream* out) {
  *out << value.label;
}

class PidThatIsNotAProcessId : public HostileInputTest,
                               public ::testing::WithParamInterface<HostilePid> {};

// The metadata is unusable, so the lock falls to the age rule, exactly like a lock without
// metadata: held while recent (here: --timeout 0 gives up), reclaimed once old.
TEST_P(PidThatIsNotAProcessId, MakesTheMetadataUnusableAndTheAgeDecides) {
  const HostilePid& hostile = GetParam();
  make_lock_dir();
  write_lock_file(lock_path("recent"), metadata_with_pid(hostile.pid));
  write_lock_file(lock_path("old"), metadata_with_pid(hostile.pid), WallClock::now() - hours(1));
  freeze_outside();

  Finished timed_out = run(run_under_lock("recent", scripted({}), {"--timeout", "0"}));
  EXPECT_EQ(timed_out.status, ExitStatus::exited(75)) << timed_out.err;
  EXPECT_TRUE(is_one_error_line(timed_out.err, "timed out after "));
  EXPECT_NE(timed_out.err.find("an unknown holder (metadata " + hostile.problem), std::string::npos)
      << timed_out.err;

  Finished reclaimed = run(run_under_lock("old", scripted({})));
  EXPECT_EQ(reclaimed.status, ExitStatus::exited(0)) << reclaimed.err;
  EXPECT_NE(reclaimed.err.find("[no-metadata-expired]"), std::string::npos) << reclaimed.err;
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{"recent.lock"});
}

INSTANTIATE_TEST_SUITE_P(
    Pids, PidThatIsNotAProcessId,
    ::testing::Values(
        HostilePid{"MinusOne", -1, "field `pid` is -1, not a process id"},
        HostilePid{"Zero", 0, "field `pid` is 0, not a process id"},
        HostilePid{"MostNegative", std::numeric_limits<std::int64_t>::min(),
                   "field `pid` is -9223372036854775808, not a process id"},
        // 2^64-1 does not fit the 64-bit signed pid; it is read as -1 and refused as such.
        HostilePid{"LargestUnsigned64", std::numeric_limits<std::uint64_t>::max(),
                   "field `pid` is "},
        HostilePid{"Fractional", 1e30, "field `pid` is missing or not an integer"}),
    [](const auto& param) { return param.param.label; });

class PidThatNoProcessCanHave : public HostileInputTest,
                                public ::testing::WithParamInterface<HostilePid> {};

// On this kernel a free kernel lock already proves that nobody holds the lock: it is reclaimed
// at once (no age needed), whatever the pid, and the pid only shapes the explanation.
TEST_P(PidThatNoProcessCanHave, IsReclaimedAtOnceOnThisKernel) {
  make_lock_dir();
  write_lock_file(lock_path("L"), metadata_with_pid(GetParam().pid));
  freeze_outside();

  const json status = status_json({"L"});
  ASSERT_EQ(status.size(), 1u) << status.dump(2);
  EXPECT_EQ(status[0]["state"], "stale");
  EXPECT_EQ(status[0]["judged_by"], "kernel lock");
  EXPECT_TRUE(status[0]["metadata_error"].is_null()) << status[0]["metadata_error"];

  Finished reclaimed = run(run_under_lock("L", scripted({})));
  EXPECT_EQ(reclaimed.status, ExitStatus::exited(0)) << reclaimed.err;
  EXPECT_EQ(lines_of(reclaimed.err).size(), 1u) << reclaimed.err;
  EXPECT_TRUE(reclaimed.err.starts_with("buildlock: reclaimed stale lock `L` of pid " +
                                        GetParam().pid.dump() + " "))
      << reclaimed.err;
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{});
}

std::int64_t pid_max() {
  return std::stoll(read_file("/proc/sys/kernel/pid_max"));
}

INSTANTIATE_TEST_SUITE_P(
    Pids, PidThatNoProcessCanHave,
    ::testing::Values(HostilePid{"PastPidMax", pid_max() + 1, ""},
                      HostilePid{"PastPidT", std::int64_t{std::numeric_limits<pid_t>::max()} + 1,
                                 ""},
                      HostilePid{"LargestSigned64", std::numeric_limits<std::int64_t>::max(), ""}),
    [](const auto& param) { return param.param.label; });

class HostilePidHolder : public HostileInputTest {};

// Pid 1 always runs. A lock naming it is still reclaimed at once when its kernel lock is free
// (`holder-exited`, or `pid-reused` when the start time differs), and pid 1 is left alone.
TEST_F(HostilePidHolder, PidOneIsAliveButDoesNotKeepALockItDoesNotHold) {
  const auto init_start_time = process_start_time(1);
  ASSERT_TRUE(init_start_time.has_value());
  make_lock_dir();
  HolderMetadata same = metadata_for_local_process(1);
  HolderMetadata reused = same;
  reused.start_time = *init_start_time + 1;
  write_lock_file(lock_path("same"), to_json(same));
  write_lock_file(lock_path("reused"), to_json(reused));
  freeze_outside();

  const json status = status_json();
  EXPECT_EQ(object_for(status, "same")["reason"], "holder-exited");
  EXPECT_EQ(object_for(status, "reused")["reason"], "pid-reused");
  for (const char* lock : {"same", "reused"}) {
    Finished reclaimed = run(run_under_lock(lock, scripted({})));
    EXPECT_EQ(reclaimed.status, ExitStatus::exited(0)) << reclaimed.err;
    EXPECT_TRUE(reclaimed.err.starts_with(std::string("buildlock: reclaimed stale lock `") + lock +
                                          "` of pid 1 "))
        << reclaimed.err;
  }
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{});
  EXPECT_EQ(process_start_time(1), init_start_time) << "pid 1 was restarted";
}

// The recorded holder is a process of another user: kill(pid, 0) fails with EPERM for
// buildlock. That process exists, so the lock is explained as `holder-exited` (it runs but holds
// no kernel lock) or `pid-reused`, never as `holder-dead`; and the process is not disturbed.
TEST_F(HostilePidHolder, AnotherUsersProcessIsAliveNotDead) {
  if (const std::string why = why_not_root("the holder must belong to a user other than the one "
                                           "buildlock runs as (buildlock then runs as uid 65534)");
      !why.empty()) {
    SKIP_OR_FAIL_IN_CI(why);
  }
  Pipe release;
  Command sleeper(scripted({"wait", "3"}));
  sleeper.pass_fd(3, release.read_fd());
  Process holder = sleeper.start();
  release.close_read();

  // The premise: for the unprivileged user, the holder's pid answers EPERM.
  Finished probe =
      run(as_unprivileged_user(program({"sh", "-c", "kill -0 " + std::to_string(holder.pid())})));
  EXPECT_EQ(probe.status, ExitStatus::exited(1));
  ASSERT_NE(probe.err.find("Operation not permitted"), std::string::npos) << probe.err;

  give_lock_dir_to_unprivileged_user();
  HolderMetadata same = metadata_for_local_process(holder.pid());
  HolderMetadata reused = same;
  reused.start_time = same.start_time.value_or(0) + 1;
  write_lock_file(lock_path("same"), to_json(same));
  write_lock_file(lock_path("reused"), to_json(reused));
  freeze_outside();

  Finished status = run(as_unprivileged_user(manage("status", {"--json"})));
  EXPECT_EQ(status.status, ExitStatus::exited(0)) << status.err;
  const json array = json::parse(status.out, nullptr, false);
  ASSERT_TRUE(array.is_array()) << status.out;
  EXPECT_EQ(object_for(array, "same")["reason"], "holder-exited");
  EXPECT_EQ(object_for(array, "reused")["reason"], "pid-reused");

  for (const auto& [lock, reason] :
       {std::pair{"same", "[holder-exited]"}, std::pair{"reused", "[pid-reused]"}}) {
    Finished reclaimed = run(as_unprivileged_user(run_under_lock(lock, scripted({}))));
    EXPECT_EQ(reclaimed.status, ExitStatus::exited(0)) << reclaimed.err;
    EXPECT_NE(reclaimed.err.find(reason), std::string::npos) << reclaimed.err;
  }
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{});

  EXPECT_TRUE(holder.is_running()) << "the other user's process was disturbed";
  release.write_byte();
  EXPECT_EQ(holder.wait(10s), ExitStatus::exited(0));
}

} // namespace
} // namespace buildlock::test

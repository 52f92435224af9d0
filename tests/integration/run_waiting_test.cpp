// Waiting for a live holder and taking over from a dead one (issue 2, scenarios 1, 2, 3, 11), and
// what the waiter says meanwhile. Latencies are measured on the steady clock around real events:
// the test lets the holder's command end, and the waiter's command reports through a pipe.
// These tests run serially (RUN_SERIAL) so that the measured latencies are buildlock's own.
#include "support/integration_test.h"
#include "support/lock_files.h"
#include "support/waiting.h"

#include <csignal>
#include <gtest/gtest.h>

namespace buildlock::test {
namespace {

// The issue asks for "a few milliseconds" (handoff) and "well under 100 ms" (reclaim). The
// bounds leave room for a loaded two-core machine while still failing for any polling loop.
// Without kernel locks a waiter does poll (10 ms doubling to 250 ms, docs/shared-filesystems.md):
// a release is then noticed within one poll interval, and the bound is that interval plus the
// same kind of margin. A reclaim by a newcomer involves no waiting, so its bound is the same.
const auto handoff_bound = kernel_locks_off() ? longest_poll_interval + 100ms : 50ms;
constexpr auto reclaim_bound = 100ms;

class RunWaiting : public IntegrationTest {
protected:
  // A waiter whose command notifies on `started` the moment it runs.
  Process start_waiter(Pipe& started, std::vector<std::string> options = {"--verbose"}) const {
    Command command = run_under_lock("L", scripted({"notify", "3"}), std::move(options));
    command.pass_fd(3, started.write_fd());
    Process waiter = command.start();
    started.close_write();
    return waiter;
  }

  // Waits until `waiter` (run with --verbose) has seen the lock held and sleeps in the kernel on
  // the holder's lock, seen blocked in flock(2) (without kernel locks: is about to poll again
  // after checking its pid).
  ::testing::AssertionResult is_blocked_on_holder(const Process& waiter) const {
    auto seen_held =
        file_eventually_contains(waiter.stderr_path(), "[" + live_holder_reason() + "]", 10s);
    if (!seen_held || kernel_locks_off()) {
      return seen_held;
    }
    return is_asleep_in_flock(waiter.pid(), 1, 10s);
  }
};

// Scenario 1: the kernel wakes the waiter: it is seen asleep in flock(2) before the release (the
// proof that it does not poll), and starts within milliseconds (without kernel locks: it polls,
// and starts within one poll interval).
TEST_F(RunWaiting, WaiterStartsWithinMillisecondsOfTheHoldersRelease) {
  constexpr int rounds = 7;
  std::vector<Clock::duration> handoffs;
  for (int round = 0; round < rounds; ++round) {
    auto holder = start_holding("L");
    Pipe waiter_started;
    Process waiter = start_waiter(waiter_started);
    ASSERT_TRUE(is_blocked_on_holder(waiter));
    ASSERT_TRUE(waiter.is_running());

    const auto released_at = Clock::now();
    holder->let_go();
    ASSERT_TRUE(waiter_started.receives_byte(10s)) << waiter.stderr_text();
    handoffs.push_back(waiter_started.last_byte_time() - released_at);

    EXPECT_EQ(holder->process->wait(10s), ExitStatus::exited(0));
    EXPECT_EQ(waiter.wait(10s), ExitStatus::exited(0)) << waiter.stderr_text();
  }
  report_measurement("median handoff", median(handoffs));
  EXPECT_LT(median(handoffs), handoff_bound)
      << "median of " << rounds << " handoffs: " << to_ms(median(handoffs)) << " ms";
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{});
}

// Scenario 2: buildlock and its command both killed: the orphaned lock is taken over at once.
// (The command runs in a process group of its own, so both groups are killed, as `kill -9` of a
// whole job would.)
TEST_F(RunWaiting, LockOfKilledHolderAndCommandIsTakenOverAtOnce) {
  constexpr int rounds = 3;
  std::vector<Clock::duration> takeovers;
  for (int round = 0; round < rounds; ++round) {
    auto holder = start_holding("L", {}, {}, [](Command& c) { c.own_process_group(); });
    kill_job_with_sigkill(*holder->process);
    EXPECT_EQ(holder->process->wait(10s), ExitStatus::killed_by(SIGKILL));
    // End-of-file on the command's pipe: the command is dead too (it held the write end).
    ASSERT_EQ(holder->started.read_to_end(10s), std::string());
    ASSERT_TRUE(exists_no_follow(lock_path("L"))) << "the kill left no lock file to take over";

    Pipe started;
    Process next = start_waiter(started);
    ASSERT_TRUE(started.receives_byte(10s)) << next.stderr_text();
    takeovers.push_back(started.last_byte_time() - next.started_at());
    EXPECT_EQ(next.wait(10s), ExitStatus::exited(0));
    const std::string err = next.stderr_text();
    EXPECT_NE(err.find("reclaimed stale lock `L`"), std::string::npos) << err;
    EXPECT_NE(err.find("pid " + std::to_string(holder->pid())), std::string::npos) << err;
    EXPECT_NE(err.find("[holder-dead]"), std::string::npos) << err;
  }
  report_measurement("median takeover", median(takeovers));
  EXPECT_LT(median(takeovers), reclaim_bound)
      << "median from starting buildlock to its command running: " << to_ms(median(takeovers))
      << " ms";
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{});
}

// Scenario 3: buildlock killed, its command still running: the lock stays held until the
// command ends, then is free at once. With kernel locks the command keeps the inherited kernel
// lock; without, observers find the command by the lock it carries in BUILDLOCK_HELD
// (`command-alive`), and the waiter polls.
TEST_F(RunWaiting, CommandOfKilledBuildlockKeepsTheLockUntilItEnds) {
  auto holder = start_holding("L");
  holder->process->send_signal(SIGKILL);
  EXPECT_EQ(holder->process->wait(10s), ExitStatus::killed_by(SIGKILL));

  Pipe probe_ran;
  Command probe = run_under_lock("L", scripted({"notify", "3"}), {"--timeout", "0"});
  probe.pass_fd(3, probe_ran.write_fd());
  Finished refused = run(probe);
  probe_ran.close_write();
  EXPECT_EQ(refused.status, ExitStatus::exited(75)) << refused.err;
  EXPECT_TRUE(probe_ran.ends_without_data(5s)) << "a second holder got in beside the command";

  Pipe started;
  Process waiter = start_waiter(started);
  ASSERT_TRUE(file_eventually_contains(
      waiter.stderr_path(), kernel_locks_off() ? "[command-alive]" : "[kernel-lock-held]", 10s))
      << waiter.stderr_text();
  const auto command_ended_at = Clock::now();
  holder->let_go();
  ASSERT_TRUE(started.receives_byte(10s)) << waiter.stderr_text();
  report_measurement("takeover after the command ended",
                     started.last_byte_time() - command_ended_at);
  const auto bound = kernel_locks_off() ? handoff_bound : reclaim_bound;
  EXPECT_LT(started.last_byte_time() - command_ended_at, bound)
      << to_ms(started.last_byte_time() - command_ended_at) << " ms";
  EXPECT_EQ(waiter.wait(10s), ExitStatus::exited(0));
  const std::string err = waiter.stderr_text();
  EXPECT_NE(err.find("reclaimed stale lock `L`"), std::string::npos) << err;
  EXPECT_NE(err.find("[holder-dead]"), std::string::npos) << err;
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{});
}

// A daemon the command leaves behind inherited the lock's descriptor. When buildlock releases,
// it must drop the kernel lock for every copy, or the daemon would keep waiters asleep
// (vcpkg #16476: a telemetry process kept the lock). Without kernel locks the daemon holds
// nothing either: the waiter gets in at its next poll.
TEST_F(RunWaiting, DaemonLeftBehindByTheCommandDoesNotKeepWaitersAsleep) {
  Pipe daemon_stop;
  // The holder's command, once let go, forks a daemon (which keeps every inherited descriptor)
  // and exits.
  auto holder = start_holding("L", {}, {"background", "wait", "6"},
                              [&](Command& c) { c.pass_fd(6, daemon_stop.read_fd()); });
  daemon_stop.close_read();
  Pipe started;
  Process waiter = start_waiter(started);
  ASSERT_TRUE(is_blocked_on_holder(waiter));

  const auto released_at = Clock::now();
  holder->let_go();
  ASSERT_TRUE(started.receives_byte(10s)) << "the daemon kept the waiter asleep";
  report_measurement("handoff with a daemon left behind", started.last_byte_time() - released_at);
  EXPECT_LT(started.last_byte_time() - released_at,
            kernel_locks_off() ? handoff_bound : reclaim_bound);
  EXPECT_EQ(holder->process->wait(10s), ExitStatus::exited(0));
  EXPECT_EQ(waiter.wait(10s), ExitStatus::exited(0));
  // The daemon was still there all along: it holds the write end of the holder's `started` pipe.
  EXPECT_EQ(holder->started.read_to_end(0ms), std::nullopt) << "the daemon ended too early";
  daemon_stop.write_byte();
  EXPECT_EQ(holder->started.read_to_end(10s), std::string());
}

// Scenario 11: --timeout 1 against a live holder.
TEST_F(RunWaiting, TimeoutExpiresWithStatus75AndNamesTheHolder) {
  auto holder = start_holding("L");
  Pipe ran;
  Command command = run_under_lock("L", scripted({"notify", "3"}), {"--timeout", "1"});
  command.pass_fd(3, ran.write_fd());
  Finished finished = run(command);
  ran.close_write();

  EXPECT_EQ(finished.status, ExitStatus::exited(75));
  EXPECT_GE(finished.run_time, 1000ms);
  EXPECT_LT(finished.run_time, 3000ms);
  EXPECT_TRUE(ran.ends_without_data(5s)) << "the command ran although the lock was held";
  const auto lines = lines_of(finished.err);
  ASSERT_FALSE(lines.empty());
  const std::string& error = lines.back();
  EXPECT_EQ(error.rfind("buildlock: error: ", 0), 0u) << finished.err;
  EXPECT_NE(error.find("pid " + std::to_string(holder->pid())), std::string::npos) << error;
  EXPECT_EQ(count_occurrences(finished.err, "buildlock: error:"), 1u) << finished.err;
  EXPECT_EQ(finished.out, "");

  // The holder was not disturbed.
  EXPECT_TRUE(holder->process->is_running());
  holder->let_go();
  EXPECT_EQ(holder->process->wait(10s), ExitStatus::exited(0));
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{});
}

TEST_F(RunWaiting, FractionalTimeoutIsHonoured) {
  auto holder = start_holding("L");
  Finished finished = run(run_under_lock("L", scripted({}), {"--timeout", "0.3"}));
  EXPECT_EQ(finished.status, ExitStatus::exited(75));
  EXPECT_GE(finished.run_time, 300ms);
  EXPECT_LT(finished.run_time, 900ms);
}

TEST_F(RunWaiting, TimeoutZeroTriesOnce) {
  auto holder = start_holding("L");
  Finished finished = run(run_under_lock("L", scripted({}), {"--timeout", "0"}));
  EXPECT_EQ(finished.status, ExitStatus::exited(75));
  EXPECT_LT(finished.run_time, 500ms);
}

TEST_F(RunWaiting, TimeoutComesFromTheEnvironmentUnlessGiven) {
  auto holder = start_holding("L");
  Command from_environment = run_under_lock("L", scripted({}));
  from_environment.env("BUILDLOCK_TIMEOUT", "0.2");
  Finished finished = run(from_environment);
  EXPECT_EQ(finished.status, ExitStatus::exited(75));
  EXPECT_GE(finished.run_time, 200ms);
  EXPECT_LT(finished.run_time, 800ms);

  Command option_wins = run_under_lock("L", scripted({}), {"--timeout", "0"});
  option_wins.env("BUILDLOCK_TIMEOUT", "30");
  Finished at_once = run(option_wins);
  EXPECT_EQ(at_once.status, ExitStatus::exited(75));
  EXPECT_LT(at_once.run_time, 500ms);
}

// "While waiting more than a second it says once on stderr who holds the lock."
TEST_F(RunWaiting, NoticeAfterOneSecondNamesLockHolderHostCommandAndDuration) {
  auto holder = start_holding("L");
  Pipe started;
  Process waiter = start_waiter(started, {});
  ASSERT_TRUE(file_eventually_contains(waiter.stderr_path(), "\n", 5s));
  const auto noticed_after = Clock::now() - waiter.started_at();
  EXPECT_GE(noticed_after, 1000ms) << "the notice came too early";
  EXPECT_LT(noticed_after, 3000ms);

  const std::string notice = waiter.stderr_text();
  EXPECT_EQ(notice.rfind("buildlock: waiting for lock `L`", 0), 0u) << notice;
  for (const std::string& expected :
       {"pid " + std::to_string(holder->pid()), "`" + this_host_name() + "`",
        std::string("scripted_command notify 3 wait 4"), std::string("held for ")}) {
    EXPECT_NE(notice.find(expected), std::string::npos) << "\"" << expected << "\" in " << notice;
  }
  holder->let_go();
  ASSERT_TRUE(started.receives_byte(10s));
  EXPECT_EQ(waiter.wait(10s), ExitStatus::exited(0));
  EXPECT_EQ(count_occurrences(waiter.stderr_text(), "waiting for lock"), 1u)
      << waiter.stderr_text();
  EXPECT_EQ(waiter.stdout_text(), "") << "the notice must go to stderr only";
}

TEST_F(RunWaiting, QuietWaitsSilently) {
  auto holder = start_holding("L");
  Finished finished = run(run_under_lock("L", scripted({}), {"--quiet", "--timeout", "1.5"}));
  EXPECT_EQ(finished.status, ExitStatus::exited(75));
  EXPECT_GE(finished.run_time, 1500ms) << "waited too short to prove the silence";
  // Only the timeout error: no notice although it waited past one second.
  EXPECT_EQ(lines_of(finished.err).size(), 1u) << finished.err;
  EXPECT_EQ(finished.err.rfind("buildlock: error: ", 0), 0u) << finished.err;
}

} // namespace
} // namespace buildlock::test

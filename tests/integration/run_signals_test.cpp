// Signals and exit statuses (issue 2, scenarios 8, 9, 10, 13): buildlock ends the way its
// command ended, passes the user's signals on, and never leaves a lock behind.
#include "support/integration_test.h"
#include "support/lock_files.h"
#include "support/pseudo_terminal.h"
#include "support/waiting.h"

#include <csignal>
#include <functional>
#include <gtest/gtest.h>
#include <sys/stat.h>

namespace buildlock::test {
namespace {

std::string signal_name(int number) {
  switch (number) {
  case SIGINT:
    return "SIGINT";
  case SIGTERM:
    return "SIGTERM";
  case SIGHUP:
    return "SIGHUP";
  case SIGKILL:
    return "SIGKILL";
  case SIGSEGV:
    return "SIGSEGV";
  case SIGABRT:
    return "SIGABRT";
  case SIGUSR1:
    return "SIGUSR1";
  case SIGQUIT:
    return "SIGQUIT";
  default:
    return "signal" + std::to_string(number);
  }
}

std::string signal_param_name(const ::testing::TestParamInfo<int>& param) {
  return signal_name(param.param);
}

// A command under buildlock that reports each signal it receives as a byte on `trapped`,
// notifies `started` once it runs, and, once `release` gets a byte, dies by `dies_by`.
struct TrappingCommand {
  Pipe started;
  Pipe release;
  Pipe trapped;
  std::optional<Process> process;
};

class RunSignals : public IntegrationTest {
protected:
  std::unique_ptr<TrappingCommand>
  start_trapping(const std::string& signal_text,
                 const std::function<void(Command&)>& configure = nullptr) const {
    auto job = std::make_unique<TrappingCommand>();
    Command command = run_under_lock("L", scripted({"trap", signal_text, "5", "notify", "3", "wait",
                                                    "4", "raise", signal_text}));
    command.pass_fd(3, job->started.write_fd())
        .pass_fd(4, job->release.read_fd())
        .pass_fd(5, job->trapped.write_fd());
    if (configure) {
      configure(command);
    }
    job->process.emplace(command.start());
    job->started.close_write();
    job->release.close_read();
    job->trapped.close_write();
    EXPECT_TRUE(job->started.receives_byte(10s)) << job->process->stderr_text();
    return job;
  }

  // The command got `signal`, buildlock waited for it (lock still held), then died the same way.
  void finish_and_expect_death_by(TrappingCommand& job, int signal) {
    ASSERT_TRUE(job.trapped.receives_byte(10s)) << "the command never got the signal";
    EXPECT_EQ(job.trapped.last_byte(), static_cast<char>(signal));
    EXPECT_TRUE(job.process->is_running()) << "buildlock did not wait for its command";
    expect_lock_held();
    job.release.write_byte();
    EXPECT_EQ(job.process->wait(10s), ExitStatus::killed_by(signal)) << job.process->stderr_text();
    expect_lock_free_without_reclaim();
  }
};

// Scenario 8, for real: Ctrl+C at a terminal. The kernel signals the whole foreground job, so
// the command gets SIGINT exactly once (buildlock must not send it a second one).
TEST_F(RunSignals, CtrlCAtTheTerminalStopsCommandThenBuildlockDiesBySigint) {
  PseudoTerminal terminal;
  auto job = start_trapping(
      "INT", [&](Command& command) { command.controlling_terminal(terminal.slave_path()); });
  terminal.press_ctrl_c();
  finish_and_expect_death_by(*job, SIGINT);
  EXPECT_EQ(job->trapped.read_to_end(10s), std::string())
      << "the command got SIGINT more than once";
}

// Scenario 8 as `kill -INT -PGID` does it (a process, not the kernel, signals the group, as
// ninja does on Ctrl+C): the command runs in a group of its own, so it gets SIGINT once, from
// buildlock.
TEST_F(RunSignals, SigintToTheWholeProcessGroupStopsCommandThenBuildlockDiesBySigint) {
  auto job = start_trapping("INT", [](Command& command) { command.own_process_group(); });
  job->process->signal_group(SIGINT);
  finish_and_expect_death_by(*job, SIGINT);
  EXPECT_EQ(job->trapped.read_to_end(10s), std::string())
      << "the command got SIGINT more than once";
}

class RunSignalToBuildlock : public RunSignals, public ::testing::WithParamInterface<int> {};

// Scenario 9: the signal goes to buildlock only; it passes it on and waits.
TEST_P(RunSignalToBuildlock, IsForwardedToTheCommandAndBuildlockDiesTheSameWay) {
  auto job = start_trapping(std::to_string(GetParam()));
  job->process->send_signal(GetParam());
  finish_and_expect_death_by(*job, GetParam());
}

// Scenario 9 with a command that does not catch the signal: it dies at once, and so does
// buildlock.
TEST_P(RunSignalToBuildlock, KillsACommandThatDoesNotCatchIt) {
  auto holding = start_holding("L");
  holding->process->send_signal(GetParam());
  EXPECT_EQ(holding->process->wait(10s), ExitStatus::killed_by(GetParam()))
      << holding->process->stderr_text();
  expect_lock_free_without_reclaim();
}

INSTANTIATE_TEST_SUITE_P(Signals, RunSignalToBuildlock, ::testing::Values(SIGINT, SIGTERM, SIGHUP),
                         signal_param_name);

// Scenario 10: a signal while buildlock only waits ends it promptly, by that signal; it leaves
// nothing behind and its command never runs. "Promptly" is the order of events, not a duration
// (issue 20): with kernel locks the signal comes past the waiter's one-second notice, when
// nothing else would wake it for 30 s, and it ends within the test's 10 s; and it never looks at
// the lock again after the signal (at most the look under way then, for a waiter that polls).
class RunSignalWhileWaiting : public RunSignals, public ::testing::WithParamInterface<int> {};

// (Without kernel locks the waiter polls the live holder's pid instead: the same must hold.)
TEST_P(RunSignalWhileWaiting, OnAHeldKernelLockEndsBuildlockPromptlyAndRunsNothing) {
  auto holder = start_holding("L");
  const std::string holder_lock = read_file(lock_path("L"));
  Pipe ran;
  Command command = run_under_lock("L", scripted({"notify", "3"}), {"--verbose"});
  command.pass_fd(3, ran.write_fd());
  Process waiter = command.start();
  ran.close_write();
  ASSERT_TRUE(
      file_eventually_contains(waiter.stderr_path(), "[" + live_holder_reason() + "]", 10s));
  ASSERT_TRUE(file_eventually_contains(waiter.stderr_path(), "waiting for lock", 10s));
  if (!kernel_locks_off()) {
    ASSERT_TRUE(is_asleep_in_flock(waiter.pid(), 1, 10s));
  }

  const std::size_t looks = looks_at_held_lock(waiter.stderr_text());
  waiter.send_signal(GetParam());
  EXPECT_EQ(waiter.wait(10s), ExitStatus::killed_by(GetParam())) << waiter.stderr_text();
  EXPECT_LE(looks_at_held_lock(waiter.stderr_text()), looks + (kernel_locks_off() ? 1 : 0))
      << "it looked at the lock again after the signal:\n"
      << waiter.stderr_text();
  EXPECT_TRUE(ran.ends_without_data(5s)) << "the command ran after all";
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{"L.lock"});
  EXPECT_EQ(read_file(lock_path("L")), holder_lock) << "the holder's lock file was changed";

  holder->let_go();
  EXPECT_EQ(holder->process->wait(10s), ExitStatus::exited(0));
  expect_lock_free_without_reclaim();
}

// Waiting on a lock judged by age is a sleep, not a kernel lock: signals must end it too, before
// its next look (one a second, which leaves no room for a duration to show more).
TEST_P(RunSignalWhileWaiting, OnALockJudgedByAgeEndsBuildlockBeforeItsNextLookAndRunsNothing) {
  make_lock_dir();
  write_lock_file(lock_path("L"), "garbage", WallClock::now());
  Pipe ran;
  Command command =
      run_under_lock("L", scripted({"notify", "3"}), {"--verbose", "--stale-after", "60"});
  command.pass_fd(3, ran.write_fd());
  Process waiter = command.start();
  ran.close_write();
  ASSERT_TRUE(file_eventually_contains(waiter.stderr_path(), "[no-metadata-recent]", 10s));

  const std::size_t looks = looks_at_held_lock(waiter.stderr_text());
  waiter.send_signal(GetParam());
  EXPECT_EQ(waiter.wait(10s), ExitStatus::killed_by(GetParam())) << waiter.stderr_text();
  EXPECT_LE(looks_at_held_lock(waiter.stderr_text()), looks + 1)
      << "it looked at the lock again after the signal:\n"
      << waiter.stderr_text();
  EXPECT_TRUE(ran.ends_without_data(5s)) << "the command ran after all";
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{"L.lock"});
  EXPECT_EQ(read_file(lock_path("L")), "garbage");
}

INSTANTIATE_TEST_SUITE_P(Signals, RunSignalWhileWaiting, ::testing::Values(SIGINT, SIGTERM, SIGHUP),
                         signal_param_name);

TEST_F(RunSignals, CtrlCWhileWaitingEndsBuildlockBySigint) {
  auto holder = start_holding("L");
  PseudoTerminal terminal;
  Pipe ran;
  Command command = run_under_lock("L", scripted({"notify", "3"}), {"--verbose"});
  command.pass_fd(3, ran.write_fd()).controlling_terminal(terminal.slave_path());
  Process waiter = command.start();
  ran.close_write();
  ASSERT_TRUE(
      file_eventually_contains(waiter.stderr_path(), "[" + live_holder_reason() + "]", 10s));
  terminal.press_ctrl_c();
  EXPECT_EQ(waiter.wait(5s), ExitStatus::killed_by(SIGINT)) << waiter.stderr_text();
  EXPECT_TRUE(ran.ends_without_data(5s)) << "the command ran after all";
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{"L.lock"});
}

// Scenario 13: exit statuses pass through exactly.
class RunExitStatus : public RunSignals, public ::testing::WithParamInterface<int> {};

TEST_P(RunExitStatus, PassesThroughAndReleasesTheLock) {
  Finished finished = run(run_under_lock("L", scripted({"exit", std::to_string(GetParam())})));
  EXPECT_EQ(finished.status, ExitStatus::exited(GetParam())) << finished.err;
  EXPECT_EQ(finished.err, "");
  expect_lock_free_without_reclaim();
}

INSTANTIATE_TEST_SUITE_P(Statuses, RunExitStatus, ::testing::Values(0, 1, 42, 126, 127, 255),
                         [](const auto& param) { return "exit" + std::to_string(param.param); });

// Scenario 13: a command killed by a signal makes buildlock die of the same signal (so shells
// and ninja see a signal death, not an exit status).
class RunSignalDeath : public RunSignals, public ::testing::WithParamInterface<int> {};

// Core dumps are allowed (the test's processes otherwise run with RLIMIT_CORE 0, under which the
// check below could never fail): the command may dump core, buildlock must not dump one of its
// own. The kernel's own record (WCOREDUMP) is checked, so it does not matter where core_pattern
// sends cores on this machine.
TEST_P(RunSignalDeath, PassesThroughAndReleasesTheLock) {
  const std::string cwd = temp / "cwd";
  ASSERT_EQ(::mkdir(cwd.c_str(), 0755), 0);
  Command command = run_under_lock("L", scripted({"raise", std::to_string(GetParam())}));
  Process buildlock = command.allow_core_dumps().working_directory(cwd).start();
  EXPECT_EQ(buildlock.wait(10s), ExitStatus::killed_by(GetParam())) << buildlock.stderr_text();
  EXPECT_FALSE(buildlock.dumped_core())
      << "buildlock dumped core when its command died of " << GetParam();
  expect_lock_free_without_reclaim();
  EXPECT_TRUE(directory_entries(temp.path()) ==
              std::vector<std::string>({"cwd", "locks", "output"}))
      << "debris appeared in " << temp.path();
}

// The check above can fail: under the same limits a process killed by SIGSEGV does dump core
// (a shell that kills itself; scripted_command's `raise` avoids dumping on purpose). Fails where
// the hard RLIMIT_CORE is 0 or core_pattern discards cores, since the check above would then
// prove nothing.
TEST_F(RunSignals, ACrashingProcessDumpsCoreUnderTheSameLimits) {
  const std::string cwd = temp / "cwd";
  ASSERT_EQ(::mkdir(cwd.c_str(), 0755), 0);
  Command command = program({"sh", "-c", "kill -SEGV $$"});
  Process crashing = command.allow_core_dumps().working_directory(cwd).start();
  EXPECT_EQ(crashing.wait(10s), ExitStatus::killed_by(SIGSEGV));
  EXPECT_TRUE(crashing.dumped_core())
      << "no core dump: see `ulimit -Hc` and /proc/sys/kernel/core_pattern ("
      << read_file("/proc/sys/kernel/core_pattern") << ")";
}

INSTANTIATE_TEST_SUITE_P(Signals, RunSignalDeath,
                         ::testing::Values(SIGTERM, SIGKILL, SIGSEGV, SIGABRT, SIGUSR1, SIGINT,
                                           SIGQUIT),
                         signal_param_name);

} // namespace
} // namespace buildlock::test

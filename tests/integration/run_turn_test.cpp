// A waiter that nothing can wake is not starved (issue 20, the large run's wedges). When the
// holder holds no kernel lock it can sleep on (`--kernel-locks off`, another host), a waiter
// polls. It used to lose every handoff to the holder's next run, which comes back within
// milliseconds (a build's wrapped steps, one after another), for as long as they kept coming. Now
// it takes its turn (`NAME.lock+writer`) after a second of waiting, and the next run waits for
// it. (A waiter of another host on this machine's filesystem cannot be shown here: it still sleeps
// on the kernel locks it shares.) Every setting is explicit: ordinary pass only.
#include "support/another_host.h"
#include "support/integration_test.h"
#include "support/lock_files.h"
#include "support/pipe.h"
#include "support/skip_or_fail.h"
#include "support/waiting.h"

#include <csignal>
#include <gtest/gtest.h>

namespace buildlock::test {
namespace {

using namespace std::chrono_literals;

const std::vector<std::string>& off = kernel_locks_off_setting;
const std::vector<std::string>& automatic = kernel_locks_auto_setting;

class RunTurn : public IntegrationTest {
protected:
  const std::string log = temp / "holds.log";
  const std::string stop = temp / "stop";

  // One script running `buildlock run OPTIONS L -- COMMAND` back to back until `stop` exists, as
  // a build runs its wrapped steps. Each hold is a tree (a shell and its `sleep`) that logs
  // whether somebody's turn was queued when it began, and writes a byte to `holding` (fd 3).
  Process start_steps(const std::vector<std::string>& options, Pipe& holding) const {
    const std::string turn = lock_path("L") + "+writer";
    std::vector<std::string> argv = {"sh", "-c", R"(while [ ! -e "$0" ]; do "$@" || exit $?; done)",
                                     stop, buildlock_binary()};
    for (auto& word :
         run_arguments("L",
                       {"sh", "-c",
                        R"(if [ -e "$0" ]; then echo step-behind-a-turn; else echo step; fi >>"$1"
                           echo x >&3; sleep 0.3)",
                        turn, log},
                       options)) {
      argv.push_back(std::move(word));
    }
    Process steps = program(argv).pass_fd(3, holding.write_fd()).start();
    holding.close_write();
    return steps;
  }

  // While the steps hold the lock one after another, a run with `waiter_prefix` and `options`
  // gets it within a few steps: those that began in its first second (a hold lasts 0.3 s, so
  // fewer than 5 can), and at most one more, which had passed its check when the turn appeared.
  // Before the turn, it waited for dozens of steps, until a gap between two happened to meet a
  // look.
  void expect_waiter_gets_its_turn(const std::vector<std::string>& steps_options,
                                   const std::vector<std::string>& waiter_prefix,
                                   const std::vector<std::string>& waiter_options) {
    Pipe holding;
    Process steps = start_steps(steps_options, holding);
    ASSERT_TRUE(holding.receives_byte(10s)) << steps.stderr_text();

    std::vector<std::string> argv = {"sh", "-c", R"(echo waiter-starts >>"$0"; exec "$@")", log};
    argv.insert(argv.end(), waiter_prefix.begin(), waiter_prefix.end());
    argv.push_back(buildlock_binary());
    for (auto& word : run_arguments("L", {"sh", "-c", R"(echo waiter >>"$0")", log},
                                    with({"--timeout", "40"}, waiter_options))) {
      argv.push_back(std::move(word));
    }
    Finished waiter = run(program(argv), 50s);
    write_file(stop, "");
    EXPECT_EQ(steps.wait(30s), ExitStatus::exited(0)) << steps.stderr_text();
    ASSERT_EQ(waiter.status, ExitStatus::exited(0)) << waiter.err;

    const std::string holds = read_file(log);
    std::size_t steps_while_waiting = 0;
    std::size_t behind_a_turn = 0;
    bool waiting = false;
    for (const std::string& hold : lines_of(holds)) {
      waiting = hold == "waiter-starts" || (waiting && hold != "waiter");
      if (waiting && hold != "waiter-starts") {
        ++steps_while_waiting;
      }
      behind_a_turn += hold == "step-behind-a-turn" ? 1 : 0;
    }
    EXPECT_LE(steps_while_waiting, 10U) << holds;
    EXPECT_LE(behind_a_turn, 1U) << holds;
    EXPECT_EQ(count_occurrences(holds, "waiter\n"), 1U) << holds;
    EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{}) << "leftovers";
  }
};

TEST_F(RunTurn, WaiterWithoutKernelLocksGetsInBetweenStepsWithout) {
  expect_waiter_gets_its_turn(off, {}, off);
}

// The waiter could sleep on a kernel lock, but the steps hold none: it polls like them.
TEST_F(RunTurn, WaiterWithKernelLocksGetsInBetweenStepsWithout) {
  expect_waiter_gets_its_turn(off, {}, automatic);
}

// A waiter killed while it holds its turn leaves `NAME.lock+writer` behind: the steps reclaim it
// (its holder's pid is gone) and go on, and the next waiter takes a turn of its own.
TEST_F(RunTurn, TurnOfAKilledWaiterIsReclaimedAndTheNextWaiterGetsItsOwn) {
  Pipe holding;
  Process steps = start_steps(off, holding);
  ASSERT_TRUE(holding.receives_byte(10s)) << steps.stderr_text();
  const std::string err = temp / "killed-waiter.err";
  std::vector<std::string> argv = {"sh", "-c", R"(exec "$@" 2>"$0")", err, buildlock_binary()};
  for (auto& word : run_arguments("L", {"true"}, with({"--verbose"}, off))) {
    argv.push_back(std::move(word));
  }
  Process killed = program(argv).start();
  ASSERT_TRUE(file_eventually_contains(err, "taking its turn", 20s));
  killed.send_signal(SIGKILL);
  EXPECT_EQ(killed.wait(10s), ExitStatus::killed_by(SIGKILL));
  const std::size_t before = count_occurrences(read_file(log), "step");
  ASSERT_TRUE(file_eventually_contains(log, "step", 20s, before + 2)) << steps.stderr_text();

  Finished next =
      run(run_under_lock("L", {"true"}, with({"--timeout", "40", "--verbose"}, off)), 50s);
  write_file(stop, "");
  EXPECT_EQ(steps.wait(30s), ExitStatus::exited(0)) << steps.stderr_text();
  EXPECT_EQ(next.status, ExitStatus::exited(0)) << next.err;
  EXPECT_NE((steps.stderr_text() + next.err).find("reclaimed stale exclusive request"),
            std::string::npos)
      << steps.stderr_text() << next.err;
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{}) << "leftovers";
}

} // namespace
} // namespace buildlock::test

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
#include <optional>

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

// A waiter that holds its turn, behind a holder without kernel locks that the test lets go only
// afterwards (so the turn is certain: the waiter has polled for a second). Returns once the turn
// exists: the waiter has looked at the lock again after saying it takes it, and the file is there.
class RunTurnOfAWaiter : public RunTurn {
protected:
  std::unique_ptr<Holding> holder;
  std::optional<Process> waiter;
  const std::string waiter_err = temp / "waiter.err";

  void start_waiter_with_its_turn() {
    holder = start_holding("L", off);
    std::vector<std::string> argv = {"sh", "-c", R"(exec "$@" 2>"$0")", waiter_err,
                                     buildlock_binary()};
    for (auto& word : run_arguments("L", {"sh", "-c", "exit 0"}, with({"--verbose"}, off))) {
      argv.push_back(std::move(word));
    }
    waiter.emplace(program(argv).start());
    ASSERT_TRUE(file_eventually_contains(waiter_err, "taking its turn", 20s));
    const std::size_t looks = looks_at_held_lock(read_file(waiter_err));
    ASSERT_TRUE(file_eventually_contains(waiter_err, " is held by ", 20s, looks + 1));
    ASSERT_TRUE(exists_no_follow(lock_path("L") + "+writer")) << read_file(waiter_err);
  }
};

// SIGKILL: the turn stays behind. The next run reclaims it (its holder's pid is gone) and gets the
// lock once the holder lets go.
TEST_F(RunTurnOfAWaiter, KilledWithSigkillLeavesATurnTheNextRunReclaims) {
  start_waiter_with_its_turn();
  if (HasFatalFailure()) {
    return;
  }
  waiter->send_signal(SIGKILL);
  EXPECT_EQ(waiter->wait(10s), ExitStatus::killed_by(SIGKILL));
  EXPECT_TRUE(exists_no_follow(lock_path("L") + "+writer"));
  holder->let_go();
  EXPECT_EQ(holder->process->wait(10s), ExitStatus::exited(0)) << holder->process->stderr_text();
  Finished next =
      run(run_under_lock("L", {"sh", "-c", "exit 0"}, with({"--timeout", "20"}, off)), 30s);
  EXPECT_EQ(next.status, ExitStatus::exited(0)) << next.err;
  EXPECT_NE(next.err.find("reclaimed stale exclusive request"), std::string::npos) << next.err;
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{}) << "leftovers";
}

// SIGTERM (Ctrl+C alike): the waiter lets go of its turn before it dies by the signal, and its
// command never runs; the next run finds nothing to reclaim.
TEST_F(RunTurnOfAWaiter, KilledWithSigtermLetsGoOfItsTurnFirst) {
  start_waiter_with_its_turn();
  if (HasFatalFailure()) {
    return;
  }
  waiter->send_signal(SIGTERM);
  EXPECT_EQ(waiter->wait(10s), ExitStatus::killed_by(SIGTERM)) << read_file(waiter_err);
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{"L.lock"});
  holder->let_go();
  EXPECT_EQ(holder->process->wait(10s), ExitStatus::exited(0)) << holder->process->stderr_text();
  expect_lock_free_without_reclaim();
}

} // namespace
} // namespace buildlock::test

// What a waiting run says about whom it waits for (issue 25): the processes that really keep a
// killed wrapper's lock, not only the dead pid its metadata names; and a holder's command cut
// short, however long it is. Kernel locks only: without them a killed wrapper's lock is judged by
// its pid and command tree (run_reclaim_test).
#include "support/integration_test.h"
#include "support/pipe.h"

#include <csignal>
#include <fstream>
#include <gtest/gtest.h>
#include <sys/types.h>
#include <unistd.h>

namespace buildlock::test {
namespace {

class RunWaitLines : public IntegrationTest {
protected:
  void SetUp() override { make_lock_dir(); }
};

// Kills the given processes when the test ends, however it ends: they outlive the wrapper.
struct KillOnExit {
  std::vector<pid_t> pids;
  ~KillOnExit() {
    for (const pid_t pid : pids) {
      ::kill(pid, SIGKILL);
    }
  }
};

// The stderr line that starts with `prefix`, without its newline; empty when there is none.
std::string line_starting_with(const std::string& text, const std::string& prefix) {
  const auto start = text.find(prefix);
  if (start == std::string::npos) {
    return "";
  }
  return text.substr(start, text.find('\n', start) - start);
}

// `setsid buildlock run L -- sh -c 'sleep 40 & wait'`, then kill -9 of buildlock alone: the shell
// and its sleep keep the kernel lock through the descriptor they inherited. A waiter used to say
// "held by pid W ... (its kernel lock is held)", W being dead; it now names both keepers, word for
// word as `status` does.
TEST_F(RunWaitLines, AWaiterNamesTheProcessesThatKeepAKilledWrappersLock) {
  const std::string script = "sleep 40 3>&- & echo $$ $! >p; echo >&3; wait";
  Pipe started;
  Process wrapper = run_under_lock("L", {"sh", "-c", script})
                        .own_process_group()
                        .working_directory(temp.path())
                        .pass_fd(3, started.write_fd())
                        .start();
  started.close_write();
  ASSERT_TRUE(started.receives_byte(10s)) << wrapper.stderr_text();
  KillOnExit keepers;
  pid_t shell = 0;
  pid_t sleeper = 0;
  std::ifstream pids(temp / "p");
  ASSERT_TRUE(pids >> shell >> sleeper) << "the command wrote no pids";
  keepers.pids = {shell, sleeper};
  wrapper.send_signal(SIGKILL);
  ASSERT_EQ(wrapper.wait(10s), ExitStatus::killed_by(SIGKILL));

  Finished waiter = run(run_under_lock("L", {"sh", "-c", "echo ran"}, {"--timeout", "0.2"}));
  EXPECT_EQ(waiter.status, ExitStatus::exited(75)) << waiter.err;
  EXPECT_EQ(waiter.out, "");
  const std::string line = line_starting_with(waiter.err, "buildlock: error: timed out after ");
  const std::string dead = std::to_string(wrapper.pid());
  EXPECT_NE(line.find(" waiting for lock `L` held by pid " + dead + " on host `"),
            std::string::npos)
      << waiter.err;
  const std::string keepers_named = "(its kernel lock is held by pids " + std::to_string(shell) +
                                    " (sh -c " + script + "), " + std::to_string(sleeper) +
                                    " (sleep 40), left running by its holder pid " + dead +
                                    ", which has exited)";
  EXPECT_TRUE(line.size() > keepers_named.size() &&
              line.compare(line.size() - keepers_named.size(), std::string::npos, keepers_named) ==
                  0)
      << "expected the line to end with\n  " << keepers_named << "\n"
      << waiter.err;
}

// A group's anchor names only the member that created it. Once that member has left, the others
// hold the anchor's kernel lock, and they were not "left running" by it: an anchor names no
// keepers (each member is named by its own file).
TEST_F(RunWaitLines, AGroupsAnchorNamesNoKeepersAfterItsCreatorLeft) {
  auto creator = start_holding("G", {"--shared"});
  auto member = start_holding("G", {"--shared"});
  creator->let_go();
  ASSERT_EQ(creator->process->wait(10s), ExitStatus::exited(0));
  Finished waiter = run(run_under_lock("G", {"true"}, {"--timeout", "0.2"}));
  EXPECT_EQ(waiter.status, ExitStatus::exited(75)) << waiter.err;
  EXPECT_NE(waiter.err.find("waiting for lock `G` held by pid " + std::to_string(creator->pid()) +
                            " on host `"),
            std::string::npos)
      << waiter.err;
  EXPECT_EQ(waiter.err.find("left running by"), std::string::npos) << waiter.err;
  member->let_go();
  EXPECT_EQ(member->process->wait(10s), ExitStatus::exited(0));
}

// A compiler's command can run to kilobytes: the wait line shows its start, cut with "...".
TEST_F(RunWaitLines, AHoldersLongCommandIsCutShortInAWaitLine) {
  const std::string long_argument(2000, 'I');
  auto holder = start_holding("L", {}, {"exit", "0", long_argument});
  Finished waiter = run(run_under_lock("L", {"true"}, {"--timeout", "0.2"}));
  EXPECT_EQ(waiter.status, ExitStatus::exited(75)) << waiter.err;
  const std::string line = line_starting_with(waiter.err, "buildlock: error: timed out after ");
  ASSERT_NE(line, "") << waiter.err;
  const std::string command_line =
      scripted_command_binary() + " notify 3 wait 4 exit 0 " + long_argument;
  const std::string shown = " (" + command_line.substr(0, 57) + "...), held for ";
  EXPECT_NE(line.find(shown), std::string::npos) << "expected " << shown << "\nin " << line;
  EXPECT_LT(line.size(), 300u) << line;
  holder->let_go();
  EXPECT_EQ(holder->process->wait(10s), ExitStatus::exited(0));
}

} // namespace
} // namespace buildlock::test

// The release rule for descendants (issue 13): nothing a command started runs on after the lock
// is released, except what a command that exited normally left behind on purpose (a daemon).
//
// Every command here is a tree: a shell (the command's main process) whose child, or grandchild in
// a session of its own, does the work. Each tree member holds the write end of a `gone` pipe and
// nothing else does, so end-of-file on it says that every member has exited: no sleeps, no polls
// of /proc.
#include "support/integration_test.h"
#include "support/lock_files.h"
#include "support/pseudo_terminal.h"
#include "support/waiting.h"

#include <csignal>
#include <gtest/gtest.h>

namespace buildlock::test {
namespace {

// A command tree under buildlock: `sh -c '<worker> & wait'` where the worker is
// `scripted_command` (optionally behind setsid) that reports signals on fd 5, says it runs on
// fd 3 and waits for fd 4. The shell is the command's main process; the worker is what must not
// outlive the lock.
struct Tree {
  Pipe started;
  Pipe release;
  Pipe trapped;
  Pipe gone; // every process of the tree holds its write end
  std::optional<Process> process;
};

class RunDescendants : public IntegrationTest {
protected:
  // `worker_steps` run in the worker; `shell_tail` follows `& wait` in the main shell (e.g.
  // "; exit 0").
  std::unique_ptr<Tree> start_tree(const std::vector<std::string>& worker_steps,
                                   const std::string& worker_prefix = "",
                                   const std::string& shell_tail = "",
                                   std::vector<std::string> options = {},
                                   const std::function<void(Command&)>& configure = nullptr) {
    auto tree = std::make_unique<Tree>();
    std::string worker = worker_prefix + quoted(scripted({}).front());
    for (const std::string& step : worker_steps) {
      worker += " " + step;
    }
    const std::string script = worker + " & wait" + shell_tail;
    Command command = run_under_lock("L", {"sh", "-c", script}, std::move(options));
    command.pass_fd(3, tree->started.write_fd())
        .pass_fd(4, tree->release.read_fd())
        .pass_fd(5, tree->trapped.write_fd())
        .pass_fd(6, tree->gone.write_fd());
    if (configure) {
      configure(command);
    }
    tree->process.emplace(command.start());
    tree->started.close_write();
    tree->release.close_read();
    tree->trapped.close_write();
    tree->gone.close_write();
    EXPECT_TRUE(tree->started.receives_byte(10s)) << tree->process->stderr_text();
    return tree;
  }

  static std::string quoted(const std::string& word) { return "'" + word + "'"; }

  void expect_next_run_gets_it_without_reclaim() const {
    Finished next = run(run_under_lock("L", scripted({}), {"--verbose", "--timeout", "0"}));
    EXPECT_EQ(next.status, ExitStatus::exited(0)) << next.err;
    EXPECT_EQ(next.err.find("reclaimed"), std::string::npos) << next.err;
  }
};

// The smallest reproduction: `kill -TERM <buildlock>` kills the shell, and its child must
// not run on under a released lock. Here the child survives SIGTERM (it traps it), so buildlock
// must keep the lock until the child is gone.
TEST_F(RunDescendants, SigtermToBuildlockKeepsTheLockUntilTheShellsChildHasEnded) {
  auto tree = start_tree({"trap", "TERM", "5", "notify", "3", "wait", "4"});
  tree->process->send_signal(SIGTERM);
  ASSERT_TRUE(tree->trapped.receives_byte(10s)) << "the child never got SIGTERM";
  expect_lock_held();
  EXPECT_TRUE(tree->process->is_running()) << "buildlock released while the child ran";

  tree->release.write_byte();
  EXPECT_EQ(tree->process->wait(10s), ExitStatus::killed_by(SIGTERM))
      << tree->process->stderr_text();
  EXPECT_TRUE(tree->gone.ends_without_data(5s)) << "a process of the tree outlived buildlock";
  EXPECT_EQ(tree->trapped.read_to_end(5s), std::string()) << "the child got SIGTERM twice";
  expect_next_run_gets_it_without_reclaim();
}

// A child that ignores the stopping signal gets SIGKILL after --kill-after; only then is the lock
// released.
TEST_F(RunDescendants, AChildThatIgnoresTheSignalIsKilledAfterKillAfter) {
  auto tree = start_tree({"trap", "TERM", "5", "notify", "3", "wait", "4"}, "", "",
                         {"--kill-after", "0.2", "--verbose"});
  tree->process->send_signal(SIGTERM);
  ASSERT_TRUE(tree->trapped.receives_byte(10s)) << "the child never got SIGTERM";
  // Nobody lets the child go: only SIGKILL ends it.
  EXPECT_EQ(tree->process->wait(10s), ExitStatus::killed_by(SIGTERM))
      << tree->process->stderr_text();
  EXPECT_TRUE(tree->gone.ends_without_data(5s)) << "the child outlived buildlock";
  EXPECT_NE(tree->process->stderr_text().find("with SIGKILL"), std::string::npos)
      << tree->process->stderr_text();
  expect_next_run_gets_it_without_reclaim();
}

// `kill -9 <make>` while its compilers run: the main process dies, its children must not go on
// under a released lock. They get the same signal.
TEST_F(RunDescendants, MainProcessKilledTakesItsChildrenWithItBeforeTheRelease) {
  auto tree = start_tree({"notify", "3", "wait", "4"});
  const auto shell = child_of(tree->process->pid());
  ASSERT_TRUE(shell) << "no command process under buildlock";
  ASSERT_EQ(::kill(static_cast<pid_t>(*shell), SIGKILL), 0);
  EXPECT_EQ(tree->process->wait(10s), ExitStatus::killed_by(SIGKILL))
      << tree->process->stderr_text();
  EXPECT_TRUE(tree->gone.ends_without_data(5s)) << "the child outlived the killed shell's lock";
  expect_next_run_gets_it_without_reclaim();
}

// make or a shell whose job was killed reports it as exit status 128 + N and exits normally: the
// job's own children (here a grandchild in a session of its own) are not daemons left on purpose.
TEST_F(RunDescendants, AnExitStatusOf128PlusNStopsWhatTheKilledJobStarted) {
  Pipe started;
  Pipe gone;
  const std::string worker = quoted(scripted({}).front()) + " notify 3 wait 4";
  // main shell -> job shell -> setsid worker
  const std::string job = "setsid " + worker + " & wait";
  Command command = run_under_lock("L", {"sh", "-c", "sh -c '" + job + "' & wait $!"}, {});
  Pipe release;
  command.pass_fd(3, started.write_fd()).pass_fd(4, release.read_fd()).pass_fd(6, gone.write_fd());
  Process process = command.start();
  started.close_write();
  release.close_read();
  gone.close_write();
  ASSERT_TRUE(started.receives_byte(10s)) << process.stderr_text();
  const auto main_shell = child_of(process.pid());
  ASSERT_TRUE(main_shell);
  const auto job_shell = child_of(*main_shell);
  ASSERT_TRUE(job_shell) << "no job shell";
  ASSERT_EQ(::kill(*job_shell, SIGKILL), 0);
  EXPECT_EQ(process.wait(10s), ExitStatus::exited(128 + SIGKILL)) << process.stderr_text();
  EXPECT_TRUE(gone.ends_without_data(5s)) << "the killed job's grandchild outlived the lock";
  expect_next_run_gets_it_without_reclaim();
}

// A grandchild that left the command's session and process group (setsid), then lost its parent,
// is still found: buildlock adopts orphans.
TEST_F(RunDescendants, AGrandchildInItsOwnSessionIsStoppedToo) {
  auto tree = start_tree({"trap", "TERM", "5", "notify", "3", "wait", "4"}, "setsid ");
  tree->process->send_signal(SIGTERM);
  ASSERT_TRUE(tree->trapped.receives_byte(10s)) << "the grandchild never got SIGTERM";
  expect_lock_held();
  tree->release.write_byte();
  EXPECT_EQ(tree->process->wait(10s), ExitStatus::killed_by(SIGTERM))
      << tree->process->stderr_text();
  EXPECT_TRUE(tree->gone.ends_without_data(5s)) << "the grandchild outlived buildlock";
  EXPECT_EQ(tree->trapped.read_to_end(5s), std::string()) << "the grandchild got SIGTERM twice";
  expect_next_run_gets_it_without_reclaim();
}

// A grandchild stopped with SIGSTOP would keep SIGTERM pending forever: buildlock continues it.
TEST_F(RunDescendants, AStoppedChildIsContinuedSoThatItActsOnTheSignal) {
  auto tree = start_tree({"notify", "3", "wait", "4"}, "", "", {"--kill-after", "60"});
  const auto shell = child_of(tree->process->pid());
  ASSERT_TRUE(shell);
  const auto worker = child_of(*shell);
  ASSERT_TRUE(worker) << "no worker under the shell";
  ASSERT_EQ(::kill(static_cast<pid_t>(*worker), SIGSTOP), 0);
  tree->process->send_signal(SIGTERM);
  // With --kill-after 60, only SIGCONT after SIGTERM ends the stopped worker within the bound.
  EXPECT_EQ(tree->process->wait(20s), ExitStatus::killed_by(SIGTERM))
      << tree->process->stderr_text();
  EXPECT_TRUE(tree->gone.ends_without_data(5s));
  expect_next_run_gets_it_without_reclaim();
}

// A command that exits normally leaves a daemon on purpose: the lock is released at once (the
// daemon does not keep it through its inherited descriptor), and --verbose names it.
TEST_F(RunDescendants, ANormalExitReleasesAtOnceAndVerboseNamesWhatIsLeft) {
  Pipe started;
  Pipe release;
  Pipe gone;
  Command command = run_under_lock(
      "L", {"sh", "-c", quoted(scripted({}).front()) + " notify 3 wait 4 & exit 0"}, {"--verbose"});
  command.pass_fd(3, started.write_fd()).pass_fd(4, release.read_fd()).pass_fd(6, gone.write_fd());
  Process process = command.start();
  started.close_write();
  release.close_read();
  gone.close_write();
  ASSERT_TRUE(started.receives_byte(10s));
  EXPECT_EQ(process.wait(10s), ExitStatus::exited(0)) << process.stderr_text();
  EXPECT_NE(process.stderr_text().find("left 1 process(es) running"), std::string::npos)
      << process.stderr_text();
  expect_next_run_gets_it_without_reclaim();
  release.write_byte();
  EXPECT_TRUE(gone.ends_without_data(10s));
}

// A group kill aimed at buildlock's process group (ninja's Ctrl+C handling does kill(-pgid)) must
// reach each process of the command once: the command runs in a group of its own, and buildlock
// passes the signal on once.
TEST_F(RunDescendants, AGroupKillReachesEveryProcessOfTheTreeOnce) {
  auto tree = start_tree({"trap", "INT", "5", "notify", "3", "wait", "4"}, "", "", {},
                         [](Command& command) { command.own_process_group(); });
  tree->process->signal_group(SIGINT);
  ASSERT_TRUE(tree->trapped.receives_byte(10s)) << "the child never got SIGINT";
  tree->release.write_byte();
  EXPECT_EQ(tree->process->wait(10s), ExitStatus::killed_by(SIGINT))
      << tree->process->stderr_text();
  EXPECT_TRUE(tree->gone.ends_without_data(5s));
  EXPECT_EQ(tree->trapped.read_to_end(5s), std::string()) << "the child got SIGINT twice";
  expect_next_run_gets_it_without_reclaim();
}

// buildlock started by a shell, make or cmake shares their process group: a `kill -9` of that
// whole group (a cancelled CI job) must take the command down too, and the lock is then free for
// the next run at once. (A group of its own would leave the command running, holding the lock.)
TEST_F(RunDescendants, SigkillToTheGroupBuildlockSharesKillsTheCommandToo) {
  Pipe started;
  Pipe gone;
  Pipe release;
  std::vector<std::string> buildlock_run =
      run_arguments("L", scripted({"notify", "3", "wait", "4"}));
  std::string script = quoted(buildlock_binary());
  for (const std::string& word : buildlock_run) {
    script += " " + quoted(word);
  }
  Command parent = program({"sh", "-c", script + " & wait"});
  parent.own_process_group()
      .pass_fd(3, started.write_fd())
      .pass_fd(4, release.read_fd())
      .pass_fd(6, gone.write_fd());
  Process shell = parent.start();
  started.close_write();
  release.close_read();
  gone.close_write();
  ASSERT_TRUE(started.receives_byte(10s)) << shell.stderr_text();
  shell.signal_group(SIGKILL);
  EXPECT_EQ(shell.wait(10s), ExitStatus::killed_by(SIGKILL));
  EXPECT_TRUE(gone.ends_without_data(5s)) << "the command outlived the kill of its build's group";
  Finished next = run(run_under_lock("L", scripted({}), {"--verbose", "--timeout", "5"}));
  EXPECT_EQ(next.status, ExitStatus::exited(0)) << next.err;
}

// Ctrl+C at a terminal reaches the whole foreground group from the kernel: buildlock keeps the
// command in it (so it can use the terminal) and sends nothing more.
TEST_F(RunDescendants, CtrlCAtTheTerminalReachesEveryProcessOfTheTreeOnce) {
  PseudoTerminal terminal;
  auto tree =
      start_tree({"trap", "INT", "5", "notify", "3", "wait", "4"}, "", "", {},
                 [&](Command& command) { command.controlling_terminal(terminal.slave_path()); });
  terminal.press_ctrl_c();
  ASSERT_TRUE(tree->trapped.receives_byte(10s)) << "the child never got SIGINT";
  expect_lock_held();
  tree->release.write_byte();
  EXPECT_EQ(tree->process->wait(10s), ExitStatus::killed_by(SIGINT))
      << tree->process->stderr_text();
  EXPECT_TRUE(tree->gone.ends_without_data(5s));
  EXPECT_EQ(tree->trapped.read_to_end(5s), std::string()) << "the child got SIGINT twice";
}

// kill -9 of buildlock itself: nothing can act any more. The tree keeps the lock through the
// descriptor it inherited (with kernel locks) or through the lock named in the BUILDLOCK_HELD it
// inherited (without: `command-alive`); the next run waits for the tree, not for buildlock. The
// worker is in a session of its own, and the shell is gone before the probe looks.
TEST_F(RunDescendants, BuildlockKilledWithSigkillLeavesTheLockToTheTreeThatRunsOn) {
  auto tree = start_tree({"notify", "3", "wait", "4"}, "setsid ");
  const auto shell = child_of(tree->process->pid());
  ASSERT_TRUE(shell);
  tree->process->send_signal(SIGKILL);
  EXPECT_EQ(tree->process->wait(10s), ExitStatus::killed_by(SIGKILL));
  ASSERT_EQ(::kill(static_cast<pid_t>(*shell), SIGKILL), 0);
  expect_lock_held();
  tree->release.write_byte();
  EXPECT_TRUE(tree->gone.ends_without_data(10s));
  Finished next = run(run_under_lock("L", scripted({}), {"--timeout", "10"}));
  EXPECT_EQ(next.status, ExitStatus::exited(0)) << next.err;
}

} // namespace
} // namespace buildlock::test

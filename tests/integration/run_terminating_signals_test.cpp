// Every signal that ends a program by default and can be caught (issue 20, finding 7): sent to
// buildlock while it holds the lock, it is passed on to COMMAND, the whole tree is stopped, the
// lock released, and buildlock dies of that signal; while it waits, it ends buildlock at once.
// Before the fix SIGALRM was caught and dropped, and SIGXCPU, SIGPWR and the others killed
// buildlock like SIGKILL, leaving the tree running.
//
// Every command is a tree: `sh -c 'scripted_command STEPS & wait'`. The worker reports the
// signal it gets on `trapped` and runs on until let go; every process of the tree holds the
// write end of `gone`, so end-of-file there says that all have exited.
#include "support/integration_test.h"
#include "support/lock_files.h"
#include "support/waiting.h"

#include <csignal>
#include <gtest/gtest.h>

namespace buildlock::test {
namespace {

struct Tree {
  Pipe started;
  Pipe release;
  Pipe trapped;
  Pipe gone;
  std::optional<Process> process;
};

// A signal sent to buildlock, and the one its command's other processes get from buildlock
// after the command's shell died of it (SIGTERM after a signal that is not about stopping).
struct Case {
  const char* name;
  int sent;
  int tree_gets;
};

void PrintTo(const Case& signal, std::ostream* out) {
  *out << signal.name;
}

class RunTerminatingSignals : public IntegrationTest {
protected:
  // The tree under `argv_prefix` + buildlock run (e.g. `timeout ...` in front), or under
  // buildlock alone. The worker runs on after the signal until the test lets it go:
  // --kill-after is far beyond any test, so that no SIGKILL comes first on a slow machine.
  std::unique_ptr<Tree>
  start_tree(int trapped_signal, const std::vector<std::string>& argv_prefix = {},
             std::vector<std::string> options = {"--kill-after", "3600"}) const {
    auto tree = std::make_unique<Tree>();
    const std::string script = "'" + scripted({}).front() + "' trap " +
                               std::to_string(trapped_signal) + " 5 notify 3 wait 4 & wait";
    std::vector<std::string> argv = argv_prefix;
    argv.push_back(buildlock_binary());
    for (std::string& word : run_arguments("L", {"sh", "-c", script}, std::move(options))) {
      argv.push_back(std::move(word));
    }
    Command command = program(argv);
    command.pass_fd(3, tree->started.write_fd())
        .pass_fd(4, tree->release.read_fd())
        .pass_fd(5, tree->trapped.write_fd())
        .pass_fd(6, tree->gone.write_fd());
    tree->process.emplace(command.start());
    tree->started.close_write();
    tree->release.close_read();
    tree->trapped.close_write();
    tree->gone.close_write();
    EXPECT_TRUE(tree->started.receives_byte(10s)) << tree->process->stderr_text();
    return tree;
  }

  // The tree got `signal` and runs on; the lock stays held until it is let go; then `ends` says
  // how the process the test started ended.
  void finish(Tree& tree, int signal, const ExitStatus& ends) const {
    ASSERT_TRUE(tree.trapped.receives_byte(10s))
        << "the tree's worker never got signal " << signal << "\n"
        << tree.process->stderr_text();
    EXPECT_EQ(tree.trapped.last_byte(), static_cast<char>(signal));
    expect_lock_held();
    EXPECT_TRUE(tree.process->is_running()) << "buildlock released while the tree ran";
    tree.release.write_byte();
    EXPECT_EQ(tree.process->wait(10s), ends) << tree.process->stderr_text();
    EXPECT_TRUE(tree.gone.ends_without_data(5s)) << "a process of the tree outlived buildlock";
    expect_lock_free_without_reclaim();
  }
};

// The review's reproduction: `timeout -s ALRM DURATION buildlock run ...`. The test makes timeout
// act at once by sending it SIGALRM, its own timer's signal, instead of waiting out DURATION.
// --foreground: timeout signals buildlock alone, not the process group, so only buildlock can
// pass the signal on. --preserve-status: timeout exits 128 + N when buildlock dies of signal N.
TEST_F(RunTerminatingSignals, TimeoutWithSigalrmStopsTheTreeAndReleases) {
  auto tree =
      start_tree(SIGALRM, {"timeout", "--foreground", "--preserve-status", "-s", "ALRM", "1d"});
  ASSERT_EQ(::kill(tree->process->pid(), SIGALRM), 0);
  finish(*tree, SIGALRM, ExitStatus::exited(128 + SIGALRM));
}

class RunTerminatingSignal : public RunTerminatingSignals,
                             public ::testing::WithParamInterface<Case> {};

// Sent to buildlock while its command runs: passed on to the command (its shell dies of it), the
// rest of the tree gets it (or SIGTERM), and buildlock keeps the lock until the tree has ended,
// then dies of the signal it got.
TEST_P(RunTerminatingSignal, ToBuildlockStopsTheTreeReleasesAndDiesOfIt) {
  auto tree = start_tree(GetParam().tree_gets);
  tree->process->send_signal(GetParam().sent);
  finish(*tree, GetParam().tree_gets, ExitStatus::killed_by(GetParam().sent));
}

// While buildlock waits for the lock, the signal ends it at once, by that signal: nothing runs
// and the holder's lock is untouched.
TEST_P(RunTerminatingSignal, WhileWaitingEndsBuildlockAndRunsNothing) {
  auto holder = start_holding("L");
  const std::string holder_lock = read_file(lock_path("L"));
  Pipe ran;
  Command command = run_under_lock("L", scripted({"notify", "3"}), {"--verbose"});
  command.pass_fd(3, ran.write_fd());
  Process waiter = command.start();
  ran.close_write();
  ASSERT_TRUE(
      file_eventually_contains(waiter.stderr_path(), "[" + live_holder_reason() + "]", 10s));
  waiter.send_signal(GetParam().sent);
  EXPECT_EQ(waiter.wait(10s), ExitStatus::killed_by(GetParam().sent)) << waiter.stderr_text();
  EXPECT_TRUE(ran.ends_without_data(5s)) << "the command ran after all";
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{"L.lock"});
  EXPECT_EQ(read_file(lock_path("L")), holder_lock) << "the holder's lock file was changed";
  holder->let_go();
  EXPECT_EQ(holder->process->wait(10s), ExitStatus::exited(0));
}

INSTANTIATE_TEST_SUITE_P(
    Signals, RunTerminatingSignal,
    ::testing::Values(Case{"SIGALRM", SIGALRM, SIGALRM}, Case{"SIGXCPU", SIGXCPU, SIGXCPU},
                      Case{"SIGXFSZ", SIGXFSZ, SIGXFSZ}, Case{"SIGVTALRM", SIGVTALRM, SIGVTALRM},
                      Case{"SIGPROF", SIGPROF, SIGPROF}, Case{"SIGPWR", SIGPWR, SIGPWR},
                      Case{"SIGSTKFLT", SIGSTKFLT, SIGSTKFLT}, Case{"SIGIO", SIGIO, SIGIO},
                      Case{"SIGRTMIN_2", SIGRTMIN + 2, SIGRTMIN + 2},
                      Case{"SIGRTMAX", SIGRTMAX, SIGRTMAX},
                      // Messages to a program rather than requests to stop: passed on, and the
                      // rest of the tree gets SIGTERM once the shell has died of them.
                      Case{"SIGUSR1", SIGUSR1, SIGTERM}, Case{"SIGPIPE", SIGPIPE, SIGTERM}),
    [](const ::testing::TestParamInfo<Case>& param) { return std::string(param.param.name); });

// SIGPIPE that buildlock's own writes raise (its stderr is a pipe nobody reads: a killed ninja)
// must not kill it with the lock held: it runs the command, stops the tree on SIGTERM, releases,
// and dies of SIGTERM, although every message it writes fails.
TEST_F(RunTerminatingSignals, AClosedStderrNeverKillsBuildlockBeforeTheRelease) {
  Pipe stderr_pipe;
  stderr_pipe.close_read(); // every write to it fails with EPIPE (and raises SIGPIPE)
  auto tree = std::make_unique<Tree>();
  // A shell puts the pipe on buildlock's descriptor 2, then becomes buildlock.
  std::vector<std::string> argv = {"sh", "-c", "exec \"$@\" 2>&7 7>&-", "sh", buildlock_binary()};
  for (std::string& word : run_arguments(
           "L",
           {"sh", "-c",
            "'" + scripted({}).front() + "' trap 15 5 notify 3 wait 4 2>/dev/null & wait"},
           {"--verbose", "--kill-after", "3600"})) {
    argv.push_back(std::move(word));
  }
  Command command = program(argv);
  command.pass_fd(7, stderr_pipe.write_fd())
      .pass_fd(3, tree->started.write_fd())
      .pass_fd(4, tree->release.read_fd())
      .pass_fd(5, tree->trapped.write_fd())
      .pass_fd(6, tree->gone.write_fd());
  tree->process.emplace(command.start());
  stderr_pipe.close_write();
  tree->started.close_write();
  tree->release.close_read();
  tree->trapped.close_write();
  tree->gone.close_write();
  ASSERT_TRUE(tree->started.receives_byte(10s)) << "the command never ran";
  tree->process->send_signal(SIGTERM);
  finish(*tree, SIGTERM, ExitStatus::killed_by(SIGTERM));
}

// Started with SIGCHLD ignored (`trap '' CHLD` in a script, some CI runners), buildlock must still
// catch it: ignored, the kernel would reap the command unseen, and buildlock could neither report
// its status nor know that it ended. (Taking over only signals at their default action must not
// extend to it.)
TEST_F(RunTerminatingSignals, SigchldIgnoredAtStartStillLetsBuildlockSeeTheCommandEnd) {
  // bash, because dash does not really ignore SIGCHLD for `trap '' CHLD`.
  std::vector<std::string> argv = {"bash", "-c", "trap '' CHLD; exec \"$@\"", "bash",
                                   buildlock_binary()};
  for (std::string& word :
       run_arguments("L", {"sh", "-c", "'" + scripted({}).front() + "' exit 0 & wait; exit 3"})) {
    argv.push_back(std::move(word));
  }
  Finished finished = run(program(argv));
  EXPECT_EQ(finished.status, ExitStatus::exited(3)) << finished.err;
  expect_lock_free_without_reclaim();
}

} // namespace
} // namespace buildlock::test

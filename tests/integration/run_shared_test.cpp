// Shared holds (issue 5): `run --shared` runs overlap each other, never an exclusive run; an
// exclusive run is not starved by a stream of shared ones; a killed shared holder is reclaimed
// on the spot. The promise is checked from inside the critical sections (helpers/group_section),
// not guessed from timing.
#include "support/integration_test.h"
#include "support/lock_files.h"
#include "support/waiting.h"

#include <csignal>
#include <cstdio>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

namespace buildlock::test {
namespace {

class RunShared : public IntegrationTest {
protected:
  void SetUp() override { ASSERT_EQ(::mkdir(work_dir.c_str(), 0755), 0); }

  // `sh -c` loop: ROUNDS x `buildlock run OPTIONS L -- group_section KIND ...`.
  std::vector<std::string> section_loop(int rounds, const std::string& kind,
                                        std::vector<std::string> options) const {
    std::vector<std::string> argv = {
        "sh", "-c", R"(i=0; while [ "$i" -lt "$0" ]; do "$@" || exit $?; i=$((i+1)); done)",
        std::to_string(rounds), buildlock_binary()};
    options.emplace_back("--quiet");
    for (auto& word :
         run_arguments("L", {group_section_binary(), kind, work_dir, log}, std::move(options))) {
      argv.push_back(std::move(word));
    }
    return argv;
  }

  const std::string work_dir = temp / "work";
  const std::string log = temp / "sections.log";
};

TEST_F(RunShared, SharedHoldersRunTogether) {
  auto first = start_holding("L", {"--shared"});
  auto second = start_holding("L", {"--shared"});
  auto third = start_holding("L", {"--shared"}); // each returns once its command runs
  const auto entries = directory_entries(lock_dir);
  EXPECT_EQ(entries.size(), 4U) << "the anchor and one holder file per holder";
  for (auto* holding : {first.get(), second.get(), third.get()}) {
    holding->let_go();
    EXPECT_EQ(holding->process->wait(10s), ExitStatus::exited(0))
        << holding->process->stderr_text();
  }
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{}) << "leftovers";
}

TEST_F(RunShared, ExclusiveRunWaitsForEverySharedHolderAndTheyForIt) {
  auto reader = start_holding("L", {"--shared"});
  Finished refused = run(run_under_lock("L", {"true"}, {"--timeout", "0"}));
  EXPECT_EQ(refused.status, ExitStatus::exited(75)) << refused.err;

  // A waiting exclusive run: the next shared run queues behind it instead of joining the reader.
  auto writer = start_holding("L", {"--verbose"}, {}, nullptr, false);
  ASSERT_TRUE(file_eventually_contains(writer->process->stderr_path(), "is held by", 10s));
  Finished queued = run(run_under_lock("L", {"true"}, {"--shared", "--timeout", "0.2"}));
  EXPECT_EQ(queued.status, ExitStatus::exited(75)) << queued.err;
  EXPECT_NE(queued.err.find("queued behind an exclusive request"), std::string::npos) << queued.err;

  reader->let_go();
  EXPECT_EQ(reader->process->wait(10s), ExitStatus::exited(0));
  ASSERT_TRUE(writer->started.receives_byte(10s)) << writer->process->stderr_text();
  Finished while_writing = run(run_under_lock("L", {"true"}, {"--shared", "--timeout", "0"}));
  EXPECT_EQ(while_writing.status, ExitStatus::exited(75)) << while_writing.err;
  writer->let_go();
  EXPECT_EQ(writer->process->wait(10s), ExitStatus::exited(0));
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{}) << "leftovers";
}

// 6 readers x 40 and 2 writers x 40 on one lock: readers overlap each other (seen from inside: a
// reader that found another reader inside), nobody ever overlaps a writer.
TEST_F(RunShared, ReadersOverlapButNeverAWriter) {
  std::vector<Process> processes;
  for (int i = 0; i < 6; ++i) {
    processes.push_back(program(section_loop(40, "reader", {"--shared"})).start());
  }
  for (int i = 0; i < 2; ++i) {
    processes.push_back(program(section_loop(40, "writer", {})).start());
  }
  for (Process& process : processes) {
    EXPECT_EQ(process.wait(60s), ExitStatus::exited(0)) << process.stderr_text();
  }
  const std::string entries = read_file(log);
  EXPECT_EQ(lines_of(entries).size(), 8U * 40U);
  EXPECT_EQ(count_occurrences(entries, " violation "), 0U) << entries;
  std::size_t readers_together = 0;
  for (const std::string& line : lines_of(entries)) {
    if (line.starts_with("reader ") && !line.ends_with(" ok, 0 inside with it")) {
      ++readers_together;
    }
  }
  EXPECT_GT(readers_together, 0U) << "no reader ever found another reader inside: the shared "
                                     "lock was never shared\n"
                                  << entries;
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{}) << "leftovers";
}

// Readers that keep the lock continuously shared (each new one would join before the last one
// leaves) must not keep a writer out: new readers queue behind it. Without that the writer
// waits until the readers stop (they stop only once the writer has run) and times out.
TEST_F(RunShared, WriterIsNotStarvedByAStreamOfReaders) {
  const std::string stop = temp / "stop";
  Pipe inside; // every reader's command writes a byte here when it runs
  std::vector<Process> readers;
  for (int i = 0; i < 4; ++i) {
    std::vector<std::string> argv = {"sh", "-c", R"(while [ ! -e "$0" ]; do "$@" || exit $?; done)",
                                     stop, buildlock_binary()};
    for (auto& word :
         run_arguments("L", {"sh", "-c", "echo >&3; sleep 0.02"}, {"--shared", "--quiet"})) {
      argv.push_back(std::move(word));
    }
    readers.push_back(program(argv).pass_fd(3, inside.write_fd()).start());
  }
  inside.close_write();
  // The writer arrives at a lock that readers hold.
  ASSERT_TRUE(inside.receives_byte(10s));
  const auto started_at = Clock::now();
  Finished writer = run(run_under_lock("L", {"touch", stop}, {"--timeout", "20"}), 30s);
  EXPECT_EQ(writer.status, ExitStatus::exited(0)) << writer.err;
  report_measurement("writer's wait behind 4 reader loops", Clock::now() - started_at);
  for (Process& reader : readers) {
    EXPECT_EQ(reader.wait(20s), ExitStatus::exited(0)) << reader.stderr_text();
  }
}

// Without kernel locks the anchor is judged by its members' files: its only member is dead, so
// the group is empty at once (the one-second `group-forming` grace is for an anchor that has no
// member file yet, docs/shared-filesystems.md).
TEST_F(RunShared, KilledSharedHolderIsReclaimedAtOnce) {
  auto reader =
      start_holding("L", {"--shared"}, {}, [](Command& command) { command.own_process_group(); });
  kill_job_with_sigkill(*reader->process);
  EXPECT_EQ(reader->process->wait(10s), ExitStatus::killed_by(SIGKILL));
  // End-of-file on the command's pipe: the command is dead too (it held the write end).
  ASSERT_EQ(reader->started.read_to_end(10s), std::string());

  Finished writer = run(run_under_lock("L", {"true"}, {"--timeout", "0"}));
  EXPECT_EQ(writer.status, ExitStatus::exited(0)) << writer.err;
  EXPECT_NE(writer.err.find("reclaimed stale shared hold of lock `L`"), std::string::npos)
      << writer.err;
  EXPECT_NE(writer.err.find("[holder-dead]"), std::string::npos) << writer.err;
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{}) << "leftovers";
}

// A remover killed between claiming a dead group's anchor and dropping its claim (SIGKILL, the
// one signal it cannot defer) leaves `.L.<inode>.claim` behind. Every later run used to pause
// and look again for good: the anchor's removal never aged such a claim out (issue 20, the chaos
// suite's "known wedge"). With kernel locks the claim is dropped at once by whoever holds the
// anchor's exclusive kernel lock (no remover on this kernel claims without it), so no
// --stale-after is given; without, it ages out after --stale-after like any abandoned claim.
TEST_F(RunShared, ClaimLeftOnADeadGroupsAnchorDoesNotBlockTheNextRun) {
  auto reader =
      start_holding("L", {"--shared"}, {}, [](Command& command) { command.own_process_group(); });
  kill_job_with_sigkill(*reader->process);
  EXPECT_EQ(reader->process->wait(10s), ExitStatus::killed_by(SIGKILL));
  ASSERT_EQ(reader->started.read_to_end(10s), std::string());
  struct stat anchor {};
  ASSERT_EQ(::stat((lock_dir + "/L.lock").c_str(), &anchor), 0);
  char claim[64];
  std::snprintf(claim, sizeof claim, "/.L.%016llx.claim",
                static_cast<unsigned long long>(anchor.st_ino));
  ASSERT_EQ(::link((lock_dir + "/L.lock").c_str(), (lock_dir + claim).c_str()), 0);

  std::vector<std::string> options = {"--timeout", "30"};
  if (kernel_locks_off()) {
    options.insert(options.end(), {"--stale-after", "1"});
  }
  Finished writer = run(run_under_lock("L", {"sh", "-c", "sh -c 'exit 0' & wait"}, options));
  EXPECT_EQ(writer.status, ExitStatus::exited(0)) << writer.err;
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{}) << "leftovers";
}

TEST_F(RunShared, WaitingWriterWakesWhenTheLastReaderIsKilled) {
  auto reader =
      start_holding("L", {"--shared"}, {}, [](Command& command) { command.own_process_group(); });
  auto writer = start_holding("L", {"--verbose"}, {}, nullptr, false);
  ASSERT_TRUE(file_eventually_contains(writer->process->stderr_path(), "is held by", 10s));
  if (!kernel_locks_off()) {
    ASSERT_TRUE(is_asleep_in_flock(writer->process->pid(), 1, 10s)) << "the writer polls";
  }
  kill_job_with_sigkill(*reader->process);
  ASSERT_TRUE(writer->started.receives_byte(10s)) << writer->process->stderr_text();
  writer->let_go();
  EXPECT_EQ(writer->process->wait(10s), ExitStatus::exited(0));
}

TEST_F(RunShared, SharedAndSlottedUseOfOneLockIsRefused) {
  auto reader = start_holding("L", {"--shared"});
  Finished slotted = run(run_under_lock("L", {"true"}, {"--slots", "2"}));
  EXPECT_EQ(slotted.status, ExitStatus::exited(65)) << slotted.err;
  EXPECT_NE(slotted.err.find("buildlock: error: lock `L` is held shared (--shared) by pid"),
            std::string::npos)
      << slotted.err;
  // Word for word: mixing exclusive and --shared runs is the designed use, so the message must
  // not say that every user of a lock needs the same mode (issue 25).
  EXPECT_TRUE(slotted.err.ends_with(
      "; this run asks for --slots 2 (a lock taken with --slots N is shared only with runs that "
      "give the same N; exclusive and --shared runs of one lock take turns instead)\n"))
      << slotted.err;
  reader->let_go();
}

TEST_F(RunShared, SharedAndSlotsTogetherIsAUsageError) {
  Finished both = run(run_under_lock("L", {"true"}, {"--shared", "--slots", "2"}));
  EXPECT_EQ(both.status, ExitStatus::exited(2)) << both.err;
  EXPECT_NE(both.err.find("buildlock: error:"), std::string::npos) << both.err;
}

} // namespace
} // namespace buildlock::test

namespace buildlock::test {
namespace {

class RunSharedNesting : public IntegrationTest {
protected:
  std::vector<std::string> nested_run(const std::string& lock, std::vector<std::string> command,
                                      std::vector<std::string> options) const {
    std::vector<std::string> argv = run_arguments(lock, std::move(command), std::move(options));
    argv.insert(argv.begin(), buildlock_binary());
    return argv;
  }

  // The outer `run --shared L` runs `PREFIX... buildlock run --shared L -- true` once an exclusive
  // run is queued behind it; the inner run must run at once.
  void expect_inner_shared_run_despite_queued_writer(std::vector<std::string> prefix) {
    Pipe started, release, inner_status;
    std::vector<std::string> steps = {"notify", "3", "wait", "4", "run", "5"};
    steps.insert(steps.end(), prefix.begin(), prefix.end());
    for (auto& word : nested_run("L", {"true"}, {"--shared", "--timeout", "5"})) {
      steps.push_back(std::move(word));
    }
    Process outer = run_under_lock("L", scripted(steps), {"--shared"})
                        .pass_fd(3, started.write_fd())
                        .pass_fd(4, release.read_fd())
                        .pass_fd(5, inner_status.write_fd())
                        .start();
    started.close_write();
    release.close_read();
    inner_status.close_write();
    ASSERT_TRUE(started.receives_byte(10s)) << outer.stderr_text();

    auto writer = start_holding("L", {"--verbose"}, {}, nullptr, false);
    ASSERT_TRUE(file_eventually_contains(writer->process->stderr_path(), "is held by", 10s));
    release.write_byte();
    EXPECT_EQ(inner_status.read_to_end(10s), "exit 0") << outer.stderr_text();
    EXPECT_EQ(outer.wait(10s), ExitStatus::exited(0)) << outer.stderr_text();
    ASSERT_TRUE(writer->started.receives_byte(10s)) << writer->process->stderr_text();
    writer->let_go();
    EXPECT_EQ(writer->process->wait(10s), ExitStatus::exited(0));
  }
};

// The inner shared run must not queue behind a writer that waits for the outer one: that would
// be a deadlock (writer waits for outer, outer for inner, inner for writer).
TEST_F(RunSharedNesting, SharedRunInsideASharedHoldRunsDespiteAQueuedWriter) {
  expect_inner_shared_run_despite_queued_writer({});
}

// Python's subprocess (close_fds=True by default) and others close every inherited descriptor on
// the way: the inner run must then recognise its ancestor by the pid chain, or it queues behind a
// writer that waits for the outer run, which waits for it.
TEST_F(RunSharedNesting, SharedRunWhoseInheritedDescriptorsWereClosedRunsDespiteAQueuedWriter) {
  expect_inner_shared_run_despite_queued_writer(
      {"bash", "-c",
       R"(for f in /proc/$$/fd/*; do n=${f##*/}; if [ "$n" -gt 2 ]; then eval "exec $n<&-"; fi; done
          exec "$@")",
       "bash"});
}

TEST_F(RunSharedNesting, ExclusiveRunInsideASharedHoldIsRefusedInsteadOfWaitingForItself) {
  Finished outer =
      run(run_under_lock("L", nested_run("L", {"true"}, {"--timeout", "5"}), {"--shared"}));
  EXPECT_EQ(outer.status, ExitStatus::exited(65)) << outer.err;
  EXPECT_NE(outer.err.find("buildlock: error: lock `L` is held shared or in a slot by a parent "
                           "buildlock"),
            std::string::npos)
      << outer.err;
}

TEST_F(RunSharedNesting, SharedRunInsideAnExclusiveHoldRunsWithoutWaiting) {
  Finished outer =
      run(run_under_lock("L", nested_run("L", {"true"}, {"--shared", "--timeout", "0"}), {}));
  EXPECT_EQ(outer.status, ExitStatus::exited(0)) << outer.err;
}

TEST_F(RunSharedNesting, SlottedRunInsideItsOwnSlotRunsWithoutWaiting) {
  Finished outer = run(run_under_lock(
      "L", nested_run("L", {"true"}, {"--slots", "1", "--timeout", "0"}), {"--slots", "1"}));
  EXPECT_EQ(outer.status, ExitStatus::exited(0)) << outer.err;
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{}) << "leftovers";
}

} // namespace
} // namespace buildlock::test

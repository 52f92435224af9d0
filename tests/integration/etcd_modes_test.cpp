// Shared and slotted locks held in etcd (issue 16): readers together, a writer alone and never
// starved by readers who came after it, N slots at most, and modes that do not mix (exit 65).
#include "support/etcd_test.h"
#include "support/waiting.h"

#include <gtest/gtest.h>

namespace buildlock::test {
namespace {

class EtcdModes : public EtcdTest {
protected:
  // A run that says when its command runs (fd 3) and ends when let go (fd 4), not waited for.
  std::unique_ptr<Holding> start(std::vector<std::string> options) const {
    return start_holding("L", std::move(options), {}, nullptr, false);
  }
};

TEST_F(EtcdModes, SharedRunsHoldTogetherAndAWriterWaitsForThem) {
  auto first = start({"--shared"});
  auto second = start({"--shared"});
  EXPECT_TRUE(first->started.receives_byte(workload_bound(10s)));
  EXPECT_TRUE(second->started.receives_byte(workload_bound(10s)));
  const Finished writer = run(run_under_lock("L", tree_of({"exit", "0"}), {"--timeout", "0.3"}));
  EXPECT_EQ(writer.status, ExitStatus::exited(75)) << writer.err;
  first->let_go();
  second->let_go();
  EXPECT_EQ(first->process->wait(10s), ExitStatus::exited(0));
  EXPECT_EQ(second->process->wait(10s), ExitStatus::exited(0));
  const Finished after = run(run_under_lock("L", tree_of({"exit", "0"}), {"--timeout", "5"}));
  EXPECT_EQ(after.status, ExitStatus::exited(0)) << after.err;
}

TEST_F(EtcdModes, ReadersArrivingAfterAWaitingWriterQueueBehindIt) {
  auto reader = start({"--shared"});
  EXPECT_TRUE(reader->started.receives_byte(workload_bound(10s)));
  auto writer = start({"--verbose"});
  EXPECT_TRUE(file_eventually_contains(writer->process->stderr_path(), "waiting for lock `L`",
                                       workload_bound(10s)));
  const Finished late_reader =
      run(run_under_lock("L", tree_of({"exit", "0"}), {"--shared", "--timeout", "0.3"}));
  EXPECT_EQ(late_reader.status, ExitStatus::exited(75))
      << "a reader overtook the waiting writer: " << late_reader.err;
  // Not only "waiting" said: the writer's command has not run while the reader holds the lock.
  EXPECT_FALSE(writer->started.receives_byte(milliseconds(0))) << "the writer ran beside a reader";
  EXPECT_EQ(keys().size(), std::size_t{2});
  reader->let_go();
  EXPECT_TRUE(writer->started.receives_byte(workload_bound(10s)));
  writer->let_go();
  EXPECT_EQ(writer->process->wait(10s), ExitStatus::exited(0));
  EXPECT_EQ(reader->process->wait(10s), ExitStatus::exited(0));
}

TEST_F(EtcdModes, SlotsLetNRunsInAtOnce) {
  auto one = start({"--slots", "2"});
  auto two = start({"--slots", "2"});
  EXPECT_TRUE(one->started.receives_byte(workload_bound(10s)));
  EXPECT_TRUE(two->started.receives_byte(workload_bound(10s)));
  auto third = start({"--slots", "2", "--verbose"});
  EXPECT_TRUE(file_eventually_contains(third->process->stderr_path(), "waiting for lock `L`",
                                       workload_bound(10s)));
  // Not only "waiting" said: its command has not run while both slots are taken, however long
  // that took (here: until after a run that cannot get in gave up).
  const Finished fourth =
      run(run_under_lock("L", tree_of({"exit", "0"}), {"--slots", "2", "--timeout", "0.3"}));
  EXPECT_EQ(fourth.status, ExitStatus::exited(75)) << fourth.err;
  EXPECT_FALSE(third->started.receives_byte(milliseconds(0))) << "a third run got a slot";
  two->let_go();
  EXPECT_TRUE(third->started.receives_byte(workload_bound(10s)));
  one->let_go();
  third->let_go();
  for (auto* holding : {one.get(), two.get(), third.get()}) {
    EXPECT_EQ(holding->process->wait(10s), ExitStatus::exited(0));
  }
}

TEST_F(EtcdModes, ModesThatDoNotMixAreRefused) {
  auto slots = start({"--slots", "2"});
  EXPECT_TRUE(slots->started.receives_byte(workload_bound(10s)));
  for (const std::vector<std::string>& options :
       {std::vector<std::string>{"--slots", "3"}, std::vector<std::string>{"--shared"},
        std::vector<std::string>{}}) {
    const Finished refused = run(run_under_lock("L", tree_of({"exit", "0"}), options));
    EXPECT_EQ(refused.status, ExitStatus::exited(65)) << refused.err;
    EXPECT_EQ(lines_of(refused.err).size(), std::size_t{1}) << refused.err;
    // The same rule as for a directory, word for word: mixing exclusive and --shared is the
    // designed use, only --slots refuses another mode (issue 25).
    EXPECT_TRUE(refused.err.ends_with(
        " (a lock taken with --slots N is shared only with runs that give the same N; exclusive "
        "and --shared runs of one lock take turns instead)\n"))
        << refused.err;
  }
  EXPECT_EQ(keys().size(), std::size_t{1}) << "a refused run left its key";
  slots->let_go();
  EXPECT_EQ(slots->process->wait(10s), ExitStatus::exited(0));
}

} // namespace
} // namespace buildlock::test

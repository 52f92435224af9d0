// Locks held in etcd (issue 16) when etcd itself falters: a holder that cannot renew its lease
// for a third of a TTL reports LOCK LOST, stops its command tree and exits 76 (unless
// --keep-running-if-lost: then only the exit is 76); a 3-member cluster keeps the lock across the
// loss of its leader.
#include "support/etcd_test.h"
#include "support/waiting.h"

#include <csignal>
#include <gtest/gtest.h>
#include <stdexcept>
#include <string>
#include <vector>

namespace buildlock::test {
namespace {

class EtcdLiveness : public EtcdTest {};

// Safe by default (issue 21): the same stop with or without --stop-if-lost given.
class EtcdLivenessStop : public EtcdLiveness,
                         public ::testing::WithParamInterface<std::vector<std::string>> {};

TEST_P(EtcdLivenessStop, EtcdStoppedPastTheTtlStopsTheCommand) {
  std::vector<std::string> options = {"--stale-after", "1"};
  options.insert(options.end(), GetParam().begin(), GetParam().end());
  auto holder = hold_tree(options, tree_of({"notify", "3", "wait", "4"}));
  etcd.member(0).send_signal(SIGSTOP);
  const ExitStatus status = holder->process->wait(workload_bound(15s));
  etcd.member(0).send_signal(SIGCONT);
  EXPECT_EQ(status, ExitStatus::exited(76)) << holder->process->stderr_text();
  EXPECT_NE(holder->process->stderr_text().find("LOCK LOST"), std::string::npos)
      << holder->process->stderr_text();
  EXPECT_TRUE(holder->started.read_to_end(5s).has_value())
      << "the command's tree outlived the lost lock";
}

INSTANTIATE_TEST_SUITE_P(ByDefaultAndWithStopIfLost, EtcdLivenessStop,
                         ::testing::Values(std::vector<std::string>{},
                                           std::vector<std::string>{"--stop-if-lost"}),
                         [](const ::testing::TestParamInfo<std::vector<std::string>>& param_info) {
                           return param_info.param.empty() ? std::string("Default")
                                                           : std::string("StopIfLost");
                         });

TEST_F(EtcdLiveness, WithKeepRunningIfLostTheCommandIsWarnedRunsOnAndExits76) {
  auto holder = hold_tree({"--stale-after", "1", "--keep-running-if-lost"},
                          tree_of({"notify", "3", "wait", "4"}));
  etcd.member(0).send_signal(SIGSTOP);
  EXPECT_TRUE(
      file_eventually_contains(holder->process->stderr_path(), "LOCK LOST", workload_bound(15s)));
  etcd.member(0).send_signal(SIGCONT);
  EXPECT_TRUE(holder->process->is_running());
  holder->let_go();
  // The command succeeded, but not under the lock: never exit 0.
  EXPECT_EQ(holder->process->wait(workload_bound(10s)), ExitStatus::exited(76));
}

// The fixture itself: an etcd that exits at its start is reported as such (with its log), at
// once, not after the 20 s that a slow start may take.
class EtcdFixture : public IntegrationTest {};

TEST_F(EtcdFixture, AnEtcdThatExitsAtItsStartIsReportedNotWaitedFor) {
  try {
    EtcdCluster cluster(1, EtcdTransport::plain, {"--no-such-option"});
    ADD_FAILURE() << "etcd started with an unknown option";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("etcd exited at its start"), std::string::npos)
        << error.what();
    EXPECT_NE(std::string(error.what()).find("no-such-option"), std::string::npos) << error.what();
  }
}

class EtcdCluster3 : public EtcdTest {
protected:
  EtcdCluster3() : EtcdTest(3) {}
};

TEST_F(EtcdCluster3, LockSurvivesTheLossOfTheLeader) {
  // A TTL of 4 s: the holder must renew through the election that follows (250 ms of election
  // timeout here) within a third of it, its jeopardy (1.3 s; with 2 s and 3 s the test failed
  // with the load average at 35 on two cores).
  auto holder =
      hold_tree({"--stale-after", "4", "--stop-if-lost"}, tree_of({"notify", "3", "wait", "4"}));
  const std::size_t leader = etcd.leader();
  etcd.member(leader).send_signal(SIGKILL);
  EXPECT_TRUE(etcd.member(leader).wait(5s).signaled);
  // Two TTLs of waiting for the lock: the holder must renew through the other members all that
  // time, and the waiter must never get it.
  const Finished refused =
      run(run_under_lock("L", scripted({"exit", "0"}), {"--timeout", "8"}), workload_bound(15s));
  EXPECT_EQ(refused.status, ExitStatus::exited(75)) << refused.err;
  EXPECT_TRUE(holder->process->is_running()) << holder->process->stderr_text();
  holder->let_go();
  EXPECT_EQ(holder->process->wait(workload_bound(10s)), ExitStatus::exited(0))
      << holder->process->stderr_text();
  EXPECT_EQ(holder->process->stderr_text().find("LOCK LOST"), std::string::npos)
      << holder->process->stderr_text();
  const Finished after = run(run_under_lock("L", scripted({"exit", "0"}), {"--timeout", "5"}));
  EXPECT_EQ(after.status, ExitStatus::exited(0)) << after.err;
}

} // namespace
} // namespace buildlock::test

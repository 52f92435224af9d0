// The trace (issue 24) of runs whose lock is held in etcd: the same events as for a lock
// directory (run_trace_test.cpp), with the etcd location as the store, whom a waiter queued
// behind, a timeout, and a reclaim (a revoked lease) of a holder killed on this machine.
#include "support/etcd_test.h"
#include "support/trace_check.h"
#include "support/waiting.h"

#include <algorithm>
#include <gtest/gtest.h>

namespace buildlock::test {
namespace {

class EtcdTrace : public EtcdTest {
protected:
  std::string trace_path = temp / "trace.json";

  // As RunTrace::start_stamped: `run --trace FILE OPTIONS... L -- <stamped command NAME>`.
  std::unique_ptr<Holding> start_stamped(const std::string& name, std::vector<std::string> options,
                                         bool held) const {
    options.insert(options.begin(), {"--trace", trace_path});
    return start_stamped_run(
        run_under_lock("L", stamped_command(temp / name, held), std::move(options)), held);
  }
};

TEST_F(EtcdTrace, AWaiterQueuesBehindTheHolderAndALaterOneTimesOut) {
  auto holder = start_stamped("holder", {}, true);
  ASSERT_TRUE(holder->started.receives_byte(workload_bound(10s)));
  auto waiter = start_stamped("waiter", {"--verbose"}, false);
  ASSERT_TRUE(file_eventually_contains(waiter->process->stderr_path(), "waiting for lock `L`",
                                       workload_bound(10s)));
  const Finished late = run(run_under_lock("L", stamped_command(temp / "late", false),
                                           {"--trace", trace_path, "--timeout", "0.3"}));
  EXPECT_EQ(late.status, ExitStatus::exited(75)) << late.err;
  holder->let_go();
  ASSERT_EQ(holder->process->wait(workload_bound(10s)), ExitStatus::exited(0));
  ASSERT_EQ(waiter->process->wait(workload_bound(10s)), ExitStatus::exited(0))
      << waiter->process->stderr_text();

  const TraceFile trace = read_trace(trace_path);
  ASSERT_EQ(trace.waits.size(), 3u);
  ASSERT_EQ(trace.holds.size(), 2u);
  EXPECT_TRUE(wait_and_hold_match(trace, holder->pid(), read_stamps(temp / "holder")));
  EXPECT_TRUE(wait_and_hold_match(trace, waiter->pid(), read_stamps(temp / "waiter")));
  EXPECT_TRUE(holds_overlap_at_most(trace, 1));
  EXPECT_TRUE(contains(waited_behind(trace, waiter->pid()), holder->pid()))
      << trace.wait_of(waiter->pid())->dump();
  EXPECT_EQ(trace.hold_of(holder->pid())->at("args").at("store"), lock_dir);
  for (const nlohmann::json& wait : trace.waits) {
    const std::int64_t tid = wait.at("tid").get<std::int64_t>();
    if (tid != holder->pid() && tid != waiter->pid()) {
      EXPECT_EQ(wait.at("args").at("outcome"), "timeout") << wait.dump();
      EXPECT_TRUE(contains(waited_behind(trace, tid), holder->pid())) << wait.dump();
    }
  }
}

// kill -9 of the holder's job: the next run revokes its lease, and its wait says so.
TEST_F(EtcdTrace, AKilledHoldersLeaseIsRevokedAndTheWaitSaysSo) {
  auto holder = start_holding("L", {"--stale-after", "300", "--trace", trace_path}, {},
                              [](Command& c) { c.own_process_group(); });
  // Its keeper would free the lock at once; the reclaim is what is tested here.
  EXPECT_EQ(kill_keepers("L"), std::size_t{1});
  auto next = start_stamped("next", {"--verbose"}, false);
  ASSERT_TRUE(file_eventually_contains(next->process->stderr_path(), "waiting for lock `L`",
                                       workload_bound(10s)));
  kill_job_with_sigkill(*holder->process);
  ASSERT_EQ(next->process->wait(workload_bound(10s)), ExitStatus::exited(0))
      << next->process->stderr_text();

  const TraceFile trace = read_trace(trace_path);
  ASSERT_EQ(trace.holds.size(), 1u) << "a killed holder writes no hold";
  EXPECT_TRUE(wait_and_hold_match(trace, next->pid(), read_stamps(temp / "next")));
  const nlohmann::json& wait = *trace.wait_of(next->pid());
  EXPECT_TRUE(contains(waited_behind(trace, next->pid()), holder->pid())) << wait.dump();
  const nlohmann::json& reclaimed = wait.at("args").at("reclaimed");
  ASSERT_EQ(reclaimed.size(), 1u) << wait.dump();
  EXPECT_NE(reclaimed[0].get<std::string>().find("pid " + std::to_string(holder->pid())),
            std::string::npos)
      << reclaimed.dump();
}

} // namespace
} // namespace buildlock::test

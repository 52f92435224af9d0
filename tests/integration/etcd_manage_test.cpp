// `status`, `clean` and `break` on locks held in etcd (issue 16): the same table and JSON as for a
// lock directory (plus the etcd fields), a dead local holder cleaned, a live one broken only with
// --force, and its run told at once (LOCK LOST).
#include "support/etcd_test.h"
#include "support/waiting.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace buildlock::test {
namespace {

class EtcdManage : public EtcdTest {};

TEST_F(EtcdManage, StatusShowsTheHolderAndTheQueue) {
  auto holder = start_holding("L");
  Command waiting = run_under_lock("L", tree_of({"exit", "0"}), {"--verbose"});
  Process waiter = waiting.start();
  ASSERT_TRUE(
      file_eventually_contains(waiter.stderr_path(), "waiting for lock `L`", workload_bound(10s)));

  const Finished json_status = run(buildlock({"status", "--dir", lock_dir, "--json"}));
  ASSERT_EQ(json_status.status, ExitStatus::exited(0)) << json_status.err;
  const auto locks = nlohmann::json::parse(json_status.out);
  ASSERT_EQ(locks.size(), std::size_t{1}) << json_status.out;
  const auto& lock = locks[0];
  EXPECT_EQ(lock["name"], "L");
  EXPECT_EQ(lock["state"], "held");
  EXPECT_EQ(lock["pid"], holder->pid());
  ASSERT_EQ(lock["holders"].size(), std::size_t{2}) << json_status.out;
  EXPECT_EQ(lock["holders"][0]["queue"], "holds");
  EXPECT_EQ(lock["holders"][0]["kind"], "lock");
  EXPECT_EQ(lock["holders"][1]["queue"], "waits");
  EXPECT_EQ(lock["holders"][1]["kind"], "writer");
  EXPECT_EQ(lock["holders"][1]["pid"], waiter.pid());
  EXPECT_LT(lock["holders"][0]["fencing_token"].get<long long>(),
            lock["holders"][1]["fencing_token"].get<long long>());

  const Finished table = run(buildlock({"status", "--dir", lock_dir}));
  EXPECT_EQ(table.status, ExitStatus::exited(0)) << table.err;
  EXPECT_NE(table.out.find(std::to_string(holder->pid())), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("[pid-alive]"), std::string::npos) << table.out;

  holder->let_go();
  EXPECT_EQ(waiter.wait(10s), ExitStatus::exited(0));
  EXPECT_EQ(holder->process->wait(10s), ExitStatus::exited(0));
}

TEST_F(EtcdManage, CleanRevokesDeadLocalHoldersOnly) {
  auto dead = start_holding("dead", {}, {}, [](Command& c) { c.own_process_group(); });
  // Its keeper first, or it would revoke the lease itself once the job is gone.
  EXPECT_EQ(kill_keepers("dead"), std::size_t{1});
  kill_job_with_sigkill(*dead->process);
  EXPECT_TRUE(dead->process->wait(5s).signaled);
  auto alive = start_holding("alive");
  ASSERT_EQ(keys().size(), std::size_t{2});

  const Finished dry = run(buildlock({"clean", "--dir", lock_dir, "--dry-run", "--json"}));
  EXPECT_EQ(dry.status, ExitStatus::exited(0)) << dry.err;
  EXPECT_EQ(nlohmann::json::parse(dry.out).size(), std::size_t{1}) << dry.out;
  EXPECT_EQ(keys().size(), std::size_t{2}) << "--dry-run removed something";

  const Finished cleaned = run(buildlock({"clean", "--dir", lock_dir, "--json"}));
  EXPECT_EQ(cleaned.status, ExitStatus::exited(0)) << cleaned.err;
  const auto removed = nlohmann::json::parse(cleaned.out);
  ASSERT_EQ(removed.size(), std::size_t{1}) << cleaned.out;
  EXPECT_EQ(removed[0]["name"], "dead");
  EXPECT_EQ(removed[0]["reason"], "holder-dead");
  EXPECT_EQ(removed[0]["action"], "removed");
  const std::vector<std::string> left = keys();
  ASSERT_EQ(left.size(), std::size_t{1});
  EXPECT_NE(left[0].find("/alive/"), std::string::npos) << left[0];
  alive->let_go();
  EXPECT_EQ(alive->process->wait(10s), ExitStatus::exited(0));
}

TEST_F(EtcdManage, BreakNeedsForceForALiveHolderWhoIsThenTold) {
  auto holder =
      hold_tree({"--stale-after", "1", "--stop-if-lost"}, tree_of({"notify", "3", "wait", "4"}));
  const Finished refused = run(buildlock({"break", "--dir", lock_dir, "L"}));
  EXPECT_EQ(refused.status, ExitStatus::exited(75)) << refused.err;
  EXPECT_TRUE(holder->process->is_running());

  const Finished forced = run(buildlock({"break", "--dir", lock_dir, "--force", "L"}));
  EXPECT_EQ(forced.status, ExitStatus::exited(0)) << forced.err;
  EXPECT_NE(forced.err.find("broke lock `L`"), std::string::npos) << forced.err;
  EXPECT_EQ(holder->process->wait(workload_bound(10s)), ExitStatus::exited(76))
      << holder->process->stderr_text();
  EXPECT_NE(holder->process->stderr_text().find("LOCK LOST"), std::string::npos);
  EXPECT_EQ(keys(), std::vector<std::string>{});
}

TEST_F(EtcdManage, BreakOfAFreeLockIsANotice) {
  const Finished done = run(buildlock({"break", "--dir", lock_dir, "L"}));
  EXPECT_EQ(done.status, ExitStatus::exited(0)) << done.err;
  EXPECT_NE(done.err.find("not held"), std::string::npos) << done.err;
}

} // namespace
} // namespace buildlock::test

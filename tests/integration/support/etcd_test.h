// EtcdTest: IntegrationTest whose lock location is a real etcd started for the test case
// (support/etcd_cluster.h): run_under_lock() and start_holding() then use etcd://.../ci/locks.
#pragma once

#include "support/etcd_cluster.h"
#include "support/integration_test.h"

#include <memory>
#include <string>
#include <vector>

namespace buildlock::test {

class EtcdTest : public IntegrationTest {
protected:
  explicit EtcdTest(int members = 1, EtcdTransport transport = EtcdTransport::plain,
                    std::vector<std::string> etcd_options = {})
      : etcd(members, transport, std::move(etcd_options)) {
    lock_dir = etcd.location(prefix);
  }

  static constexpr const char* prefix = "/ci/locks";
  EtcdCluster etcd;

  // The keys under the prefix, oldest first (`etcdctl get --prefix --keys-only`).
  std::vector<std::string> keys() const;
  // SIGKILL to the lease keepers (etcd/keeper.h) of lock `name`'s holds, found by their command
  // lines in /proc; returns how many. For a holder whose whole machine lost it (keeper included).
  std::size_t kill_keepers(const std::string& name) const;
  std::size_t kill_keepers_once(const std::string& name) const;
  // Success once the lease keeper of lock `name` at `location` (lock_dir by default) is asleep
  // reading its pipe from its buildlock (/proc: wchan in pipe_read, state S), i.e. ready: on a
  // loaded machine a keeper may need a while to start, and a test that kills its buildlock
  // before then tests the machine's load rather than the keeper.
  ::testing::AssertionResult keeper_is_ready(const std::string& name,
                                             const std::string& location = "") const;
  // The pid of the lease keeper that keeper_is_ready() found last (0 before).
  mutable pid_t ready_keeper = 0;
  // The command line of a run whose command is a tree: a shell that starts
  // `scripted_command STEPS...` in the background and waits for it.
  static std::vector<std::string> tree_of(std::vector<std::string> steps);
  // `run OPTIONS... L -- COMMAND...` where COMMAND gets fd 3 and 4 like start_holding()'s, once
  // its fd 3 got a byte. (With tree_of(), fd 3 stays open in the shell and its child, so that
  // reading it to the end proves both are gone.)
  std::unique_ptr<Holding> hold_tree(const std::vector<std::string>& options,
                                     const std::vector<std::string>& command) const;
};

} // namespace buildlock::test

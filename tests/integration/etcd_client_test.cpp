// What etcd's client side meets (issue 21): a waiter asleep on a watch (seen in its requests,
// not in elapsed time), auth tokens that expire, and locations typed wrong.
#include "support/etcd_test.h"
#include "support/lock_files.h"
#include "support/tcp_relay.h"
#include "support/waiting.h"

#include <algorithm>
#include <filesystem>
#include <gtest/gtest.h>
#include <regex>
#include <sys/stat.h>

namespace buildlock::test {
namespace {

class EtcdClient : public EtcdTest {};

// A waiter sleeps on a watch, not on a poll: seen in what it asks etcd (through a relay that
// logs every request), not in how long anything took.
TEST_F(EtcdClient, WaiterSleepsOnAWatch) {
  TcpRelay relay(std::stoi(etcd.endpoint(0).substr(etcd.endpoint(0).find(':') + 1)));
  auto holder = start_holding("L");
  Pipe started;
  // TTL 300 s: its renewals, each of which starts a new watch, are far beyond the test.
  Process waiter =
      buildlock({"run", "--dir", "etcd://" + relay.endpoint() + prefix, "--verbose",
                 "--stale-after", "300", "L", "--", scripted_command_binary(), "notify", "3"})
          .pass_fd(3, started.write_fd())
          .start();
  started.close_write();
  EXPECT_TRUE(
      file_eventually_contains(waiter.stderr_path(), "waiting for lock `L`", workload_bound(10s)));
  EXPECT_TRUE(
      file_eventually_contains(relay.output_path(), "request /v3/watch\n", workload_bound(10s)));
  EXPECT_FALSE(started.receives_byte(milliseconds(0)));
  holder->let_go();
  EXPECT_TRUE(started.receives_byte(workload_bound(10s)));
  EXPECT_EQ(waiter.wait(10s), ExitStatus::exited(0)) << waiter.stderr_text();
  EXPECT_EQ(relay.requests("/v3/watch"), 1U) << read_file(relay.output_path());
}

// Finding 10 of issue 21: no read after the watch. A waiter watches every key of the lock from
// the revision of the read that put it in the queue, so each deletion reaches it and it decides
// from the events alone: the first holder's end leaves it behind the second, the second's lets it
// hold, and it never reads the keys again (the relay sees no range request after the watch). The
// two ahead of it are keys of another host under leases of etcdctl, which the test revokes: a
// holder on this host would also be looked at by its pid, and a look that finds it gone just
// before its deletion arrives reads again, rightly.
TEST_F(EtcdClient, WaiterDecidesFromItsWatchEventsWithoutReadingAgain) {
  const auto elsewhere = [&]() -> std::string {
    const Finished granted = run(etcd.etcdctl({"lease", "grant", "300"}));
    std::smatch match;
    EXPECT_TRUE(std::regex_search(granted.out, match, std::regex("lease ([0-9a-f]{16}) granted")))
        << granted.out << granted.err;
    const std::string lease = match[1];
    const std::string metadata =
        R"({"format":"buildlock","version":1,"mode":"exclusive","pid":1,"start_time":1,)"
        R"("boot_id":"another-machine","pid_namespace":"pid:[1]","host":"elsewhere",)"
        R"("user":"ci","uid":1000,"command":["make"],"acquired_at":"2026-01-01T00:00:00.000Z"})";
    EXPECT_EQ(run(etcd.etcdctl(
                      {"put", "--lease=" + lease, std::string(prefix) + "/L/" + lease, metadata}))
                  .status,
              ExitStatus::exited(0));
    return lease;
  };
  const std::string first = elsewhere();
  const std::string second = elsewhere();
  TcpRelay relay(std::stoi(etcd.endpoint(0).substr(etcd.endpoint(0).find(':') + 1)));
  Pipe started;
  // TTL 300 s: no renewal (which reads its own key) falls within the test.
  Process waiter =
      buildlock({"run", "--dir", "etcd://" + relay.endpoint() + prefix, "--verbose",
                 "--stale-after", "300", "L", "--", scripted_command_binary(), "notify", "3"})
          .pass_fd(3, started.write_fd())
          .start();
  started.close_write();
  ASSERT_TRUE(
      file_eventually_contains(waiter.stderr_path(), "waiting for lock `L`", workload_bound(10s)));
  ASSERT_TRUE(
      file_eventually_contains(relay.output_path(), "request /v3/watch\n", workload_bound(10s)));
  const std::size_t reads = relay.requests("/v3/kv/range");

  ASSERT_EQ(run(etcd.etcdctl({"lease", "revoke", first})).status, ExitStatus::exited(0));
  // Still behind the second: its command must not start (nor read: checked at the end).
  const Finished shown = run(buildlock({"status", "--dir", lock_dir, "--json"}));
  EXPECT_NE(shown.out.find("elsewhere"), std::string::npos) << shown.out;
  EXPECT_FALSE(started.receives_byte(milliseconds(0)));
  ASSERT_EQ(run(etcd.etcdctl({"lease", "revoke", second})).status, ExitStatus::exited(0));
  EXPECT_TRUE(started.receives_byte(workload_bound(10s))) << waiter.stderr_text();
  EXPECT_EQ(waiter.wait(workload_bound(10s)), ExitStatus::exited(0)) << waiter.stderr_text();
  EXPECT_EQ(relay.requests("/v3/kv/range"), reads) << read_file(relay.output_path());
  EXPECT_EQ(relay.requests("/v3/watch"), 1U) << read_file(relay.output_path());
}

// Finding 8 of issue 21: typos of a location are usage errors, never a local directory (no
// exclusion across hosts at all); the cases one by one are in tests/unit/etcd_location_test.cpp.
TEST_F(EtcdClient, MistypedLocationIsAUsageErrorAndCreatesNothing) {
  const std::string endpoint = etcd.endpoint(0);
  const std::string work = temp / "work";
  ASSERT_EQ(::mkdir(work.c_str(), 0755), 0);
  for (const std::string& dir : std::vector<std::string>{
           "ETCD://" + endpoint + "/ci", "etcd:/" + endpoint + "/ci", "etcd:" + endpoint + "/ci",
           "http://" + endpoint + "/ci", " etcd://" + endpoint + "/ci", "etcd://[::1/ci",
           "etcd://::1:2379/ci", "etcd://127.0.0.1:99999/ci", "etcd://" + endpoint + "/ci?x=1"}) {
    const Finished done = run(buildlock({"run", "--dir", dir, "L", "--", "sh", "-c", "touch ran"})
                                  .working_directory(work));
    EXPECT_EQ(done.status, ExitStatus::exited(2)) << dir << ": " << done.err;
    EXPECT_EQ(lines_of(done.err).size(), std::size_t{1}) << done.err;
    EXPECT_EQ(done.err.rfind("buildlock: error: ", 0), std::size_t{0}) << done.err;
    for (const std::string subcommand : {"status", "clean"}) {
      EXPECT_EQ(run(buildlock({subcommand, "--dir", dir}).working_directory(work)).status,
                ExitStatus::exited(2))
          << subcommand << " " << dir;
    }
  }
  EXPECT_EQ(directory_entries(work), std::vector<std::string>{})
      << "a mistyped location became a directory, or the command ran";
}

// Finding 5 of issue 21: etcd's auth tokens expire (a simple token 1 s after its last use here;
// JWTs after 5 minutes by default). A waiter whose token expired between two requests
// authenticates again instead of giving up (exit 74), and a holder can still revoke its lease.
class EtcdShortTokens : public EtcdTest {
protected:
  EtcdShortTokens() : EtcdTest(1, EtcdTransport::plain, {"--auth-token-ttl", "1"}) {}
};

TEST_F(EtcdShortTokens, AnExpiredTokenIsRenewedNotAFailure) {
  ASSERT_EQ(run(etcd.etcdctl({"user", "add", "root:secret"})).status, ExitStatus::exited(0));
  ASSERT_EQ(run(etcd.etcdctl({"auth", "enable"})).status, ExitStatus::exited(0));
  auto holder = start_holding("L", {"--stale-after", "6"}, {},
                              [](Command& c) { c.env("BUILDLOCK_ETCD_USER", "root:secret"); });
  Pipe started;
  // TTL 6: the waiter renews and reads every 2 s, so its token expires between two requests.
  Command waiting = run_under_lock("L", scripted({"notify", "3"}), {"--stale-after", "6"});
  waiting.env("BUILDLOCK_ETCD_USER", "root:secret").pass_fd(3, started.write_fd());
  Process waiter = waiting.start();
  started.close_write();
  // Two renewals of the waiter, each after its token expired (the holder's renewals every 1 s
  // use a token of their own).
  EXPECT_FALSE(started.receives_byte(workload_bound(5s))) << "got the lock while it was held";
  EXPECT_TRUE(waiter.is_running()) << waiter.stderr_text();
  holder->let_go();
  EXPECT_EQ(holder->process->wait(10s), ExitStatus::exited(0));
  EXPECT_EQ(holder->process->stderr_text(), "") << "the release could not revoke the lease";
  EXPECT_TRUE(started.receives_byte(workload_bound(10s))) << waiter.stderr_text();
  EXPECT_EQ(waiter.wait(10s), ExitStatus::exited(0)) << waiter.stderr_text();
}

// The lease keeper outlives its buildlock by design: it must hold none of the descriptors the
// run passed on to its command (a build's pipes, a jobserver, here the test's fd 3 and 4), or a
// build waiting for their end would wait for the keeper.
TEST_F(EtcdClient, TheLeaseKeeperHoldsNoDescriptorOfTheRun) {
  auto holder = start_holding("L");
  ASSERT_TRUE(keeper_is_ready("L"));
  std::vector<std::string> descriptors;
  for (const auto& entry :
       std::filesystem::directory_iterator("/proc/" + std::to_string(ready_keeper) + "/fd")) {
    descriptors.push_back(entry.path().filename().string());
  }
  std::sort(descriptors.begin(), descriptors.end());
  EXPECT_EQ(descriptors, (std::vector<std::string>{"0", "1", "2"}));
  holder->let_go();
  EXPECT_EQ(holder->process->wait(10s), ExitStatus::exited(0));
}

} // namespace
} // namespace buildlock::test

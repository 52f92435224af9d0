// `status`, `clean` and `break` on locks held in etcd (issue 16): the same table and JSON as for a
// lock directory (plus the etcd fields), a dead local holder cleaned, a live one broken only with
// --force, and its run told at once (LOCK LOST).
#include "support/etcd_test.h"
#include "support/pipe.h"
#include "support/waiting.h"

#include <cstdio>
#include <ctime>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

namespace buildlock::test {
namespace {

class EtcdManage : public EtcdTest {};

// `2026-12-07T10:48:05.123Z` as milliseconds since the epoch (UTC).
std::optional<long long> parse_utc_milliseconds(const std::string& text) {
  std::tm parts{};
  int milliseconds = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &parts.tm_year, &parts.tm_mon,
                  &parts.tm_mday, &parts.tm_hour, &parts.tm_min, &parts.tm_sec,
                  &milliseconds) != 7) {
    return std::nullopt;
  }
  parts.tm_year -= 1900;
  parts.tm_mon -= 1;
  return static_cast<long long>(::timegm(&parts)) * 1000 + milliseconds;
}

// A wall-clock time in nanoseconds that a command wrote with `date +%s%N`, in milliseconds.
long long written_milliseconds(const std::string& path) {
  std::ifstream file(path);
  long long nanoseconds = 0;
  file >> nanoseconds;
  return nanoseconds / 1000000;
}

// The lock's keys as `etcdctl get -w json` shows them (revisions and lease as numbers).
nlohmann::json key_values(const EtcdCluster& etcd, const std::string& prefix) {
  const Finished got = run(etcd.etcdctl({"get", "--prefix", "-w", "json", prefix}));
  return nlohmann::json::parse(got.out).value("kvs", nlohmann::json::array());
}

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

// Issue 25, item 1, for etcd: a key is created when its run arrives and its acquired_at said so,
// so a run that waited showed the wait as holding. Its holder rewrites the value once it holds
// (the same lease, the same create revision): acquired_at lies between the end of the previous
// holder's command and the start of its own, each as the command itself wrote it.
TEST_F(EtcdManage, ARunThatWaitedHoldsFromWhenItTookTheLockNotFromWhenItArrived) {
  const std::string first_end = temp / "first-end";
  const std::string second_start = temp / "second-start";
  Pipe first_started, first_release;
  Command first_command = run_under_lock(
      "L", {"sh", "-c", "echo >&3; head -c 1 <&4 >/dev/null; date +%s%N > \"$0\"", first_end});
  first_command.pass_fd(3, first_started.write_fd()).pass_fd(4, first_release.read_fd());
  Process first = first_command.start();
  first_started.close_write();
  first_release.close_read();
  ASSERT_TRUE(first_started.receives_byte(workload_bound(10s))) << first.stderr_text();

  Pipe second_started, second_release;
  Command second_command = run_under_lock(
      "L", {"sh", "-c", "date +%s%N > \"$0\"; echo >&3; head -c 1 <&4 >/dev/null", second_start},
      {"--verbose"});
  second_command.pass_fd(3, second_started.write_fd()).pass_fd(4, second_release.read_fd());
  Process second = second_command.start();
  second_started.close_write();
  second_release.close_read();
  ASSERT_TRUE(
      file_eventually_contains(second.stderr_path(), "waiting for lock `L`", workload_bound(10s)));
  // Queued: its key exists with its arrival as acquired_at.
  const nlohmann::json queued = key_values(etcd, prefix);
  ASSERT_EQ(queued.size(), std::size_t{2}) << queued.dump();
  // A run that held at once is not rewritten: it arrived when it took the lock.
  EXPECT_EQ(queued[0]["mod_revision"], queued[0]["create_revision"]) << queued.dump();
  const std::string key = queued[1]["key"];
  const long long create_revision = std::stoll(queued[1]["create_revision"].dump());

  first_release.write_byte();
  EXPECT_EQ(first.wait(workload_bound(10s)), ExitStatus::exited(0)) << first.stderr_text();
  ASSERT_TRUE(second_started.receives_byte(workload_bound(10s))) << second.stderr_text();
  // The rewrite follows the command's start (off the handoff's path): wait for etcd to have it.
  nlohmann::json held;
  const auto deadline = Clock::now() + workload_bound(10s);
  while (true) {
    held = key_values(etcd, prefix);
    ASSERT_EQ(held.size(), std::size_t{1}) << held.dump();
    if (held[0]["mod_revision"] != held[0]["create_revision"] || Clock::now() > deadline) {
      break;
    }
    std::this_thread::sleep_for(milliseconds(5));
  }
  ASSERT_NE(held[0]["mod_revision"], held[0]["create_revision"])
      << "the value was never rewritten: " << held.dump();
  // The same key, the same place in the queue (fencing token), still with its lease.
  EXPECT_EQ(held[0]["key"], key);
  EXPECT_EQ(std::stoll(held[0]["create_revision"].dump()), create_revision);
  const long long lease = std::stoll(held[0]["lease"].dump());
  char lease_hex[17];
  std::snprintf(lease_hex, sizeof lease_hex, "%016llx", lease);
  const std::vector<std::string> names = keys();
  ASSERT_EQ(names.size(), std::size_t{1});
  EXPECT_TRUE(names[0].ends_with(lease_hex)) << names[0] << " has lease " << lease_hex;

  const Finished status = run(buildlock({"status", "--dir", lock_dir, "--json"}));
  ASSERT_EQ(status.status, ExitStatus::exited(0)) << status.err;
  const auto object = nlohmann::json::parse(status.out).at(0);
  EXPECT_EQ(object["pid"], second.pid());
  const auto acquired_at = parse_utc_milliseconds(object["acquired_at"].get<std::string>());
  ASSERT_TRUE(acquired_at) << object.dump();
  // acquired_at has millisecond resolution, truncated: compare on that resolution.
  EXPECT_GE(*acquired_at, written_milliseconds(first_end))
      << "acquired_at counts the wait: " << object.dump();
  EXPECT_LE(*acquired_at, written_milliseconds(second_start)) << object.dump();
  EXPECT_LE(object["held_seconds"].get<double>(),
            double(std::chrono::duration_cast<milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count() -
                   written_milliseconds(first_end)) /
                    1000.0 +
                0.002)
      << object.dump();
  second_release.write_byte();
  EXPECT_EQ(second.wait(workload_bound(10s)), ExitStatus::exited(0)) << second.stderr_text();
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

// A holder on another host is judged by its heartbeat alone (issue 6): while it refreshes its
// lock file more often than --stale-after, no waiter here ever takes the lock; once it stops, a
// waiter takes it within one recheck after the threshold. Its age is the time since the last
// refresh on the filesystem's clock; the time the holder says it took the lock (`acquired_at`,
// on its own, possibly skewed clock) plays no part.
//
// This test process plays the other host: it writes the other host's metadata, holds no kernel
// lock (none would be visible across hosts on NFS), and refreshes the mtime like a real holder
// (utimensat with the filesystem's "now").
#include "shared_fs_test_support.h"
#include "support/waiting.h"

#include <atomic>
#include <condition_variable>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <mutex>
#include <sys/stat.h>
#include <thread>

namespace buildlock::test {
namespace {

using std::chrono::seconds;

// The other host's heartbeat: sets the lock file's mtime to the filesystem's "now" every
// `interval` from construction until stop() (or destruction).
class ForeignHeartbeat {
public:
  ForeignHeartbeat(std::string path, milliseconds interval)
      : path_(std::move(path)), interval_(interval), thread_([this] { beat(); }) {}
  ~ForeignHeartbeat() { stop(); }
  ForeignHeartbeat(const ForeignHeartbeat&) = delete;
  ForeignHeartbeat& operator=(const ForeignHeartbeat&) = delete;

  void stop() {
    {
      const std::lock_guard<std::mutex> guard(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) {
      thread_.join();
    }
  }
  int beats() const { return beats_; }
  bool failed() const { return failed_; }

private:
  void beat() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
      if (::utimensat(AT_FDCWD, path_.c_str(), nullptr, AT_SYMLINK_NOFOLLOW) != 0) {
        failed_ = true; // the file is gone or replaced: the waiter took it
      } else {
        ++beats_;
      }
      wake_.wait_for(lock, interval_, [this] { return stopping_; });
    }
  }

  std::string path_;
  milliseconds interval_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::atomic<int> beats_{0};
  std::atomic<bool> failed_{false};
  std::thread thread_;
};

ino_t inode_of(const std::string& path) {
  struct stat info {};
  return ::lstat(path.c_str(), &info) == 0 ? info.st_ino : 0;
}

class SharedFsHeartbeat : public IntegrationTest {
protected:
  void SetUp() override { make_lock_dir(); }

  void write_other_host_lock(const HolderMetadata& metadata) const {
    write_lock_file(lock_path("L"), to_json(metadata), WallClock::now());
  }

  // A waiter with --stale-after 1 whose command says when it runs.
  Process start_waiter(Pipe& started, std::vector<std::string> options) const {
    options.insert(options.begin(), {"--verbose", "--kernel-locks", "auto", "--stale-after", "1"});
    Command command = run_under_lock("L", scripted({"notify", "3"}), std::move(options));
    command.pass_fd(3, started.write_fd());
    Process process = command.start();
    started.close_write();
    return process;
  }
};

constexpr auto stale_after = seconds(1);
// A real holder refreshes every --stale-after / 4; this one a little more often.
constexpr auto heartbeat_interval = milliseconds(200);

TEST_F(SharedFsHeartbeat, HolderOnAnotherHostThatKeepsRefreshingIsNeverReclaimed) {
  // Its pid is dead here: a reader that checked it would take the lock at once.
  write_other_host_lock(metadata_from_other_host(reaped_pid()));
  const std::string content = read_file(lock_path("L"));
  const ino_t inode = inode_of(lock_path("L"));
  ForeignHeartbeat heartbeat(lock_path("L"), heartbeat_interval);

  Pipe started;
  Process waiter = start_waiter(started, {"--timeout", "3"});
  EXPECT_EQ(waiter.wait(15s), ExitStatus::exited(75)) << waiter.stderr_text();
  EXPECT_TRUE(started.ends_without_data(5s)) << "the command ran under a live holder's lock";
  heartbeat.stop();

  const std::string err = waiter.stderr_text();
  // It kept looking (at least once a second) and every look found the heartbeat fresh.
  EXPECT_GE(count_occurrences(err, "[heartbeat-fresh]"), 3U) << err;
  EXPECT_EQ(count_occurrences(err, "reclaimed"), 0U) << err;
  EXPECT_NE(err.find("timed out"), std::string::npos) << err;
  EXPECT_FALSE(heartbeat.failed()) << "the lock file vanished while its holder refreshed it";
  EXPECT_GE(heartbeat.beats(), 10);
  EXPECT_EQ(inode_of(lock_path("L")), inode);
  EXPECT_EQ(read_file(lock_path("L")), content);
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{"L.lock"});
}

TEST_F(SharedFsHeartbeat,
       HolderOnAnotherHostThatStopsRefreshingIsReclaimedAtTheFirstLookPastStaleAfter) {
  write_other_host_lock(metadata_from_other_host(::getpid()));
  ForeignHeartbeat heartbeat(lock_path("L"), heartbeat_interval);
  Pipe started;
  Process waiter = start_waiter(started, {"--timeout", "20"});
  // The waiter has judged the lock held by its heartbeat at least once: now the holder dies.
  ASSERT_TRUE(file_eventually_contains(waiter.stderr_path(), "[heartbeat-fresh]", 10s));
  heartbeat.stop();
  const auto last_heartbeat = mtime_of(lock_path("L"));

  ASSERT_TRUE(started.receives_byte(10s)) << waiter.stderr_text();
  const auto taken_after = WallClock::now() - last_heartbeat;
  EXPECT_EQ(waiter.wait(10s), ExitStatus::exited(0)) << waiter.stderr_text();
  report_measurement("taken after the last heartbeat", taken_after);
  // Not before --stale-after, on the test's clock read after the fact (so only ever too long) and
  // on the waiter's own; at its first look past it (it looks again when the lock would expire,
  // +10 ms, and at least every second): every earlier look found the heartbeat fresh. No bound on
  // the delay, which a loaded machine stretches (2.4 s was seen) and a 20 s wait would show.
  EXPECT_GE(taken_after, stale_after) << "taken before its heartbeat was --stale-after old";
  const std::string err = waiter.stderr_text();
  const auto seen_age = age_seen_at_reclaim(err);
  ASSERT_TRUE(seen_age) << err;
  EXPECT_GE(*seen_age, stale_after) << err;
  EXPECT_EQ(count_occurrences(err, "[heartbeat-expired]"), 1U) << err;
  EXPECT_EQ(looks_at_held_lock(err), count_occurrences(err, "[heartbeat-fresh]")) << err;
  EXPECT_NE(err.find("reclaimed stale lock `L`"), std::string::npos) << err;
  EXPECT_NE(err.find("[heartbeat-expired]"), std::string::npos) << err;
  EXPECT_NE(err.find(other_host_name), std::string::npos) << err;
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{});
}

// The other host's clock is decades off: what it wrote as `acquired_at` is ignored, the age since
// its last refresh on the filesystem's clock decides.
struct SkewedClock {
  std::string name;
  std::string acquired_at;
};

void PrintTo(const SkewedClock& skew, std::ostream* out) {
  *out << skew.name;
}

class SharedFsSkewedClock : public SharedFsHeartbeat,
                            public ::testing::WithParamInterface<SkewedClock> {
protected:
  HolderMetadata skewed_holder() const {
    HolderMetadata metadata = metadata_from_other_host(reaped_pid());
    metadata.acquired_at = GetParam().acquired_at;
    return metadata;
  }

  Finished try_lock(const std::string& timeout, const std::string& stale) const {
    Pipe started;
    Command command = run_under_lock(
        "L", scripted({"notify", "3"}),
        {"--verbose", "--kernel-locks", "auto", "--timeout", timeout, "--stale-after", stale});
    command.pass_fd(3, started.write_fd());
    return run(command);
  }
};

TEST_P(SharedFsSkewedClock, FreshlyRefreshedLockIsHeld) {
  write_lock_file(lock_path("L"), to_json(skewed_holder()), WallClock::now());
  const std::string content = read_file(lock_path("L"));
  Finished finished = try_lock("0.2", "60");
  EXPECT_EQ(finished.status, ExitStatus::exited(75)) << finished.err;
  EXPECT_NE(finished.err.find("[heartbeat-fresh]"), std::string::npos) << finished.err;
  EXPECT_EQ(read_file(lock_path("L")), content);
}

TEST_P(SharedFsSkewedClock, LockNotRefreshedForStaleAfterIsReclaimed) {
  write_lock_file(lock_path("L"), to_json(skewed_holder()), WallClock::now() - seconds(10));
  Finished finished = try_lock("0", "2");
  EXPECT_EQ(finished.status, ExitStatus::exited(0)) << finished.err;
  EXPECT_NE(finished.err.find("[heartbeat-expired]"), std::string::npos) << finished.err;
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{});
}

INSTANTIATE_TEST_SUITE_P(Clocks, SharedFsSkewedClock,
                         ::testing::Values(SkewedClock{"FarFuture", "2099-12-31T23:59:59.999Z"},
                                           SkewedClock{"FarPast", "1971-01-01T00:00:00.000Z"},
                                           SkewedClock{"Unreadable", "yesterday, roughly"}),
                         [](const auto& param) { return param.param.name; });

} // namespace
} // namespace buildlock::test

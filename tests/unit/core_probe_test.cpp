// Inspecting one lock file and removing it only when that is safe: real files in a private
// directory, with kernel locks held through separate open file descriptions of this process.
#include "core/probe.h"
#include "os/clock.h"
#include "os/file_lock.h"
#include "os/process_identity.h"
#include "test_directory.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace buildlock;
using namespace buildlock::core;

namespace {

constexpr Seconds stale_after{2};

LockMetadata our_own_metadata() {
  const auto& local = os::local_identity();
  LockMetadata metadata;
  metadata.pid = local.pid;
  metadata.start_time = local.start_time;
  metadata.boot_id = local.boot_id;
  metadata.pid_namespace = local.pid_namespace;
  metadata.host = local.host;
  metadata.user = local.user;
  metadata.command = {"cmake", "--build", "b"};
  metadata.acquired_at = "2026-11-23T10:37:22.123Z";
  return metadata;
}

void write_file(const std::string& path, const std::string& content) {
  auto fd = os::create_new_file(path);
  ASSERT_TRUE(fd) << fd.error().message;
  ASSERT_TRUE(os::write_all(*fd, content));
}

std::int64_t mtime_of(const std::string& path) {
  auto info = os::lstat_entry(path);
  EXPECT_TRUE(info);
  return info ? info->mtime_ns : 0;
}

constexpr std::int64_t seconds_ns(double seconds) {
  return static_cast<std::int64_t>(seconds * 1e9);
}

LockInspection inspect(const std::string& path, std::optional<std::int64_t> now_ns) {
  auto inspection = inspect_lock_file(path, current_observer(), stale_after, now_ns);
  EXPECT_TRUE(inspection) << inspection.error().message;
  return inspection ? std::move(*inspection) : LockInspection{};
}

// Holds the kernel lock of `path` the way a live holder does: its own open file description.
os::Fd lock_as_another_holder(const std::string& path) {
  auto fd = os::open_regular_file(path);
  EXPECT_TRUE(fd) << fd.error().message;
  if (!fd) {
    return {};
  }
  auto locked = os::try_lock(*fd);
  EXPECT_TRUE(locked && *locked == os::LockAttempt::acquired);
  return std::move(*fd);
}

} // namespace

// --- What is at the path ------------------------------------------------------------------------

TEST(Probe, MissingLockIsReportedAsMissing) {
  test::TestDirectory dir;
  const LockInspection inspection = inspect(dir / "x.lock", std::nullopt);
  EXPECT_FALSE(inspection.exists());
  EXPECT_FALSE(inspection.fd);
}

TEST(Probe, FifoIsNotOpenedAndNotALockFile) {
  test::TestDirectory dir;
  ASSERT_EQ(::mkfifo((dir / "x.lock").c_str(), 0600), 0);
  // Opening a FIFO without a writer would block: returning at all is half the test.
  const LockInspection inspection = inspect(dir / "x.lock", std::nullopt);
  EXPECT_TRUE(inspection.exists());
  EXPECT_FALSE(inspection.is_lock_file());
  EXPECT_EQ(inspection.entry.type, os::EntryType::fifo);
  EXPECT_FALSE(inspection.fd);
}

TEST(Probe, SymbolicLinkIsNotFollowed) {
  test::TestDirectory dir;
  write_file(dir / "target", serialize_metadata(our_own_metadata()));
  ASSERT_EQ(::symlink((dir / "target").c_str(), (dir / "x.lock").c_str()), 0);
  const LockInspection inspection = inspect(dir / "x.lock", std::nullopt);
  EXPECT_EQ(inspection.entry.type, os::EntryType::symlink);
  EXPECT_FALSE(inspection.is_lock_file());
  EXPECT_FALSE(inspection.fd);
  EXPECT_FALSE(inspection.metadata);
}

TEST(Probe, DirectoryIsNotALockFile) {
  test::TestDirectory dir;
  ASSERT_EQ(::mkdir((dir / "x.lock").c_str(), 0700), 0);
  const LockInspection inspection = inspect(dir / "x.lock", std::nullopt);
  EXPECT_EQ(inspection.entry.type, os::EntryType::directory);
  EXPECT_FALSE(inspection.is_lock_file());
}

// --- Verdicts on real files ---------------------------------------------------------------------

TEST(Probe, LockedFileIsHeldWhateverItsMetadataSays) {
  test::TestDirectory dir;
  write_file(dir / "x.lock", "garbage");
  const os::Fd holder = lock_as_another_holder(dir / "x.lock");
  const LockInspection inspection =
      inspect(dir / "x.lock", mtime_of(dir / "x.lock") + seconds_ns(3600));
  EXPECT_EQ(inspection.beacon, Beacon::held);
  EXPECT_EQ(inspection.verdict.state, LockState::held);
  EXPECT_EQ(inspection.verdict.reason, "kernel-lock-held");
}

TEST(Probe, UnlockedFileOfThisKernelIsStaleAtOnce) {
  test::TestDirectory dir;
  write_file(dir / "x.lock", serialize_metadata(our_own_metadata()));
  const LockInspection inspection = inspect(dir / "x.lock", mtime_of(dir / "x.lock"));
  ASSERT_TRUE(inspection.metadata) << inspection.metadata_problem;
  EXPECT_EQ(inspection.metadata->pid, os::local_identity().pid);
  EXPECT_EQ(inspection.beacon, Beacon::free);
  EXPECT_EQ(inspection.verdict.state, LockState::stale);
  // Our own pid runs with the recorded start time, but nobody holds the kernel lock.
  EXPECT_EQ(inspection.verdict.reason, "holder-exited");
  EXPECT_EQ(inspection.verdict.judged_by, "kernel lock");
}

TEST(Probe, UnlockedGarbageIsJudgedByItsAgeOnTheGivenClock) {
  test::TestDirectory dir;
  write_file(dir / "x.lock", "{\"format\": \"buildl");
  const std::int64_t mtime = mtime_of(dir / "x.lock");

  {
    // (Each inspection holds the free kernel lock while it lives: let this one go first.)
    const LockInspection young = inspect(dir / "x.lock", mtime + seconds_ns(0.5));
    EXPECT_FALSE(young.metadata);
    EXPECT_NE(young.metadata_problem.find("not JSON"), std::string::npos) << young.metadata_problem;
    EXPECT_EQ(young.verdict.reason, "no-metadata-recent");
    ASSERT_TRUE(young.verdict.stale_in);
    EXPECT_NEAR(young.verdict.stale_in->count(), 1.5, 1e-6);
  }

  const LockInspection old = inspect(dir / "x.lock", mtime + seconds_ns(2.5));
  EXPECT_EQ(old.verdict.state, LockState::stale);
  EXPECT_EQ(old.verdict.reason, "no-metadata-expired");
}

// Issue 13, finding 10: int64 nanoseconds end in 2262. A heartbeat after that (a file touched by
// hand, a broken server clock) used to wrap around to the distant past and make the lock stale at
// once; it saturates to the far future instead, which keeps the lock held.
TEST(Probe, ModificationTimePastTheYear2262IsFarFutureNeverAncient) {
  test::TestDirectory dir;
  LockMetadata foreign = our_own_metadata();
  foreign.boot_id = "another-kernel";
  foreign.host = "another-host";
  write_file(dir / "f.lock", serialize_metadata(foreign));
  write_file(dir / "garbage.lock", "garbage\n");
  const timespec year_2400[2] = {{0, UTIME_OMIT}, {13'569'465'600, 0}};
  for (const char* name : {"f.lock", "garbage.lock"}) {
    ASSERT_EQ(::utimensat(AT_FDCWD, (dir / name).c_str(), year_2400, 0), 0);
    EXPECT_GT(mtime_of(dir / name), os::wall_clock_ns()) << name;
    const LockInspection inspection = inspect(dir / name, os::wall_clock_ns());
    EXPECT_EQ(inspection.verdict.state, LockState::held)
        << name << ": " << inspection.verdict.explanation;
  }
}

TEST(Probe, EmptyFileHasNoMetadata) {
  test::TestDirectory dir;
  write_file(dir / "x.lock", "");
  const LockInspection inspection = inspect(dir / "x.lock", mtime_of(dir / "x.lock"));
  EXPECT_FALSE(inspection.metadata);
  EXPECT_EQ(inspection.metadata_problem, "empty");
  EXPECT_EQ(inspection.describe_holder(), "an unknown holder (metadata empty)");
}

TEST(Probe, OversizedFileIsNotParsed) {
  test::TestDirectory dir;
  const std::string metadata = serialize_metadata(our_own_metadata());
  write_file(dir / "x.lock", metadata + std::string(max_metadata_bytes, ' '));
  const LockInspection inspection = inspect(dir / "x.lock", mtime_of(dir / "x.lock"));
  EXPECT_FALSE(inspection.metadata);
  EXPECT_EQ(inspection.metadata_problem, "larger than 65536 bytes");
  EXPECT_EQ(inspection.verdict.reason, "no-metadata-recent");
}

TEST(Probe, DescriptionNamesPidHostCommandAndHowLong) {
  test::TestDirectory dir;
  LockMetadata metadata = our_own_metadata();
  metadata.acquired_at = os::utc_timestamp_now();
  write_file(dir / "x.lock", serialize_metadata(metadata));
  const std::string description = inspect(dir / "x.lock", std::nullopt).describe_holder();
  const std::string expected_start = "pid " + std::to_string(os::local_identity().pid) +
                                     " on host `" + os::local_identity().host +
                                     "` (cmake --build b), held for ";
  EXPECT_EQ(description.substr(0, expected_start.size()), expected_start) << description;
  EXPECT_EQ(description.back(), 's') << description;
}

TEST(Probe, DescriptionLeavesOutAnUnreadableAcquisitionTime) {
  test::TestDirectory dir;
  LockMetadata metadata = our_own_metadata();
  metadata.acquired_at = "yesterday";
  write_file(dir / "x.lock", serialize_metadata(metadata));
  EXPECT_EQ(inspect(dir / "x.lock", std::nullopt).describe_holder(),
            "pid " + std::to_string(os::local_identity().pid) + " on host `" +
                os::local_identity().host + "` (cmake --build b)");
}

TEST(Probe, DescriptionShortensLongCommands) {
  test::TestDirectory dir;
  LockMetadata metadata = our_own_metadata();
  metadata.command = {"cc", std::string(500, 'a'), "never-shown"};
  write_file(dir / "x.lock", serialize_metadata(metadata));
  const std::string description = inspect(dir / "x.lock", std::nullopt).describe_holder();
  EXPECT_NE(description.find("aaa...)"), std::string::npos) << description;
  EXPECT_EQ(description.find("never-shown"), std::string::npos) << description;
  EXPECT_LT(description.size(), 400U);
}

// --- Removing only what was inspected -----------------------------------------------------------

TEST(Probe, StaleInspectedLockIsRemoved) {
  test::TestDirectory dir;
  write_file(dir / "x.lock", serialize_metadata(our_own_metadata()));
  const LockInspection inspection = inspect(dir / "x.lock", std::nullopt);
  ASSERT_EQ(inspection.verdict.state, LockState::stale);
  auto removed = remove_inspected(inspection);
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_TRUE(*removed);
  EXPECT_EQ(os::lstat_entry(dir / "x.lock")->type, os::EntryType::missing);
}

TEST(Probe, LockRecreatedAfterInspectionIsNotRemoved) {
  // Between our look and our unlink, the stale lock was reclaimed by someone else and a fresh
  // lock took its name: removing it would let two holders in.
  test::TestDirectory dir;
  write_file(dir / "x.lock", "stale garbage");
  const LockInspection inspection =
      inspect(dir / "x.lock", mtime_of(dir / "x.lock") + seconds_ns(60));
  ASSERT_EQ(inspection.verdict.state, LockState::stale);
  write_file(dir / "fresh", serialize_metadata(our_own_metadata()));
  ASSERT_EQ(::rename((dir / "fresh").c_str(), (dir / "x.lock").c_str()), 0);
  const auto fresh_identity = os::lstat_entry(dir / "x.lock")->identity;

  auto removed = remove_inspected(inspection);
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_FALSE(*removed);
  auto still_there = os::lstat_entry(dir / "x.lock");
  ASSERT_TRUE(still_there);
  EXPECT_TRUE(still_there->identity == fresh_identity);
}

TEST(Probe, AlreadyRemovedLockIsNotAnError) {
  test::TestDirectory dir;
  write_file(dir / "x.lock", serialize_metadata(our_own_metadata()));
  const LockInspection inspection = inspect(dir / "x.lock", std::nullopt);
  ASSERT_TRUE(os::remove_file(dir / "x.lock"));
  auto removed = remove_inspected(inspection);
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_FALSE(*removed);
}

TEST(Probe, HeldLockIsNeverRemoved) {
  test::TestDirectory dir;
  write_file(dir / "x.lock", serialize_metadata(our_own_metadata()));
  const os::Fd holder = lock_as_another_holder(dir / "x.lock");
  const LockInspection inspection = inspect(dir / "x.lock", std::nullopt);
  auto removed = remove_inspected(inspection);
  ASSERT_TRUE(removed);
  EXPECT_FALSE(*removed);
  EXPECT_EQ(os::lstat_entry(dir / "x.lock")->type, os::EntryType::regular);
}

TEST(Probe, InspectionOfAFreeLockHoldsItsKernelLockUntilDropped) {
  // That held kernel lock is what keeps a second reclaimer out between the verdict and unlink.
  test::TestDirectory dir;
  write_file(dir / "x.lock", serialize_metadata(our_own_metadata()));
  {
    const LockInspection first = inspect(dir / "x.lock", std::nullopt);
    ASSERT_EQ(first.beacon, Beacon::free);
    const LockInspection second = inspect(dir / "x.lock", std::nullopt);
    EXPECT_EQ(second.beacon, Beacon::held);
    EXPECT_EQ(second.verdict.state, LockState::held);
  }
  EXPECT_EQ(inspect(dir / "x.lock", std::nullopt).beacon, Beacon::free);
}

// --- Groups without kernel locks
// ------------------------------------------------------------------

// Another host's shared group: an anchor and one member that heartbeats. Every age, the members'
// too, is measured on the filesystem's clock (the file server's on NFS), never on this machine's:
// here the files' times are years in the past of this machine's clock, but a second old on the
// filesystem's clock passed in, so the group is alive.
TEST(Probe, GroupMembersAreJudgedOnTheFilesystemsClock) {
  test::TestDirectory dir;
  LockMetadata foreign = our_own_metadata();
  foreign.boot_id = "another-kernel";
  foreign.host = "another-host";
  foreign.mode = LockMode::shared;
  foreign.kernel_lock = false;
  write_file(dir / "g.lock", serialize_metadata(foreign));
  write_file(dir / "g.lock+shared.0123456789abcdef", serialize_metadata(foreign));
  const std::int64_t long_ago = seconds_ns(1'000'000'000); // 2001 on this machine's clock
  for (const char* name : {"g.lock", "g.lock+shared.0123456789abcdef"}) {
    const timespec times[2] = {{long_ago / 1'000'000'000, 0}, {long_ago / 1'000'000'000, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, (dir / name).c_str(), times, 0), 0);
  }
  {
    // (An inspection keeps the file open, and its kernel lock if it took one: end it here.)
    const LockInspection anchor = inspect(dir / "g.lock", long_ago + seconds_ns(1));
    EXPECT_EQ(anchor.verdict.state, LockState::held) << anchor.verdict.explanation;
    EXPECT_EQ(anchor.verdict.reason, "members-alive") << anchor.verdict.explanation;
  }

  // Once the member's heartbeat is older than --stale-after on that clock, the group is over.
  const LockInspection ended = inspect(dir / "g.lock", long_ago + seconds_ns(10));
  EXPECT_EQ(ended.verdict.state, LockState::stale) << ended.verdict.explanation;
  EXPECT_EQ(ended.verdict.reason, "group-empty");
}

// Another host's lock is judged by its heartbeat, and our kernel lock does not exclude that
// host's reclaimers: it is removed only if, claimed, it is still exactly what was judged. A
// heartbeat that came in between (same inode, newer time) keeps it.
TEST(Probe, ForeignLockRefreshedAfterItWasJudgedIsKeptNotRemoved) {
  test::TestDirectory dir;
  LockMetadata foreign = our_own_metadata();
  foreign.boot_id = "another-kernel";
  foreign.host = "another-host";
  write_file(dir / "f.lock", serialize_metadata(foreign));
  const std::int64_t written = mtime_of(dir / "f.lock");
  LockInspection judged = inspect(dir / "f.lock", written + seconds_ns(10));
  ASSERT_EQ(judged.verdict.state, LockState::stale) << judged.verdict.explanation;
  ASSERT_EQ(judged.beacon, Beacon::free);
  EXPECT_FALSE(judged.kernel_lock_excludes_reclaimers);

  // The holder's heartbeat, after the judgment.
  const timespec later[2] = {{0, UTIME_OMIT}, {written / 1'000'000'000 + 5, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (dir / "f.lock").c_str(), later, 0), 0);
  auto removed = remove_inspected(judged);
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_FALSE(*removed);
  EXPECT_TRUE(os::lstat_entry(dir / "f.lock")->type == os::EntryType::regular)
      << "a refreshed lock was removed";

  // Not refreshed since: removed. (The first inspection's kernel lock ends first.)
  judged.fd.reset();
  LockInspection again = inspect(dir / "f.lock", mtime_of(dir / "f.lock") + seconds_ns(10));
  ASSERT_EQ(again.verdict.state, LockState::stale);
  auto removed_now = remove_inspected(again);
  ASSERT_TRUE(removed_now) << removed_now.error().message;
  EXPECT_TRUE(*removed_now);
}

// Turning an inspection, or the failure to make one, into a report for status/clean/break.
#include "core/lock_survey.h"
#include "os/clock.h"
#include "os/process_identity.h"
#include "test_directory.h"

#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace buildlock;
using namespace buildlock::core;

namespace {

constexpr std::int64_t second_ns = 1'000'000'000;

SurveyContext context_for(const std::string& directory, std::int64_t now_ns) {
  SurveyContext context;
  context.directory = directory;
  context.observer = current_observer();
  context.stale_after = Seconds(30);
  context.filesystem_now_ns = now_ns;
  context.local_now_ns = now_ns;
  return context;
}

std::int64_t reaped_pid() {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return pid;
}

void write_file(const std::string& path, const std::string& content) {
  auto fd = os::create_new_file(path);
  ASSERT_TRUE(fd) << fd.error().message;
  ASSERT_TRUE(os::write_all(*fd, content));
}

// Metadata of a holder on this machine whose process has exited, in `mode`.
LockMetadata dead_holder(LockMode mode, int slots = 0) {
  const auto& local = os::local_identity();
  LockMetadata metadata;
  metadata.mode = mode;
  metadata.slots = slots;
  metadata.pid = reaped_pid();
  metadata.boot_id = local.boot_id;
  metadata.pid_namespace = local.pid_namespace;
  metadata.host = local.host;
  metadata.command = {"make"};
  metadata.acquired_at = "2026-11-23T10:00:00.000Z";
  return metadata;
}

// A kernel lock on `path` through a descriptor of its own, as another holder's would be (flock
// locks belong to open file descriptions, so this process's own inspection sees it as taken).
os::Fd flocked(const std::string& path, int operation) {
  auto fd = os::open_regular_file(path);
  EXPECT_TRUE(fd) << fd.error().message;
  if (!fd) {
    return {};
  }
  EXPECT_EQ(::flock(fd->get(), operation | LOCK_NB), 0);
  return std::move(*fd);
}

} // namespace

TEST(LockSurvey, StateNamesAreTheJsonValues) {
  EXPECT_STREQ(to_string(EntryState::held), "held");
  EXPECT_STREQ(to_string(EntryState::stale), "stale");
  EXPECT_STREQ(to_string(EntryState::free), "free");
  EXPECT_STREQ(to_string(EntryState::invalid), "invalid");
  EXPECT_STREQ(to_string(EntryKind::lock), "lock");
  EXPECT_STREQ(to_string(EntryKind::temp_file), "temp");
}

TEST(LockSurvey, EntryThatCannotBeInspectedIsInvalidWithTheError) {
  const SurveyContext context = context_for("/locks", os::wall_clock_ns());
  const Result<LockInspection> failed =
      Error{ErrorKind::lock_directory, "cannot open `/locks/x.lock`: Permission denied"};
  const LockReport report = report_for(context, lock_entry("x"), "/locks/x.lock", failed);
  EXPECT_EQ(report.state, EntryState::invalid);
  EXPECT_EQ(report.reason, reason_unreadable);
  EXPECT_EQ(report.explanation, "cannot open `/locks/x.lock`: Permission denied");
  EXPECT_EQ(report.path, "/locks/x.lock");
  EXPECT_EQ(report.name, "x");
  EXPECT_FALSE(report.metadata);
  EXPECT_FALSE(report.age);
}

TEST(LockSurvey, MissingLockIsFree) {
  test::TestDirectory dir;
  const EntrySurvey survey =
      survey_entry(context_for(dir.path(), os::wall_clock_ns()), lock_entry("x"));
  EXPECT_EQ(survey.report.state, EntryState::free);
  EXPECT_EQ(survey.report.reason, reason_no_lock_file);
  EXPECT_TRUE(survey.report.judged_by.empty());
  EXPECT_FALSE(survey.report.age);
}

TEST(LockSurvey, FifoIsInvalidAndNeverOpened) {
  test::TestDirectory dir;
  ASSERT_EQ(::mkfifo((dir / "x.lock").c_str(), 0600), 0);
  const EntrySurvey survey =
      survey_entry(context_for(dir.path(), os::wall_clock_ns()), lock_entry("x"));
  EXPECT_EQ(survey.report.state, EntryState::invalid);
  EXPECT_EQ(survey.report.reason, reason_not_regular_file);
  EXPECT_NE(survey.report.explanation.find("a FIFO"), std::string::npos);
  ASSERT_TRUE(survey.inspection);
  EXPECT_FALSE(survey.inspection->fd);
}

TEST(LockSurvey, StaleLockCarriesVerdictMetadataAndAges) {
  test::TestDirectory dir;
  const auto& local = os::local_identity();
  LockMetadata metadata;
  metadata.pid = reaped_pid();
  metadata.boot_id = local.boot_id;
  metadata.pid_namespace = local.pid_namespace;
  metadata.host = local.host;
  metadata.user = "someone";
  metadata.command = {"make", "-j8"};
  metadata.acquired_at = "2026-11-23T10:00:00.000Z";
  write_file(dir / "x.lock", serialize_metadata(metadata));
  auto info = os::lstat_entry(dir / "x.lock");
  ASSERT_TRUE(info);

  // "Now" is 7 s after the file's mtime on the filesystem, and one hour after acquired_at here.
  SurveyContext context = context_for(dir.path(), info->mtime_ns + 7 * second_ns);
  context.local_now_ns = *os::parse_utc_timestamp_ns(metadata.acquired_at) + 3600 * second_ns;
  const EntrySurvey survey = survey_entry(context, lock_entry("x"));
  const LockReport& report = survey.report;
  EXPECT_EQ(report.state, EntryState::stale);
  EXPECT_EQ(report.reason, "holder-dead");
  EXPECT_EQ(report.judged_by, "kernel lock");
  ASSERT_TRUE(report.metadata);
  EXPECT_EQ(report.metadata->command, metadata.command);
  ASSERT_TRUE(report.age);
  EXPECT_DOUBLE_EQ(report.age->count(), 7.0);
  ASSERT_TRUE(report.held_for);
  EXPECT_DOUBLE_EQ(report.held_for->count(), 3600.0);
  EXPECT_NE(report.holder.find("pid " + std::to_string(metadata.pid)), std::string::npos);
  // The inspection still holds the kernel lock, ready for a race-free removal.
  ASSERT_TRUE(survey.inspection);
  EXPECT_EQ(survey.inspection->beacon, Beacon::free);
}

TEST(LockSurvey, AgesAreNeverNegative) {
  test::TestDirectory dir;
  write_file(dir / "x.lock", "");
  auto info = os::lstat_entry(dir / "x.lock");
  ASSERT_TRUE(info);
  // A filesystem clock behind the file's mtime (another machine's clock set it).
  const EntrySurvey survey =
      survey_entry(context_for(dir.path(), info->mtime_ns - 5 * second_ns), lock_entry("x"));
  ASSERT_TRUE(survey.report.age);
  EXPECT_EQ(survey.report.age->count(), 0.0);
  EXPECT_FALSE(survey.report.held_for);
  EXPECT_EQ(survey.report.metadata_problem, "empty");
}

TEST(LockSurvey, HolderFileIsJudgedLikeALockFile) {
  test::TestDirectory dir;
  const SurveyContext context = context_for(dir.path(), os::wall_clock_ns());
  write_file(dir / "x.lock+slot.2", serialize_metadata(dead_holder(LockMode::slots, 3)));
  const DirectoryEntry entry = *classify_entry_name("x.lock+slot.2");
  {
    const EntrySurvey stale = survey_entry(context, entry);
    EXPECT_EQ(stale.report.kind, EntryKind::slot_holder);
    EXPECT_EQ(stale.report.name, "x");
    EXPECT_EQ(stale.report.slot, 2);
    EXPECT_EQ(stale.report.path, dir / "x.lock+slot.2");
    EXPECT_EQ(stale.report.state, EntryState::stale);
    EXPECT_EQ(stale.report.reason, "holder-dead");
    ASSERT_TRUE(stale.report.metadata);
    EXPECT_EQ(stale.report.metadata->mode, LockMode::slots);
    EXPECT_EQ(stale.report.metadata->slots, 3);
  }
  const os::Fd holder = flocked(dir / "x.lock+slot.2", LOCK_EX);
  const EntrySurvey held = survey_entry(context, entry);
  EXPECT_EQ(held.report.state, EntryState::held);
  EXPECT_EQ(held.report.reason, "kernel-lock-held");
}

TEST(LockSurvey, AnchorHeldSharedByItsMembersIsHeld) {
  test::TestDirectory dir;
  write_file(dir / "x.lock", serialize_metadata(dead_holder(LockMode::shared)));
  const os::Fd member = flocked(dir / "x.lock", LOCK_SH);
  const os::Fd other_member = flocked(dir / "x.lock", LOCK_SH);
  const EntrySurvey survey =
      survey_entry(context_for(dir.path(), os::wall_clock_ns()), lock_entry("x"));
  EXPECT_EQ(survey.report.state, EntryState::held);
  EXPECT_EQ(survey.report.reason, "kernel-lock-held");
}

TEST(LockSurvey, FreeAnchorOfASharedLockIsAnEmptyGroup) {
  test::TestDirectory dir;
  const LockMetadata creator = dead_holder(LockMode::shared);
  write_file(dir / "x.lock", serialize_metadata(creator));
  const EntrySurvey survey =
      survey_entry(context_for(dir.path(), os::wall_clock_ns()), lock_entry("x"));
  EXPECT_EQ(survey.report.state, EntryState::stale);
  EXPECT_EQ(survey.report.reason, "holder-dead"); // the verdict's code, unchanged
  EXPECT_EQ(survey.report.explanation,
            "no member holds it any more (an empty group; it was created by pid " +
                std::to_string(creator.pid) + ")");
}

TEST(LockSurvey, StaleExclusiveLockKeepsTheVerdictsExplanation) {
  test::TestDirectory dir;
  write_file(dir / "x.lock", serialize_metadata(dead_holder(LockMode::exclusive)));
  const EntrySurvey survey =
      survey_entry(context_for(dir.path(), os::wall_clock_ns()), lock_entry("x"));
  EXPECT_EQ(survey.report.state, EntryState::stale);
  EXPECT_EQ(survey.report.explanation.find("empty group"), std::string::npos);
}

TEST(LockSurvey, GroupNamesItsLiveHoldersByTheirOwnFiles) {
  test::TestDirectory dir;
  const SurveyContext context = context_for(dir.path(), os::wall_clock_ns());
  write_file(dir / "x.lock", serialize_metadata(dead_holder(LockMode::shared)));
  write_file(dir / "x.lock+shared.0000000000000001",
             serialize_metadata(dead_holder(LockMode::shared)));
  write_file(dir / "x.lock+shared.0000000000000002",
             serialize_metadata(dead_holder(LockMode::shared)));
  const os::Fd member = flocked(dir / "x.lock", LOCK_SH);
  const os::Fd own_file = flocked(dir / "x.lock+shared.0000000000000002", LOCK_EX);

  auto listing = list_lock_directory(dir.path());
  ASSERT_TRUE(listing);
  const GroupSurvey survey = survey_group(context, group_of("x", listing->entries));
  ASSERT_EQ(survey.holders.size(), 2u);
  EXPECT_EQ(survey.lock.report.state, EntryState::held);
  EXPECT_EQ(survey.holders[0].report.state, EntryState::stale);
  const auto live = survey.live_holders();
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live[0]->file_name, "x.lock+shared.0000000000000002");
  EXPECT_FALSE(survey.first_invalid());
  EXPECT_FALSE(survey.all_free());
  // The stale holder file's inspection holds its kernel lock, ready for a race-free removal.
  ASSERT_TRUE(survey.holders[0].inspection);
  EXPECT_EQ(survey.holders[0].inspection->beacon, Beacon::free);
}

TEST(LockSurvey, GroupWithoutLiveHolderFilesNamesTheLockFileIfHeld) {
  test::TestDirectory dir;
  const SurveyContext context = context_for(dir.path(), os::wall_clock_ns());
  write_file(dir / "x.lock", serialize_metadata(dead_holder(LockMode::exclusive)));
  const os::Fd holder = flocked(dir / "x.lock", LOCK_EX);
  const GroupSurvey survey = survey_group(context, LockGroup{lock_entry("x"), {}});
  const auto live = survey.live_holders();
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live[0]->file_name, "x.lock");
}

TEST(LockSurvey, GroupReportsItsFirstInvalidEntryAndWhetherAnythingExists) {
  test::TestDirectory dir;
  const SurveyContext context = context_for(dir.path(), os::wall_clock_ns());
  EXPECT_TRUE(survey_group(context, LockGroup{lock_entry("x"), {}}).all_free());
  ASSERT_EQ(::mkfifo((dir / "x.lock+writer").c_str(), 0600), 0);
  const GroupSurvey survey =
      survey_group(context, LockGroup{lock_entry("x"), {*classify_entry_name("x.lock+writer")}});
  EXPECT_FALSE(survey.all_free());
  ASSERT_TRUE(survey.first_invalid());
  EXPECT_EQ(survey.first_invalid()->file_name, "x.lock+writer");
  EXPECT_TRUE(survey.live_holders().empty());
}

// Turning an inspection, or the failure to make one, into a report for status/clean/break.
#include "core/lock_survey.h"
#include "os/clock.h"
#include "os/process_identity.h"
#include "test_directory.h"

#include <gtest/gtest.h>
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

DirectoryEntry lock_entry(const std::string& name) {
  return {EntryKind::lock, name, name + ".lock"};
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

// Reading traces back (core/trace_reading.cpp): what `report` accepts, what it refuses with one
// error naming file and line (ErrorKind::input: exit 66), and the torn last line it tolerates.
#include "core/trace_events.h"
#include "core/trace_reading.h"
#include "test_directory.h"

#include <fstream>
#include <gtest/gtest.h>

namespace buildlock::core {
namespace {

class TraceReadingTest : public ::testing::Test {
protected:
  test::TestDirectory directory;
  std::string path = directory.path() + "/trace.json";

  void write(const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

  static std::string one_wait() {
    TraceSubject subject{1, 2, "h", "L", LockMode::shared, 0, "/d", {"make", "all"}};
    return wait_lines(subject, 10, 15, {}, WaitOutcome::acquired, "");
  }
};

TEST_F(TraceReadingTest, ReadsEventsAndSkipsMetadataAndForeignEvents) {
  write(std::string(trace_header) + one_wait() +
        R"({"name":"compile","cat":"ninja","ph":"X","ts":1,"dur":2,"pid":1,"tid":1},)"
        "\n]\n");
  auto events = read_traces({path}, Messages{});
  ASSERT_TRUE(events) << events.error().message;
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].kind, TraceEvent::Kind::wait);
  EXPECT_EQ((*events)[0].lock, "L");
  EXPECT_EQ((*events)[0].mode, "shared");
  EXPECT_EQ((*events)[0].command, "make all");
  EXPECT_EQ((*events)[0].dur_us, 5);
  EXPECT_EQ((*events)[0].build, 1);
  EXPECT_EQ((*events)[0].run, 2);
}

// The events are formatted by hand (core/trace_events.cpp): quotes, backslashes, control
// characters and bytes that are not UTF-8 in a command or host still give lines that parse, with
// the text intact (invalid bytes as U+FFFD).
TEST_F(TraceReadingTest, HostileTextStillGivesEventsThatParse) {
  const std::string hostile =
      std::string("a\"b\\c\n\x01\x7f") + "\xff\xc3\xa9\xed\xa0\x80" + "\xf0\x9f\x94\x92\xc0\xaf";
  TraceSubject subject{1, 2, hostile, "L", LockMode::slots, 3, "/d\"" + hostile, {hostile, "x"}};
  WaitRecord record;
  LockMetadata holder;
  holder.pid = 7;
  holder.host = hostile;
  holder.command = {hostile};
  record.saw_holder(hostile, &holder);
  record.reclaimed(hostile);
  write(std::string(trace_header) +
        wait_lines(subject, 10, 15, record, WaitOutcome::timeout, hostile) +
        hold_lines(subject, 15, 20, HoldEnd{true, 9, 17, hostile}));
  auto events = read_traces({path}, Messages{});
  ASSERT_TRUE(events) << events.error().message;
  ASSERT_EQ(events->size(), 3u); // wait, LOCK LOST, hold
  const std::string expected = std::string("a\"b\\c\n\x01\x7f") + "\xef\xbf\xbd\xc3\xa9" +
                               "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" + "\xf0\x9f\x94\x92" +
                               "\xef\xbf\xbd\xef\xbf\xbd";
  const TraceEvent& wait = (*events)[0];
  EXPECT_EQ(wait.command, expected + " x");
  EXPECT_EQ(wait.host, expected);
  EXPECT_EQ(wait.store, "/d\"" + expected);
  EXPECT_EQ(wait.outcome, "timeout");
  ASSERT_EQ(wait.behind.size(), 1u);
  EXPECT_EQ(wait.behind[0].pid, 7);
  EXPECT_EQ(wait.behind[0].host, expected);
  EXPECT_EQ(wait.behind[0].command, expected);
  EXPECT_EQ(wait.reclaimed, std::vector<std::string>{expected});
  EXPECT_EQ((*events)[1].kind, TraceEvent::Kind::lost);
  EXPECT_EQ((*events)[1].ts_us, 17);
  const TraceEvent& hold = (*events)[2];
  EXPECT_TRUE(hold.signaled);
  EXPECT_EQ(hold.code, 9);
  EXPECT_TRUE(hold.lost);
  EXPECT_EQ(hold.dur_us, 5);
}

TEST_F(TraceReadingTest, ATornLastLineIsSkippedWithAWarning) {
  const std::string wait = one_wait();
  write(std::string(trace_header) + wait + wait.substr(0, wait.size() / 2));
  ::testing::internal::CaptureStderr();
  auto events = read_traces({path}, Messages{});
  const std::string err = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(events) << events.error().message;
  EXPECT_EQ(events->size(), 1u);
  EXPECT_NE(err.find("buildlock: warning: `" + path + "`:"), std::string::npos) << err;
  EXPECT_NE(err.find("incomplete"), std::string::npos) << err;
}

TEST_F(TraceReadingTest, AMissingFileIsAnInputError) {
  auto events = read_traces({path}, Messages{});
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().kind, ErrorKind::input);
  EXPECT_NE(events.error().message.find(path), std::string::npos) << events.error().message;
}

TEST_F(TraceReadingTest, AFileThatIsNotATraceIsAnInputError) {
  write("hello\n");
  auto events = read_traces({path}, Messages{});
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().kind, ErrorKind::input);
  EXPECT_NE(events.error().message.find("`" + path + "`:1: not a trace"), std::string::npos)
      << events.error().message;
}

TEST_F(TraceReadingTest, BinaryJunkInsideIsAnInputErrorNamingItsLine) {
  write(std::string(trace_header) + one_wait() + std::string("\0\xff\xfe\x01junk", 8) + "\n" +
        one_wait());
  auto events = read_traces({path}, Messages{});
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().kind, ErrorKind::input);
  EXPECT_NE(
      events.error().message.find("`" + path + "`:5: not a trace event") /* after 1 + 3 lines */,
      std::string::npos)
      << events.error().message;
  EXPECT_EQ(events.error().message.find('\n'), std::string::npos);
}

TEST_F(TraceReadingTest, AnEventWithAFieldOfTheWrongTypeIsAnInputError) {
  write(std::string(trace_header) +
        R"({"cat":"buildlock.wait","ph":"X","ts":"soon","pid":1,"tid":1,"args":{"lock":"L"}},)"
        "\n");
  auto events = read_traces({path}, Messages{});
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().kind, ErrorKind::input);
}

TEST_F(TraceReadingTest, AnEmptyFileIsAnInputError) {
  write("");
  auto events = read_traces({path}, Messages{});
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().kind, ErrorKind::input);
}

} // namespace
} // namespace buildlock::core

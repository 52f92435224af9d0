// Durations given by users (--timeout, --stale-after and their environment variables) and
// durations shown to them (how long a lock has been held).
#include "core/duration.h"

#include <gtest/gtest.h>

using namespace buildlock::core;

namespace {

double accepted(std::string_view text) {
  auto parsed = parse_seconds(text, "--timeout");
  EXPECT_TRUE(parsed) << "`" << text << "`: " << parsed.error().message;
  return parsed ? parsed->count() : -1;
}

std::string refusal(std::string_view text, std::string_view what = "--timeout") {
  auto parsed = parse_seconds(text, what);
  if (parsed) {
    ADD_FAILURE() << "`" << text << "` accepted as " << parsed->count();
    return "";
  }
  EXPECT_EQ(parsed.error().kind, buildlock::ErrorKind::usage);
  return parsed.error().message;
}

constexpr double one_year = 365.0 * 24 * 3600;

} // namespace

TEST(Duration, AcceptsPlainDecimalSeconds) {
  EXPECT_EQ(accepted("0"), 0.0);
  EXPECT_EQ(accepted("1"), 1.0);
  EXPECT_EQ(accepted("1.5"), 1.5);
  EXPECT_EQ(accepted("0.25"), 0.25);
  EXPECT_EQ(accepted(".5"), 0.5);
  EXPECT_EQ(accepted("120"), 120.0);
}

TEST(Duration, AcceptsExponents) {
  EXPECT_DOUBLE_EQ(accepted("1e-3"), 0.001);
  EXPECT_DOUBLE_EQ(accepted("2E2"), 200.0);
  EXPECT_DOUBLE_EQ(accepted("1.5e+1"), 15.0);
}

TEST(Duration, AcceptsUpToExactlyOneYear) {
  EXPECT_EQ(accepted("31536000"), one_year);
  EXPECT_EQ(refusal("31536000.5"), "--timeout: `31536000.5` is longer than a year");
  EXPECT_EQ(refusal("1e9"), "--timeout: `1e9` is longer than a year");
}

TEST(Duration, RejectsEmpty) {
  EXPECT_EQ(refusal(""), "--timeout: `` is empty; expected a number of seconds");
}

TEST(Duration, RejectsNegative) {
  EXPECT_EQ(refusal("-1"), "--timeout: `-1` is negative");
}

TEST(Duration, RejectsWhatStrtodWouldQuietlyAccept) {
  // Blanks, hex floats, infinities and NaN all parse with strtod(); none is a plain number.
  for (const char* text : {" 1", "1 ", "0x10", "inf", "INF", "infinity", "nan", "NAN"}) {
    EXPECT_EQ(refusal(text), std::string("--timeout: `") + text + "` is not a number of seconds")
        << text;
  }
}

TEST(Duration, ShowsRejectedValuesOnOnePrintableLine) {
  EXPECT_EQ(refusal("\t1"), "--timeout: `?1` is not a number of seconds");
  EXPECT_EQ(refusal("1\n2"), "--timeout: `1?2` is not a number of seconds");
}

TEST(Duration, RejectsWordsUnitsAndMalformedNumbers) {
  for (const char* text :
       {"abc", "5s", "1m", "1,5", "1..2", ".", "e", "1e", "--1", "1-", "1e400"}) {
    EXPECT_EQ(refusal(text), std::string("--timeout: `") + text + "` is not a number of seconds")
        << text;
  }
}

TEST(Duration, ErrorsNameTheirSource) {
  EXPECT_EQ(refusal("soon", "$BUILDLOCK_STALE_AFTER"),
            "$BUILDLOCK_STALE_AFTER: `soon` is not a number of seconds");
}

TEST(Duration, FormatsSecondsWithOneDecimalUnderAMinute) {
  EXPECT_EQ(format_duration(Seconds(0)), "0.0s");
  EXPECT_EQ(format_duration(Seconds(0.04)), "0.0s");
  EXPECT_EQ(format_duration(Seconds(3.24)), "3.2s");
  EXPECT_EQ(format_duration(Seconds(59.9)), "59.9s");
}

TEST(Duration, FormatsMinutesAndSeconds) {
  EXPECT_EQ(format_duration(Seconds(60)), "1m00s");
  EXPECT_EQ(format_duration(Seconds(245)), "4m05s");
  EXPECT_EQ(format_duration(Seconds(245.4)), "4m05s");
  EXPECT_EQ(format_duration(Seconds(245.6)), "4m06s");
}

TEST(Duration, RoundsBeforeChoosingTheUnit) {
  EXPECT_EQ(format_duration(Seconds(59.96)), "1m00s");
  EXPECT_EQ(format_duration(Seconds(3599.6)), "1h00m");
}

TEST(Duration, FormatsHoursAndMinutes) {
  EXPECT_EQ(format_duration(Seconds(3600)), "1h00m");
  EXPECT_EQ(format_duration(Seconds(7800)), "2h10m");
  EXPECT_EQ(format_duration(Seconds(one_year)), "8760h00m");
}

TEST(Duration, FormatsNegativeAsZero) {
  // A clock step can make an age negative; people should never read "-3.0s".
  EXPECT_EQ(format_duration(Seconds(-3)), "0.0s");
}

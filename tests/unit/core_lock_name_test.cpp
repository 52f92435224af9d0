#include "core/lock_name.h"

#include <gtest/gtest.h>

using namespace buildlock::core;

TEST(LockName, AcceptsLettersDigitsDotsDashesUnderscores) {
  EXPECT_TRUE(validate_lock_name("ccache").ok());
  EXPECT_TRUE(validate_lock_name("a").ok());
  EXPECT_TRUE(validate_lock_name("0-fetch_content.v2").ok());
  EXPECT_TRUE(validate_lock_name(std::string(128, 'x')).ok());
}

TEST(LockName, RejectsWhatCouldLeaveTheDirectory) {
  for (const std::string& bad : std::vector<std::string>{"", ".", "..", "../x", "a/b", "/abs", ".hidden", "-flag", "_x", "a b",
                          std::string("a\0b", 3), std::string(129, 'x')}) {
    auto status = validate_lock_name(bad);
    ASSERT_FALSE(status.ok()) << bad;
    EXPECT_EQ(status.error().kind, buildlock::ErrorKind::usage);
  }
}

TEST(LockName, FileNamesRoundTrip) {
  EXPECT_EQ(lock_file_name("x"), "x.lock");
  EXPECT_EQ(lock_name_of_lock_file("x.lock"), "x");
  EXPECT_EQ(lock_name_of_lock_file(".x.lock"), std::nullopt);
  EXPECT_EQ(lock_name_of_lock_file("x.lck"), std::nullopt);
  const std::string temp = temp_file_name("x.y", random_token());
  EXPECT_EQ(lock_name_of_temp_file(temp), "x.y");
  EXPECT_EQ(lock_name_of_temp_file("x.y.lock"), std::nullopt);
  EXPECT_EQ(lock_name_of_temp_file(".x.0123456789abcdeg.tmp"), std::nullopt);
}

TEST(LockName, RandomTokensDiffer) { EXPECT_NE(random_token(), random_token()); }

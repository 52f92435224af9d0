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
  for (const std::string& bad :
       std::vector<std::string>{"", ".", "..", "../x", "a/b", "/abs", ".hidden", "-flag", "_x",
                                "a b", std::string("a\0b", 3), std::string(129, 'x')}) {
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

TEST(LockName, RandomTokensDiffer) {
  EXPECT_NE(random_token(), random_token());
}

// --- Lock file names ----------------------------------------------------------------------------

TEST(LockName, LockFileNameMustHoldAValidName) {
  EXPECT_EQ(lock_name_of_lock_file("a.lock.lock"), "a.lock");
  EXPECT_EQ(lock_name_of_lock_file(std::string(128, 'n') + ".lock"), std::string(128, 'n'));
  for (const std::string& not_a_lock :
       {std::string(".lock"), std::string("..lock"), std::string("x.LOCK"), std::string("x.lock "),
        std::string("-x.lock"), std::string("a b.lock"), std::string(129, 'n') + ".lock",
        std::string(".x.0123456789abcdef.tmp")}) {
    EXPECT_EQ(lock_name_of_lock_file(not_a_lock), std::nullopt) << not_a_lock;
  }
}

// --- Temporary file names -----------------------------------------------------------------------

TEST(LockName, TempFileNameIsHiddenAndEndsInTmp) {
  EXPECT_EQ(temp_file_name("ccache", "0123456789abcdef"), ".ccache.0123456789abcdef.tmp");
}

TEST(LockName, TempFileNamesOfEveryValidNameRoundTrip) {
  for (const std::string& name : {std::string("x"), std::string("a.b.c"), std::string("tmp"),
                                  std::string("x.0123456789abcdef"), std::string(128, 'n')}) {
    EXPECT_EQ(lock_name_of_temp_file(temp_file_name(name, "fedcba9876543210")), name) << name;
  }
}

TEST(LockName, TempFileTokenMustBeSixteenLowercaseHexDigits) {
  EXPECT_EQ(lock_name_of_temp_file(".x.0123456789abcdef.tmp"), "x");
  for (const char* wrong :
       {".x.0123456789ABCDEF.tmp", ".x.0123456789abcde.tmp", ".x.0123456789abcdef0.tmp",
        ".x.0123456789abcdeg.tmp", ".x.0123456789abcd-f.tmp"}) {
    EXPECT_EQ(lock_name_of_temp_file(wrong), std::nullopt) << wrong;
  }
}

TEST(LockName, TempFileNeedsLeadingDotSeparatorAndSuffix) {
  for (const char* wrong :
       {"x.0123456789abcdef.tmp", ".x0123456789abcdef.tmp", ".xy0123456789abcdef.tmp",
        ".x.0123456789abcdef.TMP", ".x.0123456789abcdef.tmp.lock", ".x.0123456789abcdef", ".tmp",
        "", "..0123456789abcdef.tmp"}) {
    EXPECT_EQ(lock_name_of_temp_file(wrong), std::nullopt) << wrong;
  }
}

TEST(LockName, TempFileOfAnInvalidLockNameIsNotOurs) {
  for (const std::string& wrong :
       {std::string("..x.0123456789abcdef.tmp"), std::string(".-x.0123456789abcdef.tmp"),
        std::string(". x.0123456789abcdef.tmp"), std::string(".a b.0123456789abcdef.tmp"),
        "." + std::string(129, 'n') + ".0123456789abcdef.tmp"}) {
    EXPECT_EQ(lock_name_of_temp_file(wrong), std::nullopt) << wrong;
  }
}

TEST(LockName, RandomTokenIsSixteenLowercaseHexDigits) {
  for (int i = 0; i < 100; ++i) {
    const std::string token = random_token();
    ASSERT_EQ(token.size(), 16U);
    EXPECT_EQ(token.find_first_not_of("0123456789abcdef"), std::string::npos) << token;
  }
}

// --- Error messages -----------------------------------------------------------------------------

TEST(LockName, ErrorSaysWhatIsWrong) {
  EXPECT_NE(validate_lock_name("").error().message.find("it is empty"), std::string::npos);
  EXPECT_NE(validate_lock_name("a/b").error().message.find("it contains `/`"), std::string::npos);
  EXPECT_NE(validate_lock_name(std::string("a\0b", 3)).error().message.find("it contains NUL"),
            std::string::npos);
  EXPECT_NE(validate_lock_name(std::string(129, 'x')).error().message.find("129 characters long"),
            std::string::npos);
  EXPECT_NE(validate_lock_name(".x").error().message.find("must start with a letter or digit"),
            std::string::npos);
  EXPECT_NE(validate_lock_name("a*b").error().message.find("forbidden character"),
            std::string::npos);
}

TEST(LockName, ErrorStaysOnOneShortPrintableLine) {
  const std::string message = validate_lock_name("a\nb\x1b[31m").error().message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_EQ(message.find('\x1b'), std::string::npos) << message;
  EXPECT_NE(message.find("invalid lock name `a?b?[31m`"), std::string::npos) << message;
  const std::string long_message = validate_lock_name(std::string(5000, 'x')).error().message;
  EXPECT_LT(long_message.size(), 300U);
  EXPECT_NE(long_message.find("...`"), std::string::npos) << long_message;
}

// --- Holder files of shared and slotted locks
// -----------------------------------------------------

TEST(HolderFileName, NamesAreBuiltBesideTheLockFile) {
  EXPECT_EQ(shared_holder_file_name("ccache", "0123456789abcdef"),
            "ccache.lock+shared.0123456789abcdef");
  EXPECT_EQ(slot_file_name("link", 2), "link.lock+slot.2");
  EXPECT_EQ(writer_file_name("ccache"), "ccache.lock+writer");
}

TEST(HolderFileName, EveryBuiltNameParsesBack) {
  auto shared = parse_holder_file_name(shared_holder_file_name("a.b_c-d", random_token()));
  ASSERT_TRUE(shared);
  EXPECT_EQ(shared->lock_name, "a.b_c-d");
  EXPECT_EQ(shared->kind, HolderFileKind::shared);
  for (int slot : {1, 9, 10, max_slots}) {
    auto parsed = parse_holder_file_name(slot_file_name("x.lock", slot));
    ASSERT_TRUE(parsed) << slot;
    EXPECT_EQ(parsed->lock_name, "x.lock");
    EXPECT_EQ(parsed->kind, HolderFileKind::slot);
    EXPECT_EQ(parsed->slot, slot);
  }
  auto writer = parse_holder_file_name(writer_file_name("w"));
  ASSERT_TRUE(writer);
  EXPECT_EQ(writer->kind, HolderFileKind::writer);
}

TEST(HolderFileName, NeverCollidesWithALockOrTemporaryFile) {
  for (const std::string& name : {shared_holder_file_name("a", random_token()),
                                  slot_file_name("a", 1), writer_file_name("a")}) {
    EXPECT_FALSE(lock_name_of_lock_file(name)) << name;
    EXPECT_FALSE(lock_name_of_temp_file(name)) << name;
  }
}

TEST(HolderFileName, AnythingElseIsNotAHolderFile) {
  for (const char* name :
       {"a.lock", "a.lock+", "a.lock+writers", "a.lock+slot.0", "a.lock+slot.65", "a.lock+slot.01",
        "a.lock+slot.", "a.lock+slot.1x", "a.lock+slot.-1", "a.lock+shared.0123",
        "a.lock+shared.0123456789ABCDEF", "a.lock+shared.0123456789abcdef0", ".a.lock+writer",
        "a+writer", "a/b.lock+writer", "a.lock+slot.99999999999999999999"}) {
    EXPECT_FALSE(parse_holder_file_name(name)) << name;
  }
}

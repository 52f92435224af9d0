// What buildlock tells people: prefixes, one line each, and what --quiet / --verbose let through.
#include "core/messages.h"

#include <gtest/gtest.h>

using namespace buildlock::core;

namespace {

std::string printed(const Messages& messages) {
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  messages.error("e");
  messages.warning("w");
  messages.notice("n");
  messages.explain("x");
  const std::string on_stdout = ::testing::internal::GetCapturedStdout();
  EXPECT_EQ(on_stdout, "") << "stdout belongs to the command";
  return ::testing::internal::GetCapturedStderr();
}

} // namespace

TEST(Messages, DefaultShowsErrorsWarningsAndNotices) {
  EXPECT_EQ(printed(Messages{}), "buildlock: error: e\n"
                                 "buildlock: warning: w\n"
                                 "buildlock: n\n");
}

TEST(Messages, QuietKeepsErrorsAndWarnings) {
  EXPECT_EQ(printed(Messages{true, false}), "buildlock: error: e\n"
                                            "buildlock: warning: w\n");
}

TEST(Messages, VerboseAddsExplanations) {
  EXPECT_EQ(printed(Messages{false, true}), "buildlock: error: e\n"
                                            "buildlock: warning: w\n"
                                            "buildlock: n\n"
                                            "buildlock: x\n");
}

// Lock files come from other users and hosts: what they hold must not forge a second line or
// reach the terminal as an escape sequence.
TEST(Messages, ControlCharactersInTextBecomeQuestionMarks) {
  ::testing::internal::CaptureStderr();
  Messages{}.error("host `evil\nbuildlock: error: forged\r\x1b[31m\x07\x7f` \xc2\x9b"
                   "2J caf\xc3\xa9 \xe2\x80\x9b");
  EXPECT_EQ(::testing::internal::GetCapturedStderr(),
            "buildlock: error: host `evil?buildlock: error: forged??[31m??` ?2J caf\xc3\xa9 "
            "\xe2\x80\x9b\n");
}

TEST(Messages, OneLineKeepsPrintableTextAsIs) {
  EXPECT_EQ(one_line("pid 12 on host `ci-4` (make -j8), held for 3.2s"),
            "pid 12 on host `ci-4` (make -j8), held for 3.2s");
  EXPECT_EQ(one_line("trailing \xc2"), "trailing \xc2");
}

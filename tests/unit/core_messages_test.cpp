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

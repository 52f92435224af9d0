// A test that cannot run on this machine (no root, no PID or mount namespace, no tmpfs): on a
// developer's machine it is skipped and says why; under CI=true it FAILS and says what is
// missing (issue 20). A skip exits 0 in ctest, so a CI that lost a permission would otherwise go
// on reporting green for tests that prove nothing.
#pragma once

#include <gtest/gtest.h>
#include <string>

namespace buildlock::test {

// True when the environment variable CI is exactly `true` (GitHub Actions, GitLab CI, and what a
// CI job is expected to set for `.ci/run`).
bool running_in_ci();

// Empty when this process runs as root; otherwise why a test that needs another user than the
// one buildlock runs as cannot run (`needs`: what it needs that user for).
std::string why_not_root(const std::string& needs);

} // namespace buildlock::test

// Ends the current test with `why` (anything that can be streamed): a failure under CI=true, a
// skip otherwise. A macro, because GTEST_SKIP and GTEST_FAIL return from the function they are
// written in: use it in a test body or in SetUp (gtest then does not run the body), never in a
// helper that the test goes on after (make the helper return why instead, as why_not_root() does).
#define SKIP_OR_FAIL_IN_CI(why)                                                                    \
  do {                                                                                             \
    if (::buildlock::test::running_in_ci()) {                                                      \
      GTEST_FAIL() << "cannot run here, and CI=true forbids a skip: " << (why);                    \
    } else {                                                                                       \
      GTEST_SKIP() << (why) << " (under CI=true this is a failure)";                               \
    }                                                                                              \
  } while (false)

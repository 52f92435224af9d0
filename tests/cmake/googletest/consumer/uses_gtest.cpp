// Built and run against the shared prefix by check_googletest.sh.
#include <gtest/gtest.h>

TEST(SharedPrefix, GoogletestWorks) { EXPECT_EQ(1 + 1, 2); }

// os/posix/process_environment: the one reader of another process's environment block in /proc
// (whose lock's command is alive, an etcd hold's processes, the ancestor walk of a trace) and the
// lookup of one variable in such a block: exactly that name, whatever its value holds.
#include "child_with_environment.h"
#include "os/posix/process_environment.h"

#include <cerrno>
#include <gtest/gtest.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace buildlock::os {
namespace {

using namespace std::string_literals;
using namespace std::string_view_literals;

// Whether `block` has `name` set to exactly `value`.
bool has_value(std::string_view block, std::string_view name, std::string_view value) {
  return environment_has(block, name, [&](std::string_view seen) { return seen == value; });
}

bool has_any_value(std::string_view block, std::string_view name) {
  return environment_has(block, name, [](std::string_view) { return true; });
}

TEST(ProcessEnvironment, ANameIsNotFoundInALongerNameItBegins) {
  const std::string_view block = "FOOBAR=1\0XFOO=2\0FOO\0"sv;
  EXPECT_FALSE(has_any_value(block, "FOO"));
  EXPECT_TRUE(has_value(block, "FOOBAR", "1"));
  EXPECT_FALSE(has_any_value(block, "OO"));
}

TEST(ProcessEnvironment, TheValueIsAllAfterTheNameAndItsEqualsSign) {
  EXPECT_TRUE(has_value("A=1\0FOO=x=y=\0"sv, "FOO", "x=y="));
  EXPECT_TRUE(has_value("FOO=\0"sv, "FOO", ""));
}

TEST(ProcessEnvironment, EveryEntryOfTheNameIsOfferedAndTheLastNeedsNoNul) {
  EXPECT_TRUE(has_value("FOO=1\0FOO=2\0"sv, "FOO", "2"));
  EXPECT_TRUE(has_value("A=1\0FOO=2"sv, "FOO", "2"));
  EXPECT_FALSE(has_any_value(""sv, "FOO"));
  EXPECT_FALSE(has_value("FOO=1\0"sv, "FOO", "2"));
}

#if defined(__linux__)
using test::ChildWithEnvironment;

TEST(ProcessEnvironment, AProcessAndItsLeaderThreadReadTheWholeBlock) {
  const ChildWithEnvironment child({"A=1", "FOO=x=y", "EMPTY="});
  const std::string expected = "A=1\0FOO=x=y\0EMPTY=\0"s;
  std::string block = "left over";
  ASSERT_EQ(read_process_environment(child.pid(), block), 0);
  EXPECT_EQ(block, expected);
  EXPECT_TRUE(has_value(block, "FOO", "x=y"));
  ASSERT_EQ(read_thread_environment(child.pid(), std::to_string(child.pid()), block), 0);
  EXPECT_EQ(block, expected);
}

TEST(ProcessEnvironment, AGoneProcessIsEnoentAndLeavesNothing) {
  pid_t gone = ::fork();
  if (gone == 0) {
    ::_exit(0);
  }
  ASSERT_EQ(::waitpid(gone, nullptr, 0), gone);
  std::string block = "left over";
  EXPECT_EQ(read_process_environment(gone, block), ENOENT);
  EXPECT_EQ(block, "");
  block = "left over";
  EXPECT_EQ(read_thread_environment(::getpid(), "no-such-thread", block), ENOENT);
  EXPECT_EQ(block, "");
}

TEST(ProcessEnvironment, AHugeEnvironmentIsCutAfterOneMebibyte) {
  std::vector<std::string> environment;
  std::string whole;
  for (int i = 0; i < 12; ++i) {
    environment.push_back("BIG" + std::to_string(i) + "=" + std::string(100000, 'x'));
    whole += environment.back() + '\0';
  }
  const ChildWithEnvironment child(environment);
  std::string block;
  ASSERT_EQ(read_process_environment(child.pid(), block), 0);
  ASSERT_GT(whole.size(), block.size());
  EXPECT_GE(block.size(), 1u << 20);
  EXPECT_EQ(whole.substr(0, block.size()), block);
  EXPECT_TRUE(has_any_value(block, "BIG9"));
  EXPECT_FALSE(has_any_value(block, "BIG11"));
}
#endif

} // namespace
} // namespace buildlock::os

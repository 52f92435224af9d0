// os/process_mark: a process of a killed wrapper's command is found by the variable in the
// environment it started with, or by the descriptor it inherited, each alone; a process with
// neither, with another value or another descriptor, or one that has ended, is not.
#include "child_with_environment.h"
#include "os/process_mark.h"

#include <csignal>
#include <gtest/gtest.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace buildlock::os {
namespace {

using test::ChildWithEnvironment;

constexpr std::string_view variable = "BUILDLOCK_TEST_MARK";

// A name no other test process uses at the same time (ctest runs cases side by side, and every
// search looks at every process of the machine).
std::string unique(const std::string& what) {
  return what + "-" + std::to_string(::getpid());
}

// Marked by BUILDLOCK_TEST_MARK=`name` or by the descriptor named `name`.
ProcessMark mark_named(const std::string& name) {
  return ProcessMark{variable, [name](std::string_view value) { return value == name; }, name};
}

const std::int64_t uid = static_cast<std::int64_t>(::getuid());

TEST(ProcessMark, AProcessIsFoundByItsVariableAlone) {
  const std::string name = unique("variable");
  const ChildWithEnvironment child({std::string(variable) + "=" + name});
  EXPECT_EQ(find_marked_process(mark_named(name), uid), ProcessSearch::found);
  EXPECT_EQ(marked_processes(mark_named(name), uid), std::vector<std::int64_t>{child.pid()});
}

TEST(ProcessMark, AProcessWithoutAnyEnvironmentIsFoundByTheDescriptorItInherited) {
  const std::string name = unique("descriptor");
  auto descriptor = create_mark_descriptor(name);
  ASSERT_TRUE(descriptor) << descriptor.error().message;
  const ChildWithEnvironment child({});
  descriptor->reset(); // only the child holds it now
  EXPECT_EQ(find_marked_process(mark_named(name), uid), ProcessSearch::found);
  EXPECT_EQ(marked_processes(mark_named(name), uid), std::vector<std::int64_t>{child.pid()});
}

TEST(ProcessMark, AnotherValueOrADescriptorOfALongerNameDoesNotMark) {
  const std::string name = unique("other");
  auto longer = create_mark_descriptor(name + "0");
  ASSERT_TRUE(longer) << longer.error().message;
  const ChildWithEnvironment child({std::string(variable) + "=" + name + "0"});
  EXPECT_NE(find_marked_process(mark_named(name), uid), ProcessSearch::found);
  EXPECT_EQ(marked_processes(mark_named(name), uid), std::vector<std::int64_t>{});
  EXPECT_FALSE(kill_if_marked(child.pid(), mark_named(name)));
}

// The search never counts the process that searches, which holds the descriptor it made.
TEST(ProcessMark, TheSearchingProcessIsNotCounted) {
  const std::string name = unique("self");
  auto descriptor = create_mark_descriptor(name);
  ASSERT_TRUE(descriptor) << descriptor.error().message;
  EXPECT_NE(find_marked_process(mark_named(name), uid), ProcessSearch::found);
  EXPECT_EQ(marked_processes(mark_named(name), uid), std::vector<std::int64_t>{});
}

TEST(ProcessMark, AProcessThatEndedIsNotMarkedThoughNotYetReaped) {
  const std::string name = unique("ended");
  auto descriptor = create_mark_descriptor(name);
  ASSERT_TRUE(descriptor) << descriptor.error().message;
  ChildWithEnvironment child({std::string(variable) + "=" + name});
  descriptor->reset();
  child.end(); // a zombie now
  EXPECT_NE(find_marked_process(mark_named(name), uid), ProcessSearch::found);
  EXPECT_EQ(marked_processes(mark_named(name), uid), std::vector<std::int64_t>{});
}

TEST(ProcessMark, OnlyAMarkedProcessIsKilled) {
  const std::string name = unique("kill");
  ChildWithEnvironment unmarked({});
  auto descriptor = create_mark_descriptor(name);
  ASSERT_TRUE(descriptor) << descriptor.error().message;
  ChildWithEnvironment marked({});
  descriptor->reset();
  EXPECT_FALSE(kill_if_marked(unmarked.pid(), mark_named(name)));
  EXPECT_TRUE(kill_if_marked(marked.pid(), mark_named(name)));
  const int status = marked.reap();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  EXPECT_EQ(::kill(unmarked.pid(), 0), 0) << "the unmarked process was killed";
}

} // namespace
} // namespace buildlock::os

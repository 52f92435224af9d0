// The hang report's process listing (kernel_view.h): a hang found once is told from its report
// alone, so the listing must name the wrapper and every live descendant, each with the state it
// is stuck in (a process stopped and never resumed, a parent waiting for it).
#include "kernel_view.h"
#include "processes.h"

#include <chrono>
#include <csignal>
#include <gtest/gtest.h>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace buildlock::chaos {
namespace {

// "  PID ppid PARENT ": the start of a process's line in the listing.
std::string line_start(pid_t pid, pid_t parent) {
  return "  " + std::to_string(pid) + " ppid " + std::to_string(parent) + " ";
}

TEST(ProcessTreeListing, NamesTheWrapperAndEveryDescendantWithItsState) {
  int ready[2];
  int hold[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(hold), 0);
  // A wrapper waiting for its child, which stopped itself after it started a grandchild that
  // blocks reading `hold`: a wrapper hung on a stopped child, as the killer once left one.
  const pid_t wrapper = ::fork();
  if (wrapper == 0) {
    const pid_t child = ::fork();
    if (child == 0) {
      const pid_t grandchild = ::fork();
      if (grandchild == 0) {
        char byte = 0;
        (void)!::read(hold[0], &byte, 1);
        ::_exit(0);
      }
      const pid_t pids[2] = {::getpid(), grandchild};
      (void)!::write(ready[1], pids, sizeof pids);
      ::raise(SIGSTOP);
      ::_exit(0);
    }
    ::waitpid(child, nullptr, 0);
    ::_exit(0);
  }
  ::close(ready[1]);
  ::close(hold[0]);
  pid_t pids[2] = {0, 0};
  ASSERT_EQ(::read(ready[0], pids, sizeof pids), static_cast<ssize_t>(sizeof pids));
  const pid_t child = pids[0];
  const pid_t grandchild = pids[1];
  // It stops itself right after it wrote: wait for the kernel to show it stopped.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (stat_of(child).value_or(ProcessStat{}).state != 'T' &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }

  const std::string listing = describe_process_tree(wrapper);
  const auto wrapper_at = listing.find(line_start(wrapper, ::getpid()));
  const auto child_at = listing.find(line_start(child, wrapper));
  const auto grandchild_at = listing.find(line_start(grandchild, child));
  EXPECT_NE(wrapper_at, std::string::npos) << listing;
  EXPECT_NE(child_at, std::string::npos) << listing;
  EXPECT_NE(grandchild_at, std::string::npos) << listing;
  EXPECT_LT(wrapper_at, child_at) << "parents first:\n" << listing;
  EXPECT_LT(child_at, grandchild_at) << "parents first:\n" << listing;
  if (child_at != std::string::npos) {
    const std::string child_line =
        listing.substr(child_at, listing.find('\n', child_at) - child_at);
    EXPECT_NE(child_line.find(" state T "), std::string::npos) << child_line;
    EXPECT_NE(child_line.find(" pgid "), std::string::npos) << child_line;
    EXPECT_NE(child_line.find(" sid "), std::string::npos) << child_line;
    EXPECT_NE(child_line.find(" pending "), std::string::npos) << child_line;
    EXPECT_NE(child_line.find(" blocked "), std::string::npos) << child_line;
  }

  ::kill(grandchild, SIGKILL);
  ::kill(child, SIGKILL);
  int status = 0;
  EXPECT_EQ(::waitpid(wrapper, &status, 0), wrapper);
  ::close(ready[0]);
  ::close(hold[1]);
}

} // namespace
} // namespace buildlock::chaos

// buildlock.exe status, clean and bad input: the same JSON, the same one-line errors and exit
// codes as on Linux.
#include "support/windows_process.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace buildlock::windows_test {
namespace {

using nlohmann::json;

std::vector<std::string> manage(const TestDirectory& dir, const std::string& command,
                                const std::vector<std::string>& options = {}) {
  std::vector<std::string> arguments = {command, "--dir", dir.file("locks")};
  arguments.insert(arguments.end(), options.begin(), options.end());
  return arguments;
}

TEST(Manage, StatusJsonNamesTheLiveHolder) {
  TestDirectory dir;
  Process holder = start_buildlock(dir, run_arguments(dir, "compile", {}, tree_command(dir)));
  ASSERT_TRUE(wait_for_file(dir.file("ready"), start_bound)) << holder.err();
  const ProcessGuard leaf(read_pid(dir.file("leaf.pid")));
  const Finished status = run_buildlock(dir, manage(dir, "status", {"--json"}));
  ASSERT_EQ(status.status, 0u) << status.err;
  const json array = json::parse(status.out);
  ASSERT_EQ(array.size(), 1u) << array.dump(2);
  const json& lock = array[0];
  EXPECT_EQ(lock["name"], "compile");
  EXPECT_EQ(lock["path"], dir.file("locks\\compile.lock"));
  EXPECT_EQ(lock["state"], "held");
  EXPECT_EQ(lock["reason"], "kernel-lock-held");
  EXPECT_EQ(lock["pid"], holder.pid());
  EXPECT_TRUE(lock["uid"].is_null()); // Windows users are SIDs
  EXPECT_EQ(lock["command"], json(tree_command(dir)));
  EXPECT_EQ(finish_tree(dir, holder, 0), 0u);
}

TEST(Manage, CleanRemovesWhatAKilledHolderLeft) {
  TestDirectory dir;
  Process holder = start_buildlock(dir, run_arguments(dir, "L", {}, tree_command(dir)));
  ASSERT_TRUE(wait_for_file(dir.file("ready"), start_bound)) << holder.err();
  const ProcessGuard leaf(read_pid(dir.file("leaf.pid")));
  holder.kill();
  ASSERT_EQ(directory_entries(dir.file("locks")), std::vector<std::string>{"L.lock"});
  const Finished clean = run_buildlock(dir, manage(dir, "clean", {"--json"}));
  ASSERT_EQ(clean.status, 0u) << clean.err;
  const json array = json::parse(clean.out);
  ASSERT_EQ(array.size(), 1u) << array.dump(2);
  EXPECT_EQ(array[0]["action"], "removed");
  EXPECT_EQ(directory_entries(dir.file("locks")), std::vector<std::string>{});
}

struct BadInput {
  const char* label;
  std::vector<std::string> options; // before the lock name
  std::string lock;
  std::vector<std::string> command;
  DWORD status;
  const char* message;
};

class BadRun : public ::testing::TestWithParam<BadInput> {};

TEST_P(BadRun, IsOneErrorLineAndItsExitStatus) {
  TestDirectory dir;
  const BadInput& bad = GetParam();
  const Finished finished =
      run_buildlock(dir, run_arguments(dir, bad.lock, bad.options, bad.command));
  EXPECT_EQ(finished.status, bad.status) << finished.err;
  EXPECT_TRUE(is_one_error_line(finished.err, bad.message)) << finished.err;
}

INSTANTIATE_TEST_SUITE_P(
    Inputs, BadRun,
    ::testing::Values(
        BadInput{"LockNameWithBackslash", {}, "..\\x", exit_command(0), 2, "lock name"},
        BadInput{"TimeoutNotANumber", {"--timeout", "soon"}, "L", exit_command(0), 2, "--timeout"},
        BadInput{
            "CommandNotFound", {}, "L", {"no-such-command-here.exe"}, 127, "command not found"}),
    [](const auto& param) { return std::string(param.param.label); });

} // namespace
} // namespace buildlock::windows_test

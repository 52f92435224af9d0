// Hostile lock names (issue 8): names that climb out of the lock directory (`..`, `/`), a NUL, and
// 10 KB of name. Every subcommand that takes a name refuses it as a usage error (exit 2) with one
// bounded error line, before touching the filesystem: the lock directory is not even created,
// and the stale lock file that `../escape` would reach stays where it is.
// (run_cli_test.cpp covers run with the short invalid names; this adds the other subcommands,
// the long names and the check of everything around the lock directory.)
#include "hostile_test_support.h"

#include <gtest/gtest.h>

namespace buildlock::test {
namespace {

// Longest line a refusal may print: the name is cut after 40 characters.
constexpr std::size_t max_error_line = 300;
constexpr std::size_t ten_kilobytes = std::size_t{10} * 1024;

std::string repeated(const std::string& piece, std::size_t total_length) {
  std::string text;
  while (text.size() < total_length) {
    text += piece;
  }
  return text.substr(0, total_length);
}

struct HostileName {
  std::string label;
  std::string name;
};

void PrintTo(const HostileName& value, std::ostream* out) {
  *out << value.label;
}

class HostileLockName : public HostileInputTest,
                        public ::testing::WithParamInterface<HostileName> {};

TEST_P(HostileLockName, IsRefusedByEverySubcommandAndNothingIsTouched) {
  const std::string& name = GetParam().name;
  freeze_outside();
  const std::vector<std::vector<std::string>> invocations = {
      run_arguments(name, scripted({"notify", "3"})), {"status", "--dir", lock_dir, name},
      {"status", "--dir", lock_dir, "--json", name},  {"break", "--dir", lock_dir, name},
      {"break", "--dir", lock_dir, "--force", name},
  };
  for (const auto& arguments : invocations) {
    Pipe ran;
    Command command = buildlock(arguments);
    command.pass_fd(3, ran.write_fd());
    Finished finished = run(command);
    ran.close_write();
    EXPECT_EQ(finished.status, ExitStatus::exited(2)) << arguments[0] << ": " << finished.err;
    EXPECT_TRUE(is_one_error_line(finished.err, "invalid lock name `")) << arguments[0];
    EXPECT_LT(finished.err.size(), max_error_line) << arguments[0];
    EXPECT_EQ(finished.out, "") << arguments[0];
    EXPECT_TRUE(ran.ends_without_data(5s)) << "the command ran";
  }
  EXPECT_FALSE(exists_no_follow(lock_dir)) << "a refused name created the lock directory";
  EXPECT_TRUE(exists_no_follow(escaped_lock));
}

INSTANTIATE_TEST_SUITE_P(
    Names, HostileLockName,
    ::testing::Values(HostileName{"DotDot", ".."}, HostileName{"DotDotSlashLock", "../escape"},
                      HostileName{"ClimbsBackIn", "x/../../escape"},
                      HostileName{"SlashInside", "sentinel-dir/inside"},
                      HostileName{"AbsolutePath", "/tmp/escape"},
                      HostileName{"TenKilobytes", std::string(ten_kilobytes, 'a')},
                      HostileName{"TenKilobytesOfDotDotSlash", repeated("../", ten_kilobytes)},
                      HostileName{"TenKilobytesOfControlCharacters",
                                  "a" + repeated("\x1b[2J\r", ten_kilobytes)}),
    [](const auto& param) { return param.param.label; });

// `clean` takes no names at all: a name is an unexpected argument, and nothing is removed.
TEST_F(HostileLockName, CleanRefusesANameAndRemovesNothing) {
  freeze_outside();
  Finished finished = run(buildlock({"clean", "--dir", lock_dir, "../escape"}));
  EXPECT_EQ(finished.status, ExitStatus::exited(2)) << finished.err;
  EXPECT_TRUE(is_one_error_line(finished.err));
  EXPECT_FALSE(exists_no_follow(lock_dir));
}

// A NUL cannot reach buildlock: execve() takes C strings, so an argument (or an environment
// value) ends at its first NUL, and buildlock validates what is left like any other name. What
// follows the NUL, here a climb out of the lock directory, is never seen.
TEST_F(HostileLockName, NulEndsTheNameBeforeBuildlockSeesIt) {
  freeze_outside();
  Command command = run_under_lock(std::string("ab\0/../../escape", 16),
                                   scripted({"notify", "3", "wait", "4"}), {"--verbose"});
  Pipe started, release;
  command.pass_fd(3, started.write_fd()).pass_fd(4, release.read_fd());
  Process process = command.start();
  started.close_write();
  release.close_read();
  ASSERT_TRUE(started.receives_byte(10s)) << process.stderr_text();
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{"ab.lock"});
  release.write_byte();
  EXPECT_EQ(process.wait(10s), ExitStatus::exited(0)) << process.stderr_text();
  EXPECT_NE(process.stderr_text().find("acquired lock `ab`"), std::string::npos)
      << process.stderr_text();
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{});
}

TEST_F(HostileLockName, NulEndsTheLockDirectoryFromTheEnvironment) {
  freeze_outside();
  Command command = buildlock({"run", "L", "--", scripted_command_binary(), "notify", "3"});
  command.env("BUILDLOCK_DIR", lock_dir + std::string("\0/../elsewhere", 14));
  Pipe ran;
  command.pass_fd(3, ran.write_fd());
  Finished finished = run(command);
  ran.close_write();
  EXPECT_EQ(finished.status, ExitStatus::exited(0)) << finished.err;
  EXPECT_TRUE(ran.receives_byte(5s));
  EXPECT_TRUE(exists_no_follow(lock_dir));
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{});
}

} // namespace
} // namespace buildlock::test

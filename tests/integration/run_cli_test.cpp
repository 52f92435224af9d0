// `buildlock run` command-line handling: usage errors (exit 2), commands that cannot run
// (126 / 127, lock released), --help and --version.
#include "support/integration_test.h"
#include "support/lock_files.h"
#include "support/pipe.h"
#include "support/waiting.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

namespace buildlock::test {
namespace {

// Every error is exactly one line on stderr starting `buildlock: error:`.
::testing::AssertionResult is_one_error_line(const std::string& err) {
  const auto lines = lines_of(err);
  if (lines.size() != 1 || lines[0].rfind("buildlock: error: ", 0) != 0 || err.back() != '\n') {
    return ::testing::AssertionFailure() << "stderr is not one `buildlock: error:` line:\n" << err;
  }
  return ::testing::AssertionSuccess();
}

class RunUsage : public IntegrationTest {
protected:
  // Runs buildlock with `arguments` and a command that would notify if it ever ran; expects a
  // usage error that ran nothing and created nothing.
  void expect_usage_error(std::vector<std::string> arguments, const Command* prepared = nullptr) {
    Pipe ran;
    Command command = prepared != nullptr ? *prepared : buildlock(std::move(arguments));
    command.pass_fd(3, ran.write_fd());
    Finished finished = run(command);
    ran.close_write();
    EXPECT_EQ(finished.status, ExitStatus::exited(2)) << finished.err;
    EXPECT_TRUE(is_one_error_line(finished.err));
    EXPECT_EQ(finished.out, "");
    EXPECT_TRUE(ran.ends_without_data(5s)) << "the command ran despite the usage error";
    EXPECT_FALSE(exists_no_follow(lock_dir)) << "a usage error created the lock directory";
  }

  std::vector<std::string> notify_command() const { return scripted({"notify", "3"}); }
};

class InvalidLockName : public RunUsage, public ::testing::WithParamInterface<std::string> {};

TEST_P(InvalidLockName, IsAUsageErrorThatTouchesNothing) {
  expect_usage_error(run_arguments(GetParam(), notify_command()));
  // A name that climbs out of the lock directory must not have created anything up there.
  EXPECT_EQ(directory_entries(temp.path()), std::vector<std::string>{"output"})
      << "entries were created in " << temp.path();
}

INSTANTIATE_TEST_SUITE_P(Names, InvalidLockName,
                         ::testing::Values("", ".", "..", "../escape", "a/b", "/absolute",
                                           ".hidden", "_under", "a b", "tab\there", "semi;colon",
                                           "new\nline", "caf\xc3\xa9", std::string(129, 'x')),
                         [](const auto& param) { return "case" + std::to_string(param.index); });

TEST_F(RunUsage, LongestValidLockNameIsAccepted) {
  const std::string longest = "A" + std::string(126, 'b') + "-";
  ASSERT_EQ(longest.size(), 128u);
  Finished finished = run(run_under_lock(longest, scripted({"exit", "0"})));
  EXPECT_EQ(finished.status, ExitStatus::exited(0)) << finished.err;
  EXPECT_EQ(finished.err, "");
}

class InvalidDuration : public RunUsage,
                        public ::testing::WithParamInterface<std::pair<std::string, std::string>> {
};

TEST_P(InvalidDuration, IsAUsageError) {
  const auto& [option, value] = GetParam();
  expect_usage_error(run_arguments("L", notify_command(), {option, value}));
}

INSTANTIATE_TEST_SUITE_P(
    Values, InvalidDuration,
    ::testing::Values(std::pair{"--timeout", "abc"}, std::pair{"--timeout", "-1"},
                      std::pair{"--timeout", ""}, std::pair{"--timeout", "1s"},
                      std::pair{"--timeout", "inf"}, std::pair{"--timeout", "nan"},
                      std::pair{"--timeout", "0x10"}, std::pair{"--timeout", " 1"},
                      std::pair{"--stale-after", "soon"}, std::pair{"--stale-after", "-5"}),
    [](const auto& param) { return "case" + std::to_string(param.index); });

// Issue 13, finding 10: --stale-after 0 (or anything below 0.2 s, where a holder's heartbeat,
// at most every 50 ms, no longer fits four times into the limit) would make live holders stale.
TEST_F(RunUsage, StaleAfterBelowTheMinimumIsAUsageErrorThatSaysTheMinimum) {
  for (const std::string value : {"0", "0.1", "1e-9"}) {
    Finished finished =
        run(buildlock(run_arguments("L", notify_command(), {"--stale-after", value})));
    EXPECT_EQ(finished.status, ExitStatus::exited(2)) << finished.err;
    EXPECT_TRUE(is_one_error_line(finished.err));
    EXPECT_TRUE(finished.err.starts_with("buildlock: error: --stale-after: `" + value +
                                         "` is less than the minimum of 0.2s"))
        << finished.err;
  }
  Command from_environment = run_under_lock("L", notify_command());
  from_environment.env("BUILDLOCK_STALE_AFTER", "0");
  expect_usage_error({}, &from_environment);
  EXPECT_FALSE(exists_no_follow(lock_dir));

  Finished at_minimum = run(run_under_lock("L", scripted({"exit", "0"}), {"--stale-after", "0.2"}));
  EXPECT_EQ(at_minimum.status, ExitStatus::exited(0)) << at_minimum.err;
}

TEST_F(RunUsage, InvalidTimeoutFromTheEnvironmentIsAUsageError) {
  Command command = run_under_lock("L", notify_command());
  command.env("BUILDLOCK_TIMEOUT", "forever");
  expect_usage_error({}, &command);
}

TEST_F(RunUsage, MissingSeparatorAndCommandIsAUsageError) {
  expect_usage_error({"run", "--dir", lock_dir, "L"});
}

TEST_F(RunUsage, EmptyCommandAfterSeparatorIsAUsageError) {
  expect_usage_error({"run", "--dir", lock_dir, "L", "--"});
}

TEST_F(RunUsage, UnknownOptionIsAUsageError) {
  expect_usage_error(run_arguments("L", notify_command(), {"--no-such-option"}));
}

TEST_F(RunUsage, QuietAndVerboseTogetherAreAUsageError) {
  expect_usage_error(run_arguments("L", notify_command(), {"--quiet", "--verbose"}));
}

class RunCommandFailure : public IntegrationTest {
protected:
  // After a command that could not start, the lock is free and nothing is left behind.
  void expect_lock_released() {
    EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{});
    Finished next = run(run_under_lock("L", scripted({"exit", "0"}), {"--timeout", "0"}));
    EXPECT_EQ(next.status, ExitStatus::exited(0)) << next.err;
  }
};

TEST_F(RunCommandFailure, CommandNotInPathExits127AndReleasesTheLock) {
  Finished finished = run(run_under_lock("L", {"buildlock-test-no-such-command", "arg"}));
  EXPECT_EQ(finished.status, ExitStatus::exited(127));
  EXPECT_TRUE(is_one_error_line(finished.err));
  EXPECT_NE(finished.err.find("buildlock-test-no-such-command"), std::string::npos) << finished.err;
  expect_lock_released();
}

TEST_F(RunCommandFailure, MissingCommandPathExits127AndReleasesTheLock) {
  Finished finished = run(run_under_lock("L", {temp / "missing/program"}));
  EXPECT_EQ(finished.status, ExitStatus::exited(127));
  EXPECT_TRUE(is_one_error_line(finished.err));
  expect_lock_released();
}

TEST_F(RunCommandFailure, FileWithoutExecutePermissionExits126AndReleasesTheLock) {
  const std::string program = temp / "not-executable";
  write_file(program, "#!/bin/sh\nexit 0\n");
  ASSERT_EQ(::chmod(program.c_str(), 0644), 0);
  Finished finished = run(run_under_lock("L", {program}));
  EXPECT_EQ(finished.status, ExitStatus::exited(126));
  EXPECT_TRUE(is_one_error_line(finished.err));
  expect_lock_released();
}

TEST_F(RunCommandFailure, DirectoryAsCommandExits126AndReleasesTheLock) {
  Finished finished = run(run_under_lock("L", {temp.path()}));
  EXPECT_EQ(finished.status, ExitStatus::exited(126));
  EXPECT_TRUE(is_one_error_line(finished.err));
  expect_lock_released();
}

// COMMAND is looked for in PATH as execvp(3) does: a file found but not executable is skipped for
// a later one, and reported (126) only when no directory has an executable one.
TEST_F(RunCommandFailure, PathSearchSkipsAFileThatIsNotExecutable) {
  const std::string first = temp / "first";
  const std::string second = temp / "second";
  ASSERT_EQ(::mkdir(first.c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(second.c_str(), 0755), 0);
  write_file(first + "/buildlock-test-program", "#!/bin/sh\nexit 5\n");
  ASSERT_EQ(::chmod((first + "/buildlock-test-program").c_str(), 0644), 0);
  write_file(second + "/buildlock-test-program", "#!/bin/sh\nexit 7\n");
  ASSERT_EQ(::chmod((second + "/buildlock-test-program").c_str(), 0755), 0);
  const std::string missing = temp / "missing";
  Finished found = run(run_under_lock("L", {"buildlock-test-program"})
                           .env("PATH", missing + ":" + first + "::" + second + ":/usr/bin:/bin"));
  EXPECT_EQ(found.status, ExitStatus::exited(7)) << found.err;
  Finished denied =
      run(run_under_lock("L", {"buildlock-test-program"}).env("PATH", missing + ":" + first));
  EXPECT_EQ(denied.status, ExitStatus::exited(126)) << denied.err;
  EXPECT_TRUE(is_one_error_line(denied.err));
  expect_lock_released();
}

class RunArguments : public IntegrationTest {};

// Everything after the first `--` reaches COMMAND byte for byte (docs/cli.md).
TEST_F(RunArguments, CommandArgumentsArePassedOnExactly) {
  const std::vector<std::string> arguments = {
      "two words", "", "--", "--timeout", "-v", "L", "caf\xc3\xa9", "\xff\xfe raw", "$HOME", "*"};
  std::vector<std::string> command = {"printf", "[%s]\\n"};
  command.insert(command.end(), arguments.begin(), arguments.end());
  Finished finished = run(run_under_lock("L", command));
  EXPECT_EQ(finished.status, ExitStatus::exited(0)) << finished.err;
  std::string expected;
  for (const auto& argument : arguments) {
    expected += "[" + argument + "]\n";
  }
  EXPECT_EQ(finished.out, expected);
}

// A relative --dir is relative to the directory buildlock runs from, the one rule that the CMake
// module follows too (issue 25, docs/cli.md): the same directory named by its absolute path from
// elsewhere is the same lock directory.
TEST_F(RunArguments, ARelativeDirIsRelativeToTheWorkingDirectory) {
  Pipe started;
  Pipe release;
  std::vector<std::string> arguments = {"run", "--dir", "rel-locks", "L", "--"};
  for (const std::string& word : scripted({"notify", "3", "wait", "4"})) {
    arguments.push_back(word);
  }
  Process holding = buildlock(arguments)
                        .working_directory(temp.path())
                        .pass_fd(3, started.write_fd())
                        .pass_fd(4, release.read_fd())
                        .start();
  started.close_write();
  release.close_read();
  ASSERT_TRUE(started.receives_byte(10s)) << holding.stderr_text();
  EXPECT_TRUE(exists_no_follow(temp / "rel-locks/L.lock"));
  Finished waiter =
      run(buildlock({"run", "--dir", temp / "rel-locks", "--timeout", "0", "L", "--", "true"})
              .working_directory("/"));
  EXPECT_EQ(waiter.status, ExitStatus::exited(75)) << waiter.err;
  release.write_byte();
  EXPECT_EQ(holding.wait(10s), ExitStatus::exited(0)) << holding.stderr_text();
}

class RunHelpAndVersion : public IntegrationTest {};

TEST_F(RunHelpAndVersion, VersionPrintsNameAndVersion) {
  Finished finished = run(buildlock({"--version"}));
  EXPECT_EQ(finished.status, ExitStatus::exited(0));
  EXPECT_TRUE(::testing::internal::RE::PartialMatch(
      finished.out, ::testing::internal::RE("^buildlock [0-9]+\\.[0-9]+\\.[0-9]+")))
      << finished.out;
}

TEST_F(RunHelpAndVersion, HelpDescribesRunAndExitsZero) {
  Finished top = run(buildlock({"--help"}));
  EXPECT_EQ(top.status, ExitStatus::exited(0));
  EXPECT_NE(top.out.find("run"), std::string::npos) << top.out;

  Finished run_help = run(buildlock({"run", "--help"}));
  EXPECT_EQ(run_help.status, ExitStatus::exited(0));
  for (const char* option : {"--dir", "--timeout", "--stale-after", "--quiet", "--verbose"}) {
    EXPECT_NE(run_help.out.find(option), std::string::npos) << option << " in:\n" << run_help.out;
  }
}

TEST_F(RunHelpAndVersion, EverySubcommandsHelpShowsItsWholeUsageAnExampleAndEveryExitStatus) {
  Finished run_help = run(buildlock({"run", "--help"}));
  EXPECT_NE(run_help.out.find("Usage: buildlock run [OPTIONS] LOCK -- COMMAND [ARG...]\n"),
            std::string::npos)
      << run_help.out;
  for (const char* subcommand : {"run", "status", "clean", "break"}) {
    Finished help = run(buildlock({subcommand, "--help"}));
    EXPECT_EQ(help.status, ExitStatus::exited(0));
    // Constraints are said in the description, not as badges that wrap it onto the next line.
    EXPECT_EQ(help.out.find("Excludes:"), std::string::npos) << help.out;
    EXPECT_NE(help.out.find("\nExample: buildlock " + std::string(subcommand) + " "),
              std::string::npos)
        << help.out;
    // 70 and 71 can end any subcommand; a list without them was incomplete.
    for (const char* status : {" 2 usage", " 70 internal error", " 71 system error", " 74 "}) {
      EXPECT_NE(help.out.find(status), std::string::npos) << status << " in:\n" << help.out;
    }
  }
  EXPECT_NE(run_help.out.find(" 76 lock lost"), std::string::npos) << run_help.out;
  Finished status_help = run(buildlock({"status", "--help"}));
  // status never waits: its -q cannot be about waiting notices.
  EXPECT_NE(status_help.out.find("-q,--quiet                  Say only errors and warnings"),
            std::string::npos)
      << status_help.out;
}

} // namespace
} // namespace buildlock::test

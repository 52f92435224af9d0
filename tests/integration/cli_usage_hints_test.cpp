// What a mistyped command line is told (issue 25, item 3): the nearest subcommand or option, the
// missing `--` with the corrected command, checked word for word because these lines are the
// interface a newcomer meets first. Each is a usage error (exit 2) that runs and creates nothing.
#include "support/integration_test.h"
#include "support/lock_files.h"
#include "support/pipe.h"

#include <gtest/gtest.h>

namespace buildlock::test {
namespace {

class UsageHints : public IntegrationTest {
protected:
  // buildlock with `arguments`, where a command that notifies through fd 3 if it ever ran stands
  // for COMMAND wherever the arguments say "NOTIFY"; returns its one line of stderr.
  std::string usage_error_of(const std::vector<std::string>& arguments) {
    std::vector<std::string> expanded;
    for (const std::string& word : arguments) {
      if (word == "NOTIFY") {
        // A shell whose child notifies: a tree, as a real command would be.
        for (const std::string& part : scripted({"notify", "3"})) {
          expanded.push_back(part);
        }
      } else {
        expanded.push_back(word == "LOCKDIR" ? lock_dir : word);
      }
    }
    Pipe ran;
    Command command = buildlock(expanded);
    command.pass_fd(3, ran.write_fd());
    Finished finished = run(command);
    ran.close_write();
    EXPECT_EQ(finished.status, ExitStatus::exited(2)) << finished.err;
    EXPECT_EQ(finished.out, "");
    EXPECT_TRUE(ran.ends_without_data(5s)) << "the command ran despite the usage error";
    EXPECT_FALSE(exists_no_follow(lock_dir)) << "a usage error created the lock directory";
    return finished.err;
  }
};

TEST_F(UsageHints, AMistypedOptionIsNamedWithTheNearestOneAndTheSubcommandsHelp) {
  EXPECT_EQ(usage_error_of({"run", "--dri", "LOCKDIR", "L", "--", "NOTIFY"}),
            "buildlock: error: unknown option `--dri` for `buildlock run`; did you mean `--dir`? "
            "(see `buildlock run --help`)\n");
  EXPECT_EQ(usage_error_of({"run", "--dir", "LOCKDIR", "--kill-afer", "3", "L", "--", "NOTIFY"}),
            "buildlock: error: unknown option `--kill-afer` for `buildlock run`; did you mean "
            "`--kill-after`? (see `buildlock run --help`)\n");
}

TEST_F(UsageHints, AnUnknownOptionWithNothingNearIsNamedAlone) {
  EXPECT_EQ(usage_error_of({"run", "--dir", "LOCKDIR", "--no-such-option", "L", "--", "NOTIFY"}),
            "buildlock: error: unknown option `--no-such-option` for `buildlock run` (see "
            "`buildlock run --help`)\n");
}

TEST_F(UsageHints, AMistypedSubcommandIsNamedWithTheNearestOne) {
  EXPECT_EQ(usage_error_of({"stat", "--dir", "LOCKDIR"}),
            "buildlock: error: unknown subcommand `stat`; did you mean `buildlock status`? "
            "(subcommands: run, status, clean, break, report; see `buildlock --help`)\n");
  EXPECT_EQ(usage_error_of({"frobnicate"}),
            "buildlock: error: unknown subcommand `frobnicate` (subcommands: run, status, clean, "
            "break, report; see `buildlock --help`)\n");
}

TEST_F(UsageHints, NoSubcommandListsThem) {
  EXPECT_EQ(usage_error_of({}), "buildlock: error: missing subcommand: one of run, status, clean, "
                                "break, report (see `buildlock --help`)\n");
}

TEST_F(UsageHints, AnOptionBeforeTheSubcommandIsToldToGoAfterIt) {
  EXPECT_EQ(usage_error_of({"--dir", "LOCKDIR", "run", "L", "--", "NOTIFY"}),
            "buildlock: error: `--dir` is not an option of buildlock itself: options go after the "
            "subcommand, as in `buildlock run --dir DIR LOCK -- COMMAND` (see `buildlock "
            "--help`)\n");
}

TEST_F(UsageHints, AMissingSeparatorIsNamedWithTheCorrectedCommand) {
  // The corrected command is quoted for a POSIX shell, so it can be pasted as it is.
  EXPECT_EQ(usage_error_of({"run", "--timeout", "3", "L", "sh", "-c", "echo it's me", "x"}),
            "buildlock: error: missing `--` between the lock and the command; did you mean "
            "`buildlock run --timeout 3 L -- sh -c 'echo it'\\''s me' x`?\n");
  // Options given as --name=value take no next word; flags given together are flags.
  EXPECT_EQ(usage_error_of({"run", "--timeout=3", "-q", "L", "make", "-j4"}),
            "buildlock: error: missing `--` between the lock and the command; did you mean "
            "`buildlock run --timeout=3 -q L -- make -j4`?\n");
}

TEST_F(UsageHints, VersionAfterASubcommandIsToldWhereItGoes) {
  EXPECT_EQ(usage_error_of({"run", "--version"}),
            "buildlock: error: `--version` is an option of buildlock itself, not of `buildlock "
            "run`: use `buildlock --version`\n");
}

TEST_F(UsageHints, ALockWithoutCommandStillSaysMissingCommand) {
  EXPECT_EQ(usage_error_of({"run", "--dir", "LOCKDIR", "L"}),
            "buildlock: error: missing COMMAND: use `buildlock run LOCK -- COMMAND [ARG...]`\n");
}

} // namespace
} // namespace buildlock::test

// What buildlock says, and that saying it can never cost a release: reclaims are reported in every
// build log (silenced only by --quiet), and a stderr pipe whose reader is gone (a killed ninja)
// neither kills buildlock nor leaks into the command as an ignored SIGPIPE.
#include "support/integration_test.h"
#include "support/lock_files.h"
#include "support/waiting.h"

#include <csignal>
#include <gtest/gtest.h>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unistd.h>

namespace buildlock::test {
namespace {

class RunMessages : public IntegrationTest {
protected:
  void SetUp() override { make_lock_dir(); }

  void craft_orphan(const std::string& name) const {
    HolderMetadata metadata = metadata_for_local_process(::getpid());
    metadata.pid = reaped_pid();
    write_lock_file(lock_path(name), to_json(metadata));
  }
};

TEST_F(RunMessages, ReclaimIsReportedWithoutVerbose) {
  craft_orphan("L");
  Finished finished = run(run_under_lock("L", {"true"}, {"--timeout", "0"}));
  EXPECT_EQ(finished.status, ExitStatus::exited(0)) << finished.err;
  EXPECT_NE(finished.err.find("buildlock: reclaimed stale lock `L`"), std::string::npos)
      << finished.err;
  EXPECT_NE(finished.err.find("[holder-dead]"), std::string::npos) << finished.err;
  EXPECT_EQ(finished.out, "");
}

TEST_F(RunMessages, QuietSilencesTheReclaimNotice) {
  craft_orphan("L");
  Finished finished = run(run_under_lock("L", {"true"}, {"--quiet", "--timeout", "0"}));
  EXPECT_EQ(finished.status, ExitStatus::exited(0)) << finished.err;
  EXPECT_EQ(finished.err, "");
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{});
}

// `run --json` (issue 25, item 8): buildlock's own lines on stderr are JSON objects with exactly
// these four fields, so that a script tells them from COMMAND's lines; COMMAND's output is left
// alone. Field names and types are the interface (docs/cli.md, "Messages").
void expect_message_line(const std::string& line, const std::string& level,
                         const std::string& message_start) {
  const nlohmann::json object = nlohmann::json::parse(line, nullptr, false);
  ASSERT_TRUE(object.is_object()) << "not a JSON object: " << line;
  EXPECT_EQ(object.size(), 4u) << line;
  EXPECT_TRUE(object["schema_version"].is_number_integer()) << line;
  EXPECT_EQ(object["schema_version"], 1) << line;
  EXPECT_EQ(object["source"], "buildlock") << line;
  EXPECT_EQ(object["level"], level) << line;
  ASSERT_TRUE(object["message"].is_string()) << line;
  EXPECT_TRUE(object["message"].get<std::string>().starts_with(message_start)) << line;
}

TEST_F(RunMessages, JsonWritesBuildlocksOwnLinesAsJsonBesideTheCommandsOutput) {
  craft_orphan("L");
  Finished finished = run(run_under_lock("L", {"sh", "-c", "echo out; echo err >&2; exit 3"},
                                         {"--json", "--timeout", "0"}));
  EXPECT_EQ(finished.status, ExitStatus::exited(3)) << finished.err;
  EXPECT_EQ(finished.out, "out\n");
  const auto lines = lines_of(finished.err);
  ASSERT_EQ(lines.size(), 2u) << finished.err;
  expect_message_line(lines[0], "notice", "reclaimed stale lock `L` of pid ");
  EXPECT_EQ(lines[1], "err");
}

TEST_F(RunMessages, JsonReportsATimeoutAsAnErrorLine) {
  auto holder = start_holding("L");
  Finished finished = run(run_under_lock("L", {"true"}, {"--json", "--timeout", "0"}));
  EXPECT_EQ(finished.status, ExitStatus::exited(75)) << finished.err;
  const auto lines = lines_of(finished.err);
  ASSERT_EQ(lines.size(), 1u) << finished.err;
  expect_message_line(lines[0], "error", "timed out after ");
  holder->let_go();
  EXPECT_EQ(holder->process->wait(10s), ExitStatus::exited(0));
}

// buildlock ignores SIGPIPE for itself; the command must still get the default action, as it
// would without buildlock (e.g. `yes | head` ends quietly).
TEST_F(RunMessages, CommandGetsTheDefaultSigpipeAction) {
  Finished finished = run(run_under_lock("L", {"cat", "/proc/self/status"}));
  ASSERT_EQ(finished.status, ExitStatus::exited(0)) << finished.err;
  std::istringstream lines(finished.out);
  std::string line;
  unsigned long long ignored = ~0ULL;
  while (std::getline(lines, line)) {
    if (line.rfind("SigIgn:", 0) == 0) {
      ignored = std::stoull(line.substr(7), nullptr, 16);
    }
  }
  ASSERT_NE(ignored, ~0ULL) << finished.out;
  EXPECT_EQ(ignored & (1ULL << (SIGPIPE - 1)), 0u) << "SIGPIPE is ignored in the command";
}

// The command starts with the signal dispositions buildlock was started with: a signal ignored by
// whoever started buildlock (`trap '' ...`, nohup) stays ignored in the command, whether buildlock
// forwards it (INT, PIPE, a real-time signal) or not; nothing is blocked, and no handler of
// buildlock's is left (buildlock's own start of the command resets only what it changed).
TEST_F(RunMessages, CommandStartsWithTheDispositionsBuildlockWasGiven) {
  std::vector<std::string> wrapped = run_arguments("L", {"cat", "/proc/self/status"});
  wrapped.insert(wrapped.begin(), buildlock_binary());
  const int realtime = SIGRTMIN + 2;
  std::vector<std::string> argv = {
      "sh", "-c", "trap '' INT PIPE " + std::to_string(realtime) + "; exec \"$@\"", "sh"};
  argv.insert(argv.end(), wrapped.begin(), wrapped.end());
  Finished finished = run(program(argv));
  ASSERT_EQ(finished.status, ExitStatus::exited(0)) << finished.err;
  std::istringstream lines(finished.out);
  std::string line;
  std::map<std::string, unsigned long long> masks;
  while (std::getline(lines, line)) {
    for (const char* field : {"SigIgn:", "SigBlk:", "SigCgt:"}) {
      if (line.rfind(field, 0) == 0) {
        masks[field] = std::stoull(line.substr(std::string(field).size()), nullptr, 16);
      }
    }
  }
  ASSERT_EQ(masks.size(), 3u) << finished.out;
  const auto bit = [](int number) {
    return 1ULL << (number - 1);
  };
  EXPECT_EQ(masks["SigIgn:"], bit(SIGINT) | bit(SIGPIPE) | bit(realtime)) << finished.out;
  EXPECT_EQ(masks["SigBlk:"], 0u) << finished.out;
  EXPECT_EQ(masks["SigCgt:"], 0u) << finished.out;
}

// A warning written after the reader of stderr is gone (ninja killed while the command ran) must
// not kill buildlock with SIGPIPE before it has released and reported the command's status.
TEST_F(RunMessages, StderrWithoutReaderDoesNotKillBuildlock) {
  const std::string reader_gone = temp / "reader-gone";
  const std::string status_file = temp / "status";
  // The command removes its own lock file (as `break --force` would), so that buildlock warns at
  // release, and ends only once the stderr reader has exited.
  const std::string command_script = "rm -f \"$1\"; while [ ! -e \"$2\" ]; do sleep 0.01; done";
  std::vector<std::string> wrapped = run_arguments(
      "L", {"sh", "-c", command_script, "sh", lock_path("L"), reader_gone}, {"--quiet"});
  wrapped.insert(wrapped.begin(), buildlock_binary());
  std::vector<std::string> argv = {
      "sh",
      "-c",
      "STATUS=$1; DONE=$2; shift 2; "
      "{ \"$@\" 2>&1 >/dev/null; echo $? >\"$STATUS\"; } | { exec 0<&-; : >\"$DONE\"; }",
      "sh",
      status_file,
      reader_gone};
  argv.insert(argv.end(), wrapped.begin(), wrapped.end());
  Finished finished = run(program(argv));
  ASSERT_EQ(finished.status, ExitStatus::exited(0)) << finished.err;
  EXPECT_EQ(read_file(status_file), "0\n") << "141 would be a death by SIGPIPE";
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{});
}

// The metadata's `user` is for people: $USER (or $LOGNAME) as the session knows it, with no name
// service lookup, so that the binary can be linked statically. Decisions use `uid`.
TEST_F(RunMessages, LockRecordsTheUserFromTheEnvironmentAndTheUid) {
  Command command = run_under_lock("L", {"cat", lock_path("L")});
  command.env("USER", "builder-from-env");
  Finished finished = run(command);
  ASSERT_EQ(finished.status, ExitStatus::exited(0)) << finished.err;
  EXPECT_NE(finished.out.find("\"user\":\"builder-from-env\""), std::string::npos) << finished.out;
  EXPECT_NE(finished.out.find("\"uid\":" + std::to_string(::getuid())), std::string::npos)
      << finished.out;
}

} // namespace
} // namespace buildlock::test

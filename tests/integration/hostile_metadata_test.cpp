// Hostile lock file content (issue 8): 100 MB (sparse), binary bytes, JSON nested 30,000 levels
// deep, and metadata whose text fields hold newlines and terminal escape sequences. Content that
// is not usable metadata is never a crash, a hang or a reason to steal: the lock is judged by its
// kernel lock and its age like any lock without metadata (docs/protocol.md, scenario 7), and
// every message names the problem on one line. Nothing outside the lock directory changes.
#include "hostile_test_support.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

namespace buildlock::test {
namespace {

using std::chrono::hours;

struct HostileContent {
  std::string label;
  std::string problem; // how buildlock describes it: "metadata <problem>"
};

void PrintTo(const HostileContent& value, std::ostream* out) {
  *out << value.label;
}

// Every byte value, in an order that puts NUL, newlines and ESC between others, 16 times over.
std::string binary_bytes() {
  std::string bytes;
  for (int round = 0; round < 16; ++round) {
    for (int i = 0; i < 256; ++i) {
      bytes += static_cast<char>((i * 167 + round * 31) % 256);
    }
  }
  return bytes;
}

class HostileMetadata : public HostileInputTest,
                        public ::testing::WithParamInterface<HostileContent> {
protected:
  // Writes the content named by the parameter as the lock file DIR/<name>.lock.
  void craft(const std::string& name, WallClock::time_point mtime) {
    make_lock_dir();
    const std::string path = lock_path(name);
    const std::string& label = GetParam().label;
    if (label == "HundredMegabytes") {
      // Valid metadata of a dead holder at the start, then holes up to 100 MiB: buildlock must
      // refuse it by its size, not parse (or read) 100 MB.
      write_file(path, to_json(dead_holder()));
      ASSERT_EQ(::truncate(path.c_str(), off_t{100} * 1024 * 1024), 0);
    } else if (label == "Binary") {
      write_file(path, binary_bytes());
    } else if (label == "DeeplyNestedJson") {
      write_file(path, std::string(30000, '[') + std::string(30000, ']') + "\n");
    } else if (label == "DeeplyNestedInsideValidMetadata") {
      std::string json_text = to_json(dead_holder());
      json_text.insert(json_text.rfind('}'),
                       ",\"extra\":" + std::string(100, '[') + std::string(100, ']'));
      write_file(path, json_text);
    }
    set_mtime(path, mtime);
  }
};

TEST_P(HostileMetadata, RecentLockIsHeldAndEveryMessageNamesTheProblem) {
  const std::string& problem = GetParam().problem;
  craft("L", WallClock::now());
  freeze_outside();
  const TreeRecord lock_dir_before = record_tree(lock_dir, {});

  Pipe ran;
  Command command = run_under_lock("L", scripted({"notify", "3"}), {"--timeout", "0"});
  command.pass_fd(3, ran.write_fd());
  Finished timed_out = run(command);
  ran.close_write();
  EXPECT_EQ(timed_out.status, ExitStatus::exited(75)) << timed_out.err;
  EXPECT_TRUE(is_one_error_line(timed_out.err, "timed out after "));
  EXPECT_NE(timed_out.err.find("an unknown holder (metadata " + problem), std::string::npos)
      << timed_out.err;
  EXPECT_TRUE(ran.ends_without_data(5s)) << "the command ran";

  const json status = status_json({"L"});
  ASSERT_EQ(status.size(), 1u) << status.dump(2);
  EXPECT_EQ(status[0]["state"], "held");
  EXPECT_EQ(status[0]["reason"], "no-metadata-recent");
  EXPECT_TRUE(status[0]["metadata_error"].get<std::string>().starts_with(problem))
      << status[0]["metadata_error"];

  Finished refused = run(manage("break", {"L"}));
  EXPECT_EQ(refused.status, ExitStatus::exited(75)) << refused.err;
  EXPECT_TRUE(is_one_error_line(refused.err, "lock `L` is held by an unknown holder"));

  EXPECT_EQ(json_from(manage("clean", {"--json"})), json::array());
  EXPECT_TRUE(same_tree(lock_dir_before, record_tree(lock_dir, {})));
}

TEST_P(HostileMetadata, OldLockIsReclaimedByRunAndRemovedByClean) {
  const std::string& problem = GetParam().problem;
  craft("L", WallClock::now() - hours(1));
  craft("M", WallClock::now() - hours(1));
  freeze_outside();

  Pipe ran;
  Command command = run_under_lock("L", scripted({"notify", "3"}));
  command.pass_fd(3, ran.write_fd());
  Finished reclaimed = run(command);
  ran.close_write();
  EXPECT_EQ(reclaimed.status, ExitStatus::exited(0)) << reclaimed.err;
  EXPECT_TRUE(ran.receives_byte(5s));
  EXPECT_EQ(lines_of(reclaimed.err).size(), 1u) << reclaimed.err;
  EXPECT_TRUE(reclaimed.err.starts_with("buildlock: reclaimed stale lock `L` of an unknown holder "
                                        "(metadata " +
                                        problem))
      << reclaimed.err;
  EXPECT_NE(reclaimed.err.find("[no-metadata-expired]"), std::string::npos) << reclaimed.err;

  const json cleaned = json_from(manage("clean", {"--json"}));
  ASSERT_EQ(cleaned.size(), 1u) << cleaned.dump(2);
  EXPECT_EQ(cleaned[0]["name"], "M");
  EXPECT_EQ(cleaned[0]["action"], "removed");
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{});
}

INSTANTIATE_TEST_SUITE_P(
    Contents, HostileMetadata,
    ::testing::Values(HostileContent{"HundredMegabytes", "larger than 65536 bytes"},
                      HostileContent{"Binary", "not JSON: "},
                      HostileContent{"DeeplyNestedJson", "JSON nested deeper than 8 levels"},
                      HostileContent{"DeeplyNestedInsideValidMetadata",
                                     "JSON nested deeper than 8 levels"}),
    [](const auto& param) { return param.param.label; });

// Valid metadata is written by other users and hosts too. Its text fields reach the user's
// terminal in run's notices and errors, break's warning and the tables of status and clean: a
// newline must not forge a second `buildlock:` line or table row, an escape sequence must not
// reach the terminal. `status --json` keeps the text exactly, escaped as JSON.
class HostileMetadataText : public HostileInputTest {
protected:
  static HolderMetadata hostile_holder() {
    HolderMetadata holder = dead_holder();
    holder.host = "evil\nbuildlock: error: forged\x1b]0;title\x07\x1b[2J";
    holder.user = "user\r\x1b[31m";
    holder.command = {"make\n", "\x1b[1A\x1b[K",
                      "\xc2\x9b"
                      "2J"};
    return holder;
  }
};

TEST_F(HostileMetadataText, ReclaimNoticeIsOneLineWithoutControlCharacters) {
  craft_lock("L", hostile_holder());
  freeze_outside();
  Finished finished = run(run_under_lock("L", scripted({})));
  EXPECT_EQ(finished.status, ExitStatus::exited(0)) << finished.err;
  EXPECT_EQ(lines_of(finished.err).size(), 1u) << finished.err;
  EXPECT_TRUE(finished.err.starts_with("buildlock: reclaimed stale lock `L` of pid "))
      << finished.err;
  EXPECT_TRUE(free_of_control_characters(finished.err)) << finished.err;
  EXPECT_EQ(finished.err.find("\xc2\x9b"), std::string::npos) << "a C1 control got through";
}

TEST_F(HostileMetadataText, TimeoutErrorAndBreakWarningAreOneLineEach) {
  craft_lock("L", hostile_holder());
  // The test holds the lock file's kernel lock itself, as a live holder would.
  const int fd = ::open(lock_path("L").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  freeze_outside();

  Finished timed_out = run(run_under_lock("L", scripted({}), {"--timeout", "0"}));
  EXPECT_EQ(timed_out.status, ExitStatus::exited(75)) << timed_out.err;
  EXPECT_TRUE(is_one_error_line(timed_out.err, "timed out after ")) << timed_out.err;

  Finished refused = run(manage("break", {"L"}));
  EXPECT_EQ(refused.status, ExitStatus::exited(75)) << refused.err;
  EXPECT_TRUE(is_one_error_line(refused.err, "lock `L` is held by pid ")) << refused.err;

  Finished broken = run(manage("break", {"--force", "L"}));
  EXPECT_EQ(broken.status, ExitStatus::exited(0)) << broken.err;
  EXPECT_EQ(lines_of(broken.err).size(), 1u) << broken.err;
  EXPECT_TRUE(broken.err.starts_with("buildlock: warning: broke lock `L` held by pid "))
      << broken.err;
  EXPECT_TRUE(free_of_control_characters(broken.err)) << broken.err;
  EXPECT_EQ(directory_entries(lock_dir), std::vector<std::string>{});
  ::close(fd);
}

TEST_F(HostileMetadataText, StatusTableHasOneRowPerLockWithoutControlCharacters) {
  craft_lock("L", hostile_holder());
  craft_lock("M", dead_holder());
  freeze_outside();
  for (const char* subcommand : {"status", "clean"}) {
    Finished finished = run(manage(subcommand, subcommand == std::string("clean")
                                                   ? std::vector<std::string>{"--dry-run"}
                                                   : std::vector<std::string>{}));
    EXPECT_EQ(finished.status, ExitStatus::exited(0)) << finished.err;
    EXPECT_EQ(lines_of(finished.out).size(), 3u) << subcommand << ":\n" << finished.out;
    EXPECT_TRUE(free_of_control_characters(finished.out)) << subcommand << ":\n" << finished.out;
    EXPECT_NE(finished.out.find("evil?buildlock: error: forged?]0;title??[2J"), std::string::npos)
        << subcommand << ":\n"
        << finished.out;
  }
}

TEST_F(HostileMetadataText, StatusJsonKeepsTheTextExactly) {
  const HolderMetadata holder = hostile_holder();
  craft_lock("L", holder);
  freeze_outside();
  const json status = status_json({"L"});
  ASSERT_EQ(status.size(), 1u) << status.dump(2);
  EXPECT_EQ(status[0]["host"], holder.host);
  EXPECT_EQ(status[0]["user"], holder.user);
  EXPECT_EQ(status[0]["command"], json(holder.command));
}

} // namespace
} // namespace buildlock::test

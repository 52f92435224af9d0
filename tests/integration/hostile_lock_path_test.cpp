// Hostile entries at the lock path (issue 8): `L.lock` is a symbolic link to a stale-looking lock
// file outside the lock directory, a symbolic link to a directory outside, a socket, or a
// directory holding a lock file of its own. Every subcommand leaves it exactly as it is: `run`
// and `break` refuse with exit 74 and one line naming what it is, `status` lists it as
// `invalid`, `clean` keeps it; nothing is followed, opened, locked or removed, inside the lock
// directory or outside it. (run_lock_path_test.cpp and the manage_* tests cover a symbolic link
// to a plain file, a dangling link, a FIFO and a directory for some subcommands.)
#include "hostile_test_support.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

namespace buildlock::test {
namespace {

struct HostileEntry {
  std::string label;
  std::string kind; // as buildlock names it: "a symbolic link", ...
};

void PrintTo(const HostileEntry& value, std::ostream* out) {
  *out << value.label;
}

class HostileLockPath : public HostileInputTest,
                        public ::testing::WithParamInterface<HostileEntry> {
protected:
  // Puts the entry named by the parameter at DIR/L.lock; what it points to lies outside.
  void plant() {
    make_lock_dir();
    const std::string& label = GetParam().label;
    if (label == "SymlinkToAStaleLockOutside") {
      // A dead holder's lock file: `run` would reclaim it, `clean` remove it, if they followed.
      const std::string target = temp / "outside.lock";
      write_lock_file(target, to_json(dead_holder()), WallClock::now() - std::chrono::hours(1));
      ASSERT_EQ(::chmod(target.c_str(), 0600), 0);
      ASSERT_EQ(::symlink(target.c_str(), lock_path("L").c_str()), 0);
    } else if (label == "SymlinkToADirectoryOutside") {
      const std::string target = temp / "outside-dir";
      ASSERT_EQ(::mkdir(target.c_str(), 0755), 0);
      write_lock_file(target + "/L.lock", to_json(dead_holder()));
      ASSERT_EQ(::symlink(target.c_str(), lock_path("L").c_str()), 0);
    } else if (label == "Socket") {
      ASSERT_EQ(::mknod(lock_path("L").c_str(), S_IFSOCK | 0644, 0), 0);
    } else if (label == "DirectoryHoldingALockFile") {
      ASSERT_EQ(::mkdir(lock_path("L").c_str(), 0755), 0);
      write_lock_file(lock_path("L") + "/L.lock", to_json(dead_holder()));
    }
  }
};

TEST_P(HostileLockPath, EverySubcommandLeavesItAndWhatItPointsToAlone) {
  const std::string& kind = GetParam().kind;
  plant();
  freeze_outside();
  const TreeRecord lock_dir_before = record_tree(lock_dir, {});

  Pipe ran;
  Command run_command = run_under_lock("L", scripted({"notify", "3"}));
  run_command.pass_fd(3, ran.write_fd());
  Finished refused = run(run_command);
  ran.close_write();
  EXPECT_EQ(refused.status, ExitStatus::exited(74)) << refused.err;
  EXPECT_TRUE(is_one_error_line(refused.err, "`" + lock_path("L") + "` is " + kind +
                                                 ", not a lock file; buildlock will not touch it"));
  EXPECT_TRUE(ran.ends_without_data(5s)) << "the command ran";

  const json status = status_json({"L"});
  ASSERT_EQ(status.size(), 1u) << status.dump(2);
  EXPECT_EQ(status[0]["state"], "invalid");
  EXPECT_EQ(status[0]["reason"], "not-a-regular-file");
  EXPECT_NE(status[0]["explanation"].get<std::string>().find(kind), std::string::npos)
      << status[0]["explanation"];

  for (const std::vector<std::string>& arguments :
       {std::vector<std::string>{"L"}, std::vector<std::string>{"--force", "L"}}) {
    Finished broken = run(manage("break", arguments));
    EXPECT_EQ(broken.status, ExitStatus::exited(74)) << broken.err;
    EXPECT_TRUE(is_one_error_line(broken.err, "cannot break lock `L`: "));
  }

  EXPECT_EQ(json_from(manage("clean", {"--json"})), json::array());

  EXPECT_TRUE(same_tree(lock_dir_before, record_tree(lock_dir, {})))
      << "the entry or something below it changed";
}

INSTANTIATE_TEST_SUITE_P(
    Entries, HostileLockPath,
    ::testing::Values(HostileEntry{"SymlinkToAStaleLockOutside", "a symbolic link"},
                      HostileEntry{"SymlinkToADirectoryOutside", "a symbolic link"},
                      HostileEntry{"Socket", "a socket"},
                      HostileEntry{"DirectoryHoldingALockFile", "a directory"}),
    [](const auto& param) { return param.param.label; });

} // namespace
} // namespace buildlock::test

// Groups whose members are different users (issue 13, findings 5 and 8). Only the creator of a
// group's anchor may refresh it (umask 022) and, in a sticky directory, remove it: the group is
// judged by its members' own files, and an anchor its last member could not remove is taken over
// by the next run instead of stopping everyone with exit 74.
//
// The two users are uids 65533 and 65534 through setpriv(1), which needs root (CI runs the suite
// as root); the binaries they run are copied to a directory they can reach, since the build tree
// may be inside a private (0700) directory.
#include "support/integration_test.h"
#include "support/lock_files.h"
#include "support/skip_or_fail.h"
#include "support/waiting.h"

#include <filesystem>
#include <gtest/gtest.h>
#include <iostream>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace buildlock::test {
namespace {

constexpr uid_t first_user = 65533;
constexpr uid_t second_user = 65534;

class RunGroupUsers : public IntegrationTest {
protected:
  void SetUp() override {
    if (const std::string why = why_not_root("acting as two other users (setpriv)"); !why.empty()) {
      SKIP_OR_FAIL_IN_CI(why);
    }
    char pattern[] = "/tmp/buildlock-users-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    reachable_ = pattern;
    ASSERT_EQ(::chmod(reachable_.c_str(), 0755), 0);
    for (const std::string& binary : {buildlock_binary(), scripted_command_binary()}) {
      const std::string copy = reachable_ + "/" + std::filesystem::path(binary).filename().string();
      std::filesystem::copy_file(binary, copy);
      ASSERT_EQ(::chmod(copy.c_str(), 0755), 0);
    }
    sticky_ = reachable_ + "/locks";
    ASSERT_EQ(::mkdir(sticky_.c_str(), 0755), 0);
    ASSERT_EQ(::chmod(sticky_.c_str(), 01777), 0); // like /tmp
  }

  void TearDown() override {
    if (!reachable_.empty() && !HasFailure()) {
      std::filesystem::remove_all(reachable_);
    } else if (!reachable_.empty()) {
      std::cerr << "kept " << reachable_ << "\n";
    }
  }

  // `buildlock run --dir <sticky> OPTIONS... L -- COMMAND...` as `uid`, with umask 022.
  Command run_as(uid_t uid, std::vector<std::string> options,
                 const std::vector<std::string>& command) const {
    std::vector<std::string> argv = {"setpriv",
                                     "--reuid=" + std::to_string(uid),
                                     "--regid=" + std::to_string(uid),
                                     "--clear-groups",
                                     "--",
                                     "sh",
                                     "-c",
                                     R"(umask 022 && exec "$@")",
                                     "sh",
                                     reachable_ + "/buildlock",
                                     "run",
                                     "--dir",
                                     sticky_};
    argv.insert(argv.end(), options.begin(), options.end());
    argv.emplace_back("L");
    argv.emplace_back("--");
    argv.insert(argv.end(), command.begin(), command.end());
    return program(argv);
  }

  std::unique_ptr<Holding> hold_as(uid_t uid, std::vector<std::string> options) const {
    auto holding = std::make_unique<Holding>();
    holding->process.emplace(run_as(uid, std::move(options),
                                    {reachable_ + "/scripted_command", "notify", "3", "wait", "4"})
                                 .pass_fd(3, holding->started.write_fd())
                                 .pass_fd(4, holding->release.read_fd())
                                 .start());
    holding->started.close_write();
    holding->release.close_read();
    if (!holding->started.receives_byte(10s)) {
      ADD_FAILURE() << "the holder's command did not start: " << holding->process->stderr_text();
      return nullptr; // letting go of it would write to a pipe nobody reads
    }
    return holding;
  }

  static void end(Holding& holding) {
    holding.let_go();
    EXPECT_EQ(holding.process->wait(10s), ExitStatus::exited(0)) << holding.process->stderr_text();
  }

  std::string anchor() const { return sticky_ + "/L.lock"; }

  std::string reachable_;
  std::string sticky_;
};

// The group's last member is not the anchor's creator: it cannot remove the anchor in a sticky
// directory. Whoever comes next takes it over (holding its kernel lock) instead of exit 74, and
// that hold is respected like any other, even by the anchor's owner.
TEST_F(RunGroupUsers, AnchorTheLastMemberCouldNotRemoveIsTakenOverByTheNextRun) {
  auto creator = hold_as(first_user, {"--shared"});
  auto member = hold_as(second_user, {"--shared"});
  ASSERT_TRUE(creator && member);
  end(*creator);
  end(*member);
  ASSERT_TRUE(exists_no_follow(anchor())) << "the sticky bit kept the anchor";

  auto adopter = hold_as(second_user, {"--timeout", "5"});
  ASSERT_TRUE(adopter);
  for (const std::vector<std::string>& options :
       {std::vector<std::string>{"--timeout", "0"},
        std::vector<std::string>{"--shared", "--timeout", "0"}}) {
    Finished refused = run(run_as(first_user, options, {"true"}));
    EXPECT_EQ(refused.status, ExitStatus::exited(75)) << refused.err;
  }
  end(*adopter);

  Finished joined = run(run_as(second_user, {"--shared", "--timeout", "5"}, {"true"}));
  EXPECT_EQ(joined.status, ExitStatus::exited(0)) << joined.err;
  // Its owner removes it as usual.
  Finished owner = run(run_as(first_user, {"--timeout", "5"}, {"true"}));
  EXPECT_EQ(owner.status, ExitStatus::exited(0)) << owner.err;
  EXPECT_EQ(directory_entries(sticky_), std::vector<std::string>{}) << "leftovers";
}

// A member that did not create the anchor cannot refresh it (0644): it refreshes its own file,
// which is what the group is judged by, and says nothing about the anchor.
TEST_F(RunGroupUsers, MemberThatDoesNotOwnTheAnchorRefreshesItsOwnFileQuietly) {
  auto creator = hold_as(first_user, {"--shared", "--stale-after", "1"});
  auto member = hold_as(second_user, {"--shared", "--stale-after", "1"});
  ASSERT_TRUE(creator && member);
  end(*creator);
  std::string own;
  for (const std::string& entry : directory_entries(sticky_)) {
    if (entry.rfind("L.lock+shared.", 0) == 0) {
      own = sticky_ + "/" + entry;
    }
  }
  ASSERT_FALSE(own.empty()) << "the member's holder file";
  const auto before = mtime_of(own);
  const auto deadline = Clock::now() + 10s;
  while (mtime_of(own) == before && Clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_NE(mtime_of(own), before) << "the member's own file was never refreshed";
  end(*member);
  EXPECT_EQ(member->process->stderr_text().find("cannot refresh"), std::string::npos)
      << member->process->stderr_text();
}

// What another host sees of such a group, crafted: the anchor was last refreshed long ago (its
// creator left), a member's own file is fresh. The group is alive: an exclusive run waits, a
// shared run joins it, and nobody reclaims the anchor.
using RunGroupOfAnotherHost = IntegrationTest;

TEST_F(RunGroupOfAnotherHost, AnchorIsJudgedByItsMembersOwnFiles) {
  make_lock_dir();
  HolderMetadata elsewhere = as_shared(metadata_for_local_process(::getpid()));
  elsewhere.boot_id = other_boot_id();
  elsewhere.host = "elsewhere";
  elsewhere.pid = 4242;
  write_lock_file(lock_path("L"), to_json(elsewhere) + "\n", WallClock::now() - 1h);
  const std::string member = lock_dir + "/L.lock+shared.0123456789abcdef";
  write_lock_file(member, to_json(elsewhere) + "\n");
  struct stat original {};
  ASSERT_EQ(::stat(lock_path("L").c_str(), &original), 0);

  Finished writer =
      run(run_under_lock("L", {"true"}, {"--stale-after", "30", "--timeout", "0", "--verbose"}));
  EXPECT_EQ(writer.status, ExitStatus::exited(75)) << writer.err;
  EXPECT_NE(writer.err.find("[members-alive]"), std::string::npos) << writer.err;
  Finished reader =
      run(run_under_lock("L", {"true"}, {"--shared", "--stale-after", "30", "--timeout", "0"}));
  EXPECT_EQ(reader.status, ExitStatus::exited(0)) << reader.err;

  struct stat now {};
  ASSERT_EQ(::stat(lock_path("L").c_str(), &now), 0) << "the anchor was reclaimed";
  EXPECT_EQ(now.st_ino, original.st_ino) << "the anchor was replaced";
  EXPECT_TRUE(exists_no_follow(member));
}

} // namespace
} // namespace buildlock::test

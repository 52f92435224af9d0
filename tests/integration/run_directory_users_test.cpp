// Two users sharing a lock directory as docs/cli.md recommends it (a 2770 group directory, umask
// 022) on a kernel with fs.protected_hardlinks=1, the distribution default (issue 20, findings 2
// and 5), and a sticky /tmp-like one.
//
// A claim is a hard link, and protected_hardlinks refuses a link to another user's file that the
// linker may not both read and write: with umask 022 every lock file was 0644, so no other member
// of the group could ever reclaim a dead holder's lock that only a claim may remove (no kernel
// locks, another host's lock, a group's anchor), and `clean` could not either: exit 74 forever.
// Files now get the directory's group write access, and a file an older buildlock made 0644 is
// claimed by a claim file instead (docs/protocol.md, "Claims and protected hard links").
//
// The users are uids made up for this test process (setpriv(1), which needs root), members of one
// made-up group: nothing is added to /etc/passwd, and parallel runs of these tests do not share
// ids. The binaries they run are copies every user can reach (support/another_user.h).
#include "support/another_user.h"
#include "support/integration_test.h"
#include "support/lock_files.h"
#include "support/waiting.h"

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <gtest/gtest.h>
#include <iostream>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace buildlock::test {
namespace {

class RunDirectoryUsers : public IntegrationTest {
protected:
  void SetUp() override {
    std::string missing;
    if (::geteuid() != 0) {
      missing = "root, to act as two users through setpriv";
    } else if (read_file("/proc/sys/fs/protected_hardlinks") != "1\n") {
      missing = "fs.protected_hardlinks = 1 (sysctl), the setting these cases are about";
    }
    if (!missing.empty()) {
      const char* ci = std::getenv("CI");
      if (ci != nullptr && std::string(ci) == "true") {
        FAIL() << "cannot run: needs " << missing;
      }
      GTEST_SKIP() << "needs " << missing;
    }
    // Ids of our own, far above any real account, different for every test process.
    const unsigned base = 3'000'000 + static_cast<unsigned>(::getpid() % 100'000) * 4;
    first_user_ = base;
    second_user_ = base + 1;
    group_ = base;
    char pattern[] = "/tmp/buildlock-directory-users-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    reachable_ = pattern;
    ASSERT_EQ(::chmod(reachable_.c_str(), 0755), 0);
    directory_ = reachable_ + "/locks";
  }

  void TearDown() override {
    if (reachable_.empty()) {
      return;
    }
    if (HasFailure()) {
      std::cerr << "kept " << reachable_ << "\n";
      return;
    }
    std::filesystem::remove_all(reachable_);
  }

  // The lock directory, owned by root and the users' group, with `mode` (2770: the documented
  // group directory; 1777: like /tmp).
  void make_directory(mode_t mode) const {
    ASSERT_EQ(::mkdir(directory_.c_str(), 0700), 0);
    ASSERT_EQ(::chown(directory_.c_str(), 0, group_), 0);
    ASSERT_EQ(::chmod(directory_.c_str(), mode), 0);
  }

  // `buildlock ARGUMENTS...` as `uid` (in the group) with `umask`.
  Command as_user(uid_t uid, const std::string& umask, std::vector<std::string> arguments) const {
    std::vector<std::string> argv = {"setpriv",
                                     "--reuid=" + std::to_string(uid),
                                     "--regid=" + std::to_string(group_),
                                     "--groups=" + std::to_string(group_),
                                     "--",
                                     "sh",
                                     "-c",
                                     "umask " + umask + R"( && exec "$@")",
                                     "sh",
                                     reachable_copy(buildlock_binary())};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    return program(argv);
  }

  // `buildlock run --dir D OPTIONS... L -- COMMAND...` as `uid`.
  Command run_as(uid_t uid, std::vector<std::string> options,
                 const std::vector<std::string>& command, const std::string& umask = "022") const {
    std::vector<std::string> arguments = {"run", "--dir", directory_};
    arguments.insert(arguments.end(), options.begin(), options.end());
    arguments.emplace_back("L");
    arguments.emplace_back("--");
    arguments.insert(arguments.end(), command.begin(), command.end());
    return as_user(uid, umask, arguments);
  }

  std::unique_ptr<Holding> hold_as(uid_t uid, std::vector<std::string> options,
                                   const std::string& umask = "022") const {
    auto holding = std::make_unique<Holding>();
    holding->process.emplace(
        run_as(uid, std::move(options),
               {reachable_copy(scripted_command_binary()), "notify", "3", "wait", "4"}, umask)
            .pass_fd(3, holding->started.write_fd())
            .pass_fd(4, holding->release.read_fd())
            .start());
    holding->started.close_write();
    holding->release.close_read();
    if (!holding->started.receives_byte(10s)) {
      ADD_FAILURE() << "the holder's command did not start: " << holding->process->stderr_text();
      return nullptr;
    }
    return holding;
  }

  static void end(Holding& holding) {
    holding.let_go();
    EXPECT_EQ(holding.process->wait(10s), ExitStatus::exited(0)) << holding.process->stderr_text();
  }

  // A holder without kernel locks whose buildlock and command are both gone: what `kill -9` of
  // the whole job leaves. Its lock file stays, and only a claim may remove it.
  std::unique_ptr<Holding> orphan_of(uid_t uid) const {
    auto holding = hold_as(uid, {"--kernel-locks", "off"});
    if (!holding) {
      return nullptr;
    }
    make_orphan(*holding, uid);
    return holding;
  }

  // Kills the buildlock of `holding`, a run of `uid` without kernel locks, and ends its command.
  // `bystander`: a process of `uid` that is not the holder's, left running.
  static void make_orphan(Holding& holding_ref, uid_t uid, pid_t bystander = 0) {
    Holding* holding = &holding_ref;
    holding->process->send_signal(SIGKILL); // buildlock (setpriv and sh exec'ed it)
    EXPECT_EQ(holding->process->wait(10s), ExitStatus::killed_by(SIGKILL));
    holding->let_go(); // its command, which keeps the lock while it runs
    EXPECT_TRUE(holding->started.ends_without_data(10s)) << "the command did not end";
    // Until it is reaped, an observer of another user cannot tell that it ended (it cannot read
    // its environment): wait until no process of that user is left.
    const auto deadline = Clock::now() + 10s;
    while (has_process_of(uid, bystander) && Clock::now() < deadline) {
      std::this_thread::sleep_for(10ms);
    }
    EXPECT_FALSE(has_process_of(uid, bystander)) << "the command was not reaped";
  }

  static bool has_process_of(uid_t uid, pid_t except = 0) {
    for (const std::string& entry : directory_entries("/proc")) {
      struct stat info {};
      if (entry.find_first_not_of("0123456789") == std::string::npos &&
          entry != std::to_string(except) && ::stat(("/proc/" + entry).c_str(), &info) == 0 &&
          info.st_uid == uid) {
        return true;
      }
    }
    return false;
  }

  mode_t mode_of(const std::string& path) const {
    struct stat info {};
    EXPECT_EQ(::lstat(path.c_str(), &info), 0) << path;
    return info.st_mode & 07777;
  }

  std::string lock() const { return directory_ + "/L.lock"; }

  uid_t first_user_ = 0;
  uid_t second_user_ = 0;
  gid_t group_ = 0;
  std::string reachable_;
  std::string directory_;
};

// The documented group directory: the lock file is made writable for the group, so that the next
// member of the group can claim it and reclaim it when its holder is dead.
TEST_F(RunDirectoryUsers, GroupMemberReclaimsADeadHolderWithoutKernelLocksOfAnotherUser) {
  make_directory(02770);
  auto orphan = orphan_of(first_user_);
  ASSERT_TRUE(orphan);
  EXPECT_EQ(mode_of(lock()) & 0060u, 0060u) << "the group may claim it";
  Finished next = run(run_as(second_user_, {"--kernel-locks", "off", "--timeout", "10"}, {"true"}));
  EXPECT_EQ(next.status, ExitStatus::exited(0)) << next.err;
  EXPECT_NE(next.err.find("reclaimed stale lock"), std::string::npos) << next.err;
  EXPECT_EQ(directory_entries(directory_), std::vector<std::string>{}) << "leftovers";
}

// A lock file made by an older buildlock (0644 with umask 022) cannot be linked by anyone but its
// owner: it is claimed by a claim file instead, by `run` and by `clean`.
TEST_F(RunDirectoryUsers, LockFileAnOlderVersionMadeIsReclaimedWithAClaimFile) {
  make_directory(02770);
  auto orphan = orphan_of(first_user_);
  ASSERT_TRUE(orphan);
  ASSERT_EQ(::chmod(lock().c_str(), 0644), 0);
  Finished next = run(run_as(second_user_, {"--kernel-locks", "off", "--timeout", "10"}, {"true"}));
  EXPECT_EQ(next.status, ExitStatus::exited(0)) << next.err;
  EXPECT_NE(next.err.find("reclaimed stale lock"), std::string::npos) << next.err;
  EXPECT_EQ(directory_entries(directory_), std::vector<std::string>{}) << "leftovers";
}

TEST_F(RunDirectoryUsers, CleanRemovesAnOrphanAnOlderVersionMadeOfAnotherUser) {
  make_directory(02770);
  auto orphan = orphan_of(first_user_);
  ASSERT_TRUE(orphan);
  ASSERT_EQ(::chmod(lock().c_str(), 0644), 0);
  Finished clean =
      run(as_user(second_user_, "022", {"clean", "--dir", directory_, "--kernel-locks", "off"}));
  EXPECT_EQ(clean.status, ExitStatus::exited(0)) << clean.err;
  EXPECT_EQ(directory_entries(directory_), std::vector<std::string>{}) << "leftovers";
}

// A group without kernel locks whose last member did not create the anchor: it removes the
// anchor (claimed like any file) instead of leaving one that nobody else could ever remove.
TEST_F(RunDirectoryUsers, GroupWithoutKernelLocksEndsWithALastMemberOfAnotherUser) {
  make_directory(02770);
  auto creator = hold_as(first_user_, {"--shared", "--kernel-locks", "off"});
  auto member = hold_as(second_user_, {"--shared", "--kernel-locks", "off"});
  ASSERT_TRUE(creator && member);
  end(*creator);
  end(*member);
  EXPECT_EQ(directory_entries(directory_), std::vector<std::string>{}) << "the anchor stayed";
  Finished next = run(run_as(first_user_, {"--kernel-locks", "off", "--timeout", "10"}, {"true"}));
  EXPECT_EQ(next.status, ExitStatus::exited(0)) << next.err;
}

// A sticky directory (1777, like /tmp): nobody may remove another user's file, so a dead holder's
// lock waits for its owner (or root). Its files get no extra access; another user's run says
// which file it cannot remove (exit 74), leaves no claim behind, and the owner's next run
// reclaims it (docs/protocol.md, scenario 15).
TEST_F(RunDirectoryUsers, StickyDirectoryLeavesAnotherUsersOrphanToItsOwner) {
  make_directory(01777);
  auto orphan = orphan_of(first_user_);
  ASSERT_TRUE(orphan);
  EXPECT_EQ(mode_of(lock()), 0644u);
  Finished other =
      run(run_as(second_user_, {"--kernel-locks", "off", "--timeout", "10"}, {"true"}));
  EXPECT_EQ(other.status, ExitStatus::exited(74)) << other.err;
  EXPECT_NE(other.err.find(lock()), std::string::npos) << other.err;
  EXPECT_EQ(directory_entries(directory_), std::vector<std::string>{"L.lock"}) << "a claim stayed";
  Finished owner = run(run_as(first_user_, {"--kernel-locks", "off", "--timeout", "10"}, {"true"}));
  EXPECT_EQ(owner.status, ExitStatus::exited(0)) << owner.err;
  EXPECT_EQ(directory_entries(directory_), std::vector<std::string>{}) << "leftovers";
}

// Finding 5: a member's holder file that another user may not read (umask 077) cannot be judged,
// so it counts as alive: the group does not end under it, and no exclusive run gets in.
TEST_F(RunDirectoryUsers, MemberFileOthersCannotReadCountsAsAlive) {
  make_directory(01777);
  auto creator = hold_as(first_user_, {"--shared", "--kernel-locks", "off"});
  auto unreadable = hold_as(second_user_, {"--shared", "--kernel-locks", "off"}, "077");
  ASSERT_TRUE(creator && unreadable);
  int unreadable_files = 0;
  for (const std::string& entry : directory_entries(directory_)) {
    if (entry.rfind("L.lock+shared.", 0) == 0 && mode_of(directory_ + "/" + entry) == 0600u) {
      ++unreadable_files;
    }
  }
  ASSERT_EQ(unreadable_files, 1) << "the second member's own file, readable by its user alone";
  end(*creator);
  Finished exclusive =
      run(run_as(first_user_, {"--kernel-locks", "off", "--timeout", "0"}, {"true"}));
  EXPECT_EQ(exclusive.status, ExitStatus::exited(75))
      << "an exclusive run got in beside a member it could not read: " << exclusive.err;
  end(*unreadable);
  Finished after = run(run_as(first_user_, {"--kernel-locks", "off", "--timeout", "10"}, {"true"}));
  EXPECT_EQ(after.status, ExitStatus::exited(0)) << after.err;
  EXPECT_EQ(directory_entries(directory_), std::vector<std::string>{}) << "leftovers";
}

// One user's turn (docs/protocol.md, "The turn") does not stop the other user from reclaiming
// what only it can judge. The second user's run waits behind the first user's holder without
// kernel locks and takes its turn; the holder is killed, command and all. The second user cannot
// tell that the command ended (it may not read the first user's processes, and one is left) and
// would wait out the heartbeat (120 s); the first user's next run can, and reclaims the lock
// although it defers to the turn. Before, runs that deferred to a turn never looked at the lock:
// the large two-user chaos run waited out 248 heartbeats that way.
TEST_F(RunDirectoryUsers, RunDeferringToAnotherUsersTurnStillReclaimsWhatOnlyItCanJudge) {
  make_directory(02770);
  // A process of the first user that has nothing to do with the lock (a shell, an editor): the
  // second user cannot read it, so it cannot rule out that a dead wrapper's command lives on.
  // (With no process of that user at all, it can: nothing could carry the lock.)
  Process bystander = program({"setpriv", "--reuid=" + std::to_string(first_user_),
                               "--regid=" + std::to_string(group_),
                               "--groups=" + std::to_string(group_), "--", "sleep", "600"})
                          .start();
  auto holder = hold_as(first_user_, {"--kernel-locks", "off"});
  ASSERT_TRUE(holder);
  Process turn =
      run_as(second_user_, {"--kernel-locks", "off", "--verbose", "--timeout", "30"}, {"true"})
          .start();
  ASSERT_TRUE(file_eventually_contains(turn.stderr_path(), "taking its turn", 20s));
  const std::size_t looks = looks_at_held_lock(turn.stderr_text());
  ASSERT_TRUE(file_eventually_contains(turn.stderr_path(), " is held by ", 20s, looks + 1));
  ASSERT_TRUE(exists_no_follow(lock() + "+writer")) << turn.stderr_text();
  make_orphan(*holder, first_user_, bystander.pid());

  Finished deferring =
      run(run_as(first_user_, {"--kernel-locks", "off", "--timeout", "30"}, {"true"}), 40s);
  EXPECT_EQ(deferring.status, ExitStatus::exited(0)) << deferring.err;
  EXPECT_NE(deferring.err.find("reclaimed stale lock"), std::string::npos) << deferring.err;
  EXPECT_EQ(turn.wait(40s), ExitStatus::exited(0)) << "the turn's run waited for the heartbeat:\n"
                                                   << turn.stderr_text();
  EXPECT_NE(turn.stderr_text().find("what its command started cannot be checked"),
            std::string::npos)
      << "the second user could judge the holder itself:\n"
      << turn.stderr_text();
  bystander.send_signal(SIGKILL);
  EXPECT_EQ(bystander.wait(10s), ExitStatus::killed_by(SIGKILL));
  EXPECT_EQ(directory_entries(directory_), std::vector<std::string>{}) << "leftovers";
}

} // namespace
} // namespace buildlock::test

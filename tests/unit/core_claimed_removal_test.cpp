// Removing a lock file without a kernel lock to remove it under (core/claimed_removal.h): never
// displacing a lock that was not judged (issue 13, finding 4).
//
// The interleaving that broke the old "rename aside, recognise, put back" removal is forced here
// rather than hoped for: this test program interposes link(), rename() and unlink(), and while a
// removal runs, after every one of those calls, an intruder tries to link its own complete lock
// file to the lock's name, as a newcomer could at that instant. A removal that empties a name it
// should not have touched lets the intruder in, and the lock that was there is displaced. That is
// why these cases are a program of their own (buildlock_interleaving_tests): the interposed calls
// pass straight through unless a case arms the intruder.
#include "core/claimed_removal.h"
#include "core/group_end.h"
#include "core/lock_name.h"
#include "core/probe.h"
#include "os/process_identity.h"
#include "test_directory.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <string_view>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace buildlock;
using namespace buildlock::core;

namespace {

// The newcomer: while armed, tries to link `file` to `name` after every interposed call.
struct Intruder {
  std::string file;
  std::string name;
  bool armed = false;
  int attempts = 0;
  bool got_in = false;
};
Intruder intruder;

// As Linux's fs.protected_hardlinks does for another user's file we may not write: every link()
// to a claim fails with EPERM, and the removal claims with a claim file instead.
bool refuse_claim_links = false;

void after_directory_call() {
  if (!intruder.armed) {
    return;
  }
  ++intruder.attempts;
  if (::syscall(SYS_linkat, AT_FDCWD, intruder.file.c_str(), AT_FDCWD, intruder.name.c_str(), 0) ==
      0) {
    intruder.got_in = true;
    intruder.armed = false; // it holds the lock now; one is enough
  }
}

} // namespace

// The interposed calls: the real system call, then the intruder's chance.
extern "C" int link(const char* from, const char* to) noexcept {
  if (refuse_claim_links && std::string_view(to).ends_with(".claim")) {
    errno = EPERM;
    return -1;
  }
  const long result = ::syscall(SYS_linkat, AT_FDCWD, from, AT_FDCWD, to, 0);
  const int saved = errno;
  after_directory_call();
  errno = saved;
  return static_cast<int>(result);
}

extern "C" int rename(const char* from, const char* to) noexcept {
  const long result = ::syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, 0);
  const int saved = errno;
  after_directory_call();
  errno = saved;
  return static_cast<int>(result);
}

extern "C" int unlink(const char* path) noexcept {
  const long result = ::syscall(SYS_unlinkat, AT_FDCWD, path, 0);
  const int saved = errno;
  after_directory_call();
  errno = saved;
  return static_cast<int>(result);
}

namespace {

constexpr Seconds stale_after{2};
constexpr std::int64_t second_ns = 1'000'000'000;

std::int64_t reaped_pid() {
  const pid_t child = ::fork();
  if (child == 0) {
    ::_exit(0);
  }
  ::waitpid(child, nullptr, 0);
  return child;
}

// A lock that this kernel judges stale without a kernel lock to remove it under: a dead holder of
// this kernel that took no kernel lock, or a holder of another host.
enum class Holder { without_kernel_lock, on_another_host };

LockMetadata stale_holder(Holder holder) {
  const auto& local = os::local_identity();
  LockMetadata metadata;
  metadata.pid = reaped_pid();
  metadata.boot_id = local.boot_id;
  metadata.pid_namespace = local.pid_namespace;
  metadata.host = local.host;
  metadata.kernel_lock = false;
  if (holder == Holder::on_another_host) {
    metadata.kernel_lock = true;
    metadata.boot_id = "another-kernel";
    metadata.host = "another-host";
  }
  return metadata;
}

LockMetadata live_holder() {
  const auto& local = os::local_identity();
  LockMetadata metadata;
  metadata.pid = local.pid;
  metadata.start_time = local.start_time;
  metadata.boot_id = local.boot_id;
  metadata.pid_namespace = local.pid_namespace;
  metadata.host = local.host;
  return metadata;
}

// Creates `path` complete, as a holder does: written aside, then linked into place.
void create_lock_file(const test::TestDirectory& dir, const std::string& path,
                      const LockMetadata& metadata) {
  const std::string temp = dir / ("." + std::to_string(::getpid()) + ".prepare");
  auto fd = os::create_new_file(temp);
  ASSERT_TRUE(fd) << fd.error().message;
  ASSERT_TRUE(os::write_all(*fd, serialize_metadata(metadata)));
  ASSERT_EQ(::link(temp.c_str(), path.c_str()), 0);
  ASSERT_EQ(::unlink(temp.c_str()), 0);
}

os::FileIdentity identity_of(const std::string& path) {
  auto entry = os::lstat_entry(path);
  EXPECT_TRUE(entry && entry->type == os::EntryType::regular) << path;
  return entry ? entry->identity : os::FileIdentity{};
}

LockInspection judged_stale(const std::string& path, Holder holder) {
  auto mtime = os::lstat_entry(path);
  EXPECT_TRUE(mtime);
  const bool kernel_locks = holder == Holder::on_another_host;
  auto inspection = inspect_lock_file(path, current_observer(), stale_after,
                                      mtime->mtime_ns + 10 * second_ns, true, kernel_locks);
  EXPECT_TRUE(inspection) << inspection.error().message;
  EXPECT_EQ(inspection->verdict.state, LockState::stale) << inspection->verdict.explanation;
  EXPECT_FALSE(inspection->kernel_lock_excludes_reclaimers);
  return std::move(*inspection);
}

std::vector<std::string> claims_in(const test::TestDirectory& dir) {
  std::vector<std::string> claims;
  auto names = os::list_directory(dir.path());
  EXPECT_TRUE(names);
  for (const std::string& name : names ? *names : std::vector<std::string>{}) {
    if (name.ends_with(".claim")) {
      claims.push_back(name);
    }
  }
  return claims;
}

void prepare_intruder(const test::TestDirectory& dir, const std::string& name) {
  intruder = Intruder{dir / "intruder", name};
  auto fd = os::create_new_file(intruder.file);
  ASSERT_TRUE(fd);
  ASSERT_TRUE(os::write_all(*fd, serialize_metadata(live_holder())));
}

struct Case {
  std::string file_name;
  Holder holder;
  bool claim_link_refused = false; // claimed with a claim file (protected_hardlinks)
};

void PrintTo(const Case& value, std::ostream* out) {
  *out << value.file_name
       << (value.holder == Holder::on_another_host ? " of another host" : " without kernel lock")
       << (value.claim_link_refused ? ", claim link refused" : "");
}

class ClaimedRemoval : public ::testing::TestWithParam<Case> {
protected:
  void SetUp() override { refuse_claim_links = GetParam().claim_link_refused; }
  void TearDown() override { refuse_claim_links = false; }
};

// B judged L0 stale; meanwhile A removed L0 and created L1. B's late removal must leave L1 where
// it is at every instant: with the intruder trying to get in after each of B's calls, it never
// does, and L1 keeps its name.
TEST_P(ClaimedRemoval, NeverDisplacesALockCreatedAfterTheJudgment) {
  test::TestDirectory dir;
  const std::string path = dir / GetParam().file_name;
  create_lock_file(dir, path, stale_holder(GetParam().holder));
  LockInspection judged_by_b = judged_stale(path, GetParam().holder);

  ASSERT_EQ(::unlink(path.c_str()), 0);       // A reclaims L0...
  create_lock_file(dir, path, live_holder()); // ...and holds L1
  const os::FileIdentity l1 = identity_of(path);

  prepare_intruder(dir, path);
  intruder.armed = true;
  auto removed = remove_inspected(judged_by_b);
  intruder.armed = false;
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_FALSE(*removed);
  EXPECT_GT(intruder.attempts, 0) << "the removal made no directory call at all";
  EXPECT_FALSE(intruder.got_in) << "the name was emptied: L1's holder and the intruder both hold";
  EXPECT_EQ(identity_of(path), l1) << "L1 was displaced";
  EXPECT_EQ(claims_in(dir), std::vector<std::string>{});
}

// What was judged is removed, and its claim with it.
TEST_P(ClaimedRemoval, RemovesTheJudgedFileAndLeavesNoClaim) {
  test::TestDirectory dir;
  const std::string path = dir / GetParam().file_name;
  create_lock_file(dir, path, stale_holder(GetParam().holder));
  LockInspection judged = judged_stale(path, GetParam().holder);
  auto removed = remove_inspected(judged);
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_TRUE(*removed);
  EXPECT_FALSE(os::lstat_entry(path)->type == os::EntryType::regular);
  EXPECT_EQ(claims_in(dir), std::vector<std::string>{});
}

// Two removers judged the same file: only the one that claims it first may remove it. The other
// backs off while the claim is fresh, and drops a claim abandoned for longer than --stale-after
// (a remover killed mid-way), so that its next attempt succeeds.
TEST_P(ClaimedRemoval, ASecondRemoverBacksOffUntilTheClaimIsAbandoned) {
  test::TestDirectory dir;
  const std::string path = dir / GetParam().file_name;
  create_lock_file(dir, path, stale_holder(GetParam().holder));
  LockInspection judged = judged_stale(path, GetParam().holder);
  const std::string claim = claim_path_for(path, judged.entry.identity);
  // The first remover's claim (made past the interposed link(): either kind must stop us).
  ASSERT_EQ(::syscall(SYS_linkat, AT_FDCWD, path.c_str(), AT_FDCWD, claim.c_str(), 0), 0);
  const std::int64_t claimed_at = os::lstat_entry(claim)->ctime_ns;

  judged.judged_at_ns = claimed_at + second_ns; // a claim younger than --stale-after
  auto backed_off = remove_inspected(judged);
  ASSERT_TRUE(backed_off);
  EXPECT_FALSE(*backed_off);
  EXPECT_EQ(identity_of(path), judged.entry.identity);
  EXPECT_EQ(claims_in(dir).size(), 1u) << "a fresh claim was dropped";

  judged.judged_at_ns = claimed_at + 3 * second_ns; // abandoned
  auto dropped = remove_inspected(judged);
  ASSERT_TRUE(dropped);
  EXPECT_FALSE(*dropped);
  EXPECT_EQ(claims_in(dir), std::vector<std::string>{});
  auto removed = remove_inspected(judged);
  ASSERT_TRUE(removed);
  EXPECT_TRUE(*removed);
}

INSTANTIATE_TEST_SUITE_P(Files, ClaimedRemoval,
                         ::testing::Values(Case{"x.lock", Holder::without_kernel_lock},
                                           Case{"x.lock", Holder::on_another_host},
                                           Case{"x.lock+slot.2", Holder::without_kernel_lock},
                                           Case{"x.lock+slot.2", Holder::on_another_host},
                                           Case{"x.lock+shared.0123456789abcdef",
                                                Holder::without_kernel_lock},
                                           Case{"x.lock", Holder::without_kernel_lock, true},
                                           Case{"x.lock", Holder::on_another_host, true},
                                           Case{"x.lock+slot.2", Holder::on_another_host, true}),
                         [](const auto& param) { return "case" + std::to_string(param.index); });

TEST(ClaimedRemoval, ClaimNamesAreHiddenPerFileAndNeverALockName) {
  EXPECT_EQ(claim_path_for("/d/x.lock", os::FileIdentity{1, 0x2a}), "/d/.x.000000000000002a.claim");
  EXPECT_EQ(claim_path_for("/d/x.lock+slot.2", os::FileIdentity{1, 0x2b}),
            "/d/.x.000000000000002b.claim");
  EXPECT_FALSE(lock_name_of_lock_file(".x.000000000000002a.claim"));
  EXPECT_FALSE(lock_name_of_temp_file(".x.000000000000002a.claim"));
  EXPECT_EQ(lock_name_of_claim_file(".x.000000000000002a.claim"), "x");
  EXPECT_FALSE(parse_holder_file_name(".x.000000000000002a.claim"));
}

// A claim left by a remover killed mid-way is a leftover like a temporary file: `clean` judges it
// by its own age (not by the metadata of the file it names) and removes only the claim.
TEST(ClaimedRemoval, LeftOverClaimIsJudgedByItsOwnAgeAndRemovedAlone) {
  test::TestDirectory dir;
  const std::string path = dir / "x.lock";
  create_lock_file(dir, path, stale_holder(Holder::without_kernel_lock));
  const std::string claim = claim_path_for(path, identity_of(path));
  ASSERT_EQ(::link(path.c_str(), claim.c_str()), 0);
  const std::int64_t claimed_at = os::lstat_entry(claim)->ctime_ns;
  for (bool kernel_locks : {true, false}) {
    auto young = inspect_lock_file(claim, current_observer(), stale_after, claimed_at + second_ns,
                                   true, kernel_locks);
    ASSERT_TRUE(young);
    EXPECT_EQ(young->verdict.state, LockState::held) << young->verdict.explanation;
    EXPECT_EQ(young->verdict.reason, "claim-in-use");
  }
  auto old = inspect_lock_file(claim, current_observer(), stale_after, claimed_at + 3 * second_ns,
                               true, false);
  ASSERT_TRUE(old);
  EXPECT_EQ(old->verdict.state, LockState::stale) << old->verdict.explanation;
  EXPECT_EQ(old->verdict.reason, "claim-abandoned");
  auto removed = remove_inspected(*old);
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_TRUE(*removed);
  EXPECT_EQ(claims_in(dir), std::vector<std::string>{});
  EXPECT_TRUE(os::lstat_entry(path)->type == os::EntryType::regular) << "the lock went with it";
}

// --- A group's anchor without kernel locks
// --------------------------------------------------------

GroupCleanup cleanup_of(const test::TestDirectory& dir) {
  return GroupCleanup{dir.path(), "g", stale_after, current_observer(), false};
}

HeldFile our_anchor(const std::string& path) {
  auto fd = os::open_regular_file(path);
  EXPECT_TRUE(fd);
  return HeldFile(std::move(*fd), path, identity_of(path), os::LockType::shared, false);
}

LockMetadata anchor_metadata() {
  LockMetadata metadata = live_holder();
  metadata.mode = LockMode::shared;
  metadata.kernel_lock = false;
  return metadata;
}

// The last member leaving a group without kernel locks removes the anchor only if it is still
// its own: an exclusive lock that replaced it (the anchor was reclaimed as an empty group while
// this member was frozen) is never moved, and never displaced by an intruder.
TEST(ClaimedRemoval, LastMemberNeverRemovesALockThatReplacedItsAnchor) {
  test::TestDirectory dir;
  const std::string path = dir / "g.lock";
  create_lock_file(dir, path, anchor_metadata());
  HeldFile anchor = our_anchor(path);
  ASSERT_EQ(::unlink(path.c_str()), 0);
  create_lock_file(dir, path, live_holder());
  const os::FileIdentity replacement = identity_of(path);

  prepare_intruder(dir, path);
  intruder.armed = true;
  auto removed = remove_group_anchor_if_empty(anchor.path(), anchor.identity(), cleanup_of(dir));
  intruder.armed = false;
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_FALSE(*removed);
  EXPECT_GT(intruder.attempts, 0);
  EXPECT_FALSE(intruder.got_in) << "the name was emptied under the lock that replaced the anchor";
  EXPECT_EQ(identity_of(path), replacement);
  EXPECT_EQ(claims_in(dir), std::vector<std::string>{});
}

TEST(ClaimedRemoval, LastMemberRemovesItsAnchorWhenNoMemberIsLeft) {
  test::TestDirectory dir;
  const std::string path = dir / "g.lock";
  create_lock_file(dir, path, anchor_metadata());
  HeldFile anchor = our_anchor(path);
  auto removed = remove_group_anchor_if_empty(anchor.path(), anchor.identity(), cleanup_of(dir));
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_TRUE(*removed);
  EXPECT_FALSE(os::lstat_entry(path)->type == os::EntryType::regular);
  EXPECT_EQ(claims_in(dir), std::vector<std::string>{});
}

// Where the kernel refuses the claim link (another user's anchor, an older version's 0644), the
// anchor is claimed with a claim file: removed when no member is left, never displacing a lock
// that replaced it, and with no claim left behind.
TEST(ClaimedRemoval, LastMemberRemovesAnAnchorItCannotLinkWithAClaimFile) {
  test::TestDirectory dir;
  const std::string path = dir / "g.lock";
  create_lock_file(dir, path, anchor_metadata());
  HeldFile anchor = our_anchor(path);
  refuse_claim_links = true;
  auto removed = remove_group_anchor_if_empty(anchor.path(), anchor.identity(), cleanup_of(dir));
  refuse_claim_links = false;
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_TRUE(*removed);
  EXPECT_FALSE(os::lstat_entry(path)->type == os::EntryType::regular);
  EXPECT_EQ(claims_in(dir), std::vector<std::string>{});
}

TEST(ClaimedRemoval, LastMemberWithAClaimFileNeverRemovesALockThatReplacedItsAnchor) {
  test::TestDirectory dir;
  const std::string path = dir / "g.lock";
  create_lock_file(dir, path, anchor_metadata());
  HeldFile anchor = our_anchor(path);
  ASSERT_EQ(::unlink(path.c_str()), 0);
  create_lock_file(dir, path, live_holder());
  const os::FileIdentity replacement = identity_of(path);

  prepare_intruder(dir, path);
  refuse_claim_links = true;
  intruder.armed = true;
  auto removed = remove_group_anchor_if_empty(anchor.path(), anchor.identity(), cleanup_of(dir));
  intruder.armed = false;
  refuse_claim_links = false;
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_FALSE(*removed);
  EXPECT_FALSE(intruder.got_in) << "the name was emptied under the lock that replaced the anchor";
  EXPECT_EQ(identity_of(path), replacement);
  EXPECT_EQ(claims_in(dir), std::vector<std::string>{});
}

// `clean` judged an anchor without kernel locks stale (an empty group); a member joined before it
// removed it. clean removes it like a last member, counting again with the name gone, and puts it
// back: the member keeps its anchor (it used to be removed without a recount: issue 20, finding 1).
TEST(ClaimedRemoval, CleanPutsBackAnAnchorForAMemberThatJoinedAfterTheJudgment) {
  test::TestDirectory dir;
  const std::string path = dir / "g.lock";
  LockMetadata ended = anchor_metadata();
  ended.pid = reaped_pid();
  create_lock_file(dir, path, ended);
  const std::int64_t created = os::lstat_entry(path)->mtime_ns;
  auto judged = inspect_lock_file(path, current_observer(), stale_after, created + 10 * second_ns,
                                  true, false);
  ASSERT_TRUE(judged) << judged.error().message;
  ASSERT_EQ(judged->verdict.state, LockState::stale) << judged->verdict.explanation;
  LockMetadata member = live_holder();
  member.mode = LockMode::shared;
  member.kernel_lock = false;
  create_lock_file(dir, dir / shared_holder_file_name("g", "0123456789abcdef"), member);

  auto removed = remove_judged_stale(*judged, current_observer(), stale_after, false);
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_FALSE(*removed);
  EXPECT_EQ(identity_of(path), judged->entry.identity) << "the member's anchor is gone";
  EXPECT_EQ(claims_in(dir), std::vector<std::string>{});
}

TEST(ClaimedRemoval, LastMemberPutsTheAnchorBackForAMemberThatJoined) {
  test::TestDirectory dir;
  const std::string path = dir / "g.lock";
  create_lock_file(dir, path, anchor_metadata());
  HeldFile anchor = our_anchor(path);
  LockMetadata member = live_holder();
  member.mode = LockMode::shared;
  member.kernel_lock = false;
  create_lock_file(dir, dir / shared_holder_file_name("g", "0123456789abcdef"), member);
  auto removed = remove_group_anchor_if_empty(anchor.path(), anchor.identity(), cleanup_of(dir));
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_FALSE(*removed);
  EXPECT_EQ(identity_of(path), anchor.identity());
  EXPECT_EQ(claims_in(dir), std::vector<std::string>{});
}

} // namespace

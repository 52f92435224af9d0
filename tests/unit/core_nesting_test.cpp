// Nested holds: an inner `buildlock run` of a lock its ancestor holds proceeds only while the
// name, the inherited descriptor and the kernel lock all still agree. Real files and descriptors
// in a private directory stand in for the outer run.
#include "core/nesting.h"
#include "os/fd.h"
#include "os/file_lock.h"
#include "os/filesystem.h"
#include "test_directory.h"

#include <gtest/gtest.h>
#include <unistd.h>

using namespace buildlock;
using namespace buildlock::core;

namespace {

// What an outer run leaves for its command: the lock file, open and flocked.
struct OuterHold {
  std::string path;
  os::Fd fd;
  os::FileIdentity identity;
};

OuterHold hold_lock(const std::string& path) {
  OuterHold hold;
  hold.path = path;
  auto fd = os::create_new_file(path);
  EXPECT_TRUE(fd) << fd.error().message;
  if (!fd) {
    return hold;
  }
  hold.fd = std::move(*fd);
  auto locked = os::try_lock(hold.fd);
  EXPECT_TRUE(locked && *locked == os::LockAttempt::acquired);
  auto info = os::fstat_entry(hold.fd);
  EXPECT_TRUE(info) << info.error().message;
  hold.identity = info->identity;
  return hold;
}

std::string held_value(const OuterHold& hold) {
  return held_locks_value(nullptr, hold.fd.get(), hold.identity);
}

} // namespace

// --- The BUILDLOCK_HELD value -------------------------------------------------------------------

TEST(Nesting, ValueNamesDescriptorDeviceAndInode) {
  EXPECT_EQ(held_locks_value(nullptr, 5, {2049, 131074}), "5:2049:131074");
  EXPECT_EQ(held_locks_value("", 5, {2049, 131074}), "5:2049:131074");
}

TEST(Nesting, ValueAppendsToWhatTheProcessInherited) {
  EXPECT_EQ(held_locks_value("3:1:2", 7, {8, 9}), "3:1:2,7:8:9");
  EXPECT_EQ(held_locks_value("3:1:2,4:5:6", 7, {8, 9}), "3:1:2,4:5:6,7:8:9");
}

TEST(Nesting, ValueCarriesFullWidthIdentities) {
  const std::uint64_t big = std::numeric_limits<std::uint64_t>::max();
  EXPECT_EQ(held_locks_value(nullptr, 0, {big, big}),
            "0:18446744073709551615:18446744073709551615");
}

// --- held_by_ancestor ---------------------------------------------------------------------------

TEST(Nesting, NoVariableMeansNotHeld) {
  test::TestDirectory dir;
  const OuterHold hold = hold_lock(dir / "x.lock");
  EXPECT_FALSE(held_by_ancestor(nullptr, hold.path));
  EXPECT_FALSE(held_by_ancestor("", hold.path));
}

TEST(Nesting, InheritedDescriptorOfTheNamedLockedFileIsHeld) {
  test::TestDirectory dir;
  const OuterHold hold = hold_lock(dir / "x.lock");
  EXPECT_TRUE(held_by_ancestor(held_value(hold).c_str(), hold.path));
}

TEST(Nesting, AnyEntryOfTheListMayMatch) {
  test::TestDirectory dir;
  const OuterHold other = hold_lock(dir / "other.lock");
  const OuterHold hold = hold_lock(dir / "x.lock");
  const std::string value =
      held_locks_value(("garbage," + held_value(other)).c_str(), hold.fd.get(), hold.identity);
  EXPECT_TRUE(held_by_ancestor(value.c_str(), hold.path)) << value;
  EXPECT_TRUE(held_by_ancestor(value.c_str(), other.path)) << value;
  EXPECT_FALSE(held_by_ancestor(held_value(other).c_str(), hold.path))
      << "holding one lock says nothing about another";
}

TEST(Nesting, NameNowPointingAtAnotherFileIsNotHeld) {
  // The outer run released (removed the name) and someone else created a new lock meanwhile: a
  // process that outlived the outer hold must wait like everyone else.
  test::TestDirectory dir;
  const OuterHold hold = hold_lock(dir / "x.lock");
  const std::string value = held_value(hold);
  ASSERT_TRUE(os::remove_file(hold.path));
  const OuterHold newcomer = hold_lock(hold.path);
  ASSERT_FALSE(newcomer.identity == hold.identity);
  EXPECT_FALSE(held_by_ancestor(value.c_str(), hold.path));
}

TEST(Nesting, RemovedNameIsNotHeld) {
  test::TestDirectory dir;
  const OuterHold hold = hold_lock(dir / "x.lock");
  ASSERT_TRUE(os::remove_file(hold.path));
  EXPECT_FALSE(held_by_ancestor(held_value(hold).c_str(), hold.path));
}

TEST(Nesting, ClosedDescriptorIsNotHeld) {
  test::TestDirectory dir;
  OuterHold hold = hold_lock(dir / "x.lock");
  const std::string value = held_value(hold);
  // Keep the file locked through another description, as the outer run would, but close the
  // descriptor the variable names.
  auto other = os::open_regular_file(hold.path);
  ASSERT_TRUE(other);
  hold.fd.reset();
  ASSERT_TRUE(os::try_lock(*other) && *os::try_lock(*other) == os::LockAttempt::acquired);
  EXPECT_FALSE(held_by_ancestor(value.c_str(), hold.path));
}

TEST(Nesting, DescriptorReusedForAnotherFileIsNotHeld) {
  test::TestDirectory dir;
  OuterHold hold = hold_lock(dir / "x.lock");
  const std::string value = held_value(hold);
  const int number = hold.fd.get();
  // The command closed the inherited descriptor and its number was reused for something else.
  auto unrelated = os::create_new_file(dir / "unrelated");
  ASSERT_TRUE(unrelated);
  ASSERT_GE(::dup2(unrelated->get(), number), 0);
  EXPECT_FALSE(held_by_ancestor(value.c_str(), hold.path));
  (void)hold.fd.release(); // `number` now belongs to the dup2 copy; close it exactly once
  ::close(number);
}

TEST(Nesting, DescriptorOfTheFileWithoutItsKernelLockIsNotHeld) {
  // The variable names an open of the right file, but the kernel lock belongs to a different
  // open file description: this process is not under the ancestor's hold.
  test::TestDirectory dir;
  const OuterHold hold = hold_lock(dir / "x.lock");
  auto separate_open = os::open_regular_file(hold.path);
  ASSERT_TRUE(separate_open);
  const std::string value = held_locks_value(nullptr, separate_open->get(), hold.identity);
  EXPECT_FALSE(held_by_ancestor(value.c_str(), hold.path));
}

TEST(Nesting, IdentityThatDoesNotMatchTheFileIsNotHeld) {
  test::TestDirectory dir;
  const OuterHold hold = hold_lock(dir / "x.lock");
  const os::FileIdentity wrong{hold.identity.device, hold.identity.inode + 1};
  EXPECT_FALSE(
      held_by_ancestor(held_locks_value(nullptr, hold.fd.get(), wrong).c_str(), hold.path));
}

TEST(Nesting, SymbolicLinkAtTheLockPathIsNotHeld) {
  test::TestDirectory dir;
  const OuterHold hold = hold_lock(dir / "real.lock");
  ASSERT_EQ(::symlink(hold.path.c_str(), (dir / "x.lock").c_str()), 0);
  EXPECT_FALSE(held_by_ancestor(held_value(hold).c_str(), dir / "x.lock"));
}

TEST(Nesting, GarbageValueIsNotHeld) {
  test::TestDirectory dir;
  const OuterHold hold = hold_lock(dir / "x.lock");
  const std::string fd = std::to_string(hold.fd.get());
  const std::string dev = std::to_string(hold.identity.device);
  const std::string ino = std::to_string(hold.identity.inode);
  for (const std::string& value :
       {std::string("garbage"), std::string(","), std::string(",,,"), std::string(":::"),
        fd + ":" + dev, fd + ":" + dev + ":", fd + "::" + ino, ":" + dev + ":" + ino,
        "-1:" + dev + ":" + ino, "x" + fd + ":" + dev + ":" + ino, fd + ":" + dev + ":" + ino + "x",
        fd + ":" + dev + ":" + ino + ":0", fd + " :" + dev + ":" + ino,
        fd + ":" + dev + ":99999999999999999999999", "99999999999:" + dev + ":" + ino}) {
    EXPECT_FALSE(held_by_ancestor(value.c_str(), hold.path)) << "`" << value << "`";
  }
  // The well-formed value is accepted, so the refusals above are about the form only.
  EXPECT_TRUE(held_by_ancestor((fd + ":" + dev + ":" + ino).c_str(), hold.path));
}

// Every branch of judge(): the decision whether a lock may be reclaimed now. Pure-function tests:
// observations and the observer are plain values, no processes or files are involved.
#include "core/staleness.h"

#include <gtest/gtest.h>

using namespace buildlock::core;
using namespace std::chrono_literals;
using buildlock::os::PidProbe;
using buildlock::os::PidState;

namespace {

constexpr Seconds stale_after{120};

Observer our_machine() {
  Observer observer;
  observer.boot_id = "boot-now";
  observer.pid_namespace = "pid:[4026531836]";
  observer.host = "builder";
  observer.uptime = Seconds(3600);
  return observer;
}

// A holder on our kernel, in our PID namespace, started at tick 500.
LockMetadata local_holder() {
  LockMetadata metadata;
  metadata.pid = 4242;
  metadata.start_time = 500;
  metadata.boot_id = "boot-now";
  metadata.pid_namespace = "pid:[4026531836]";
  metadata.host = "builder";
  metadata.user = "dev";
  metadata.command = {"cmake", "--build", "b"};
  return metadata;
}

LockMetadata in_other_pid_namespace() {
  LockMetadata metadata = local_holder();
  metadata.pid_namespace = "pid:[4026532999]";
  return metadata;
}

LockMetadata from_previous_boot() {
  LockMetadata metadata = local_holder();
  metadata.boot_id = "boot-before";
  return metadata;
}

LockMetadata on_other_host() {
  LockMetadata metadata = local_holder();
  metadata.boot_id = "boot-elsewhere";
  metadata.host = "ci-4";
  return metadata;
}

PidProbe pid_dead() {
  return {PidState::dead, std::nullopt};
}
PidProbe pid_alive_since(std::uint64_t start_time) {
  return {PidState::alive, start_time};
}
PidProbe pid_alive_start_unknown() {
  return {PidState::alive, std::nullopt};
}
PidProbe pid_unknown() {
  return {PidState::unknown, std::nullopt};
}

Observation seen(Beacon beacon, const LockMetadata* metadata, PidProbe pid = pid_unknown(),
                 Seconds age = Seconds(1)) {
  Observation observation;
  observation.beacon = beacon;
  observation.metadata = metadata;
  observation.pid = pid;
  observation.age = age;
  return observation;
}

void expect_verdict(const Verdict& verdict, LockState state, const std::string& reason,
                    const std::string& judged_by) {
  EXPECT_EQ(verdict.state, state) << verdict.reason << ": " << verdict.explanation;
  EXPECT_EQ(verdict.reason, reason) << verdict.explanation;
  EXPECT_EQ(verdict.judged_by, judged_by) << verdict.explanation;
  EXPECT_FALSE(verdict.explanation.empty());
  EXPECT_EQ(verdict.explanation.find('\n'), std::string::npos);
}

bool mentions(const Verdict& verdict, const std::string& text) {
  return verdict.explanation.find(text) != std::string::npos;
}

} // namespace

// --- A held kernel lock beats every other piece of evidence -------------------------------------

TEST(Staleness, HeldKernelLockBeatsADeadPid) {
  const LockMetadata metadata = local_holder();
  const Verdict verdict =
      judge(seen(Beacon::held, &metadata, pid_dead()), our_machine(), stale_after);
  expect_verdict(verdict, LockState::held, "kernel-lock-held", "kernel lock");
  EXPECT_FALSE(verdict.stale_in);
}

TEST(Staleness, HeldKernelLockBeatsAReusedPid) {
  const LockMetadata metadata = local_holder();
  const Verdict verdict =
      judge(seen(Beacon::held, &metadata, pid_alive_since(999)), our_machine(), stale_after);
  expect_verdict(verdict, LockState::held, "kernel-lock-held", "kernel lock");
}

TEST(Staleness, HeldKernelLockBeatsMissingMetadataOfAnyAge) {
  const Verdict verdict =
      judge(seen(Beacon::held, nullptr, pid_unknown(), Seconds(86400)), our_machine(), stale_after);
  expect_verdict(verdict, LockState::held, "kernel-lock-held", "kernel lock");
  EXPECT_FALSE(verdict.stale_in);
}

TEST(Staleness, HeldKernelLockBeatsAPreviousBoot) {
  const LockMetadata metadata = from_previous_boot();
  const Verdict verdict = judge(seen(Beacon::held, &metadata, pid_unknown(), Seconds(7200)),
                                our_machine(), stale_after);
  expect_verdict(verdict, LockState::held, "kernel-lock-held", "kernel lock");
}

TEST(Staleness, HeldKernelLockBeatsAnExpiredHeartbeatFromAnotherHost) {
  const LockMetadata metadata = on_other_host();
  const Verdict verdict =
      judge(seen(Beacon::held, &metadata, pid_unknown(), Seconds(600)), our_machine(), stale_after);
  expect_verdict(verdict, LockState::held, "kernel-lock-held", "kernel lock");
}

// --- No usable metadata: only the age is left ---------------------------------------------------

TEST(Staleness, YoungLockWithoutMetadataIsHeldAndSaysWhenItExpires) {
  for (Beacon beacon : {Beacon::free, Beacon::unsupported}) {
    const Verdict verdict =
        judge(seen(beacon, nullptr, pid_unknown(), Seconds(20)), our_machine(), stale_after);
    expect_verdict(verdict, LockState::held, "no-metadata-recent", "heartbeat");
    ASSERT_TRUE(verdict.stale_in);
    EXPECT_DOUBLE_EQ(verdict.stale_in->count(), 100.0);
  }
}

TEST(Staleness, LockWithoutMetadataExactlyAtTheLimitIsStillHeld) {
  const Verdict verdict =
      judge(seen(Beacon::free, nullptr, pid_unknown(), stale_after), our_machine(), stale_after);
  expect_verdict(verdict, LockState::held, "no-metadata-recent", "heartbeat");
  ASSERT_TRUE(verdict.stale_in);
  EXPECT_DOUBLE_EQ(verdict.stale_in->count(), 0.0);
}

TEST(Staleness, OldLockWithoutMetadataIsStale) {
  for (Beacon beacon : {Beacon::free, Beacon::unsupported}) {
    const Verdict verdict =
        judge(seen(beacon, nullptr, pid_unknown(), Seconds(120.5)), our_machine(), stale_after);
    expect_verdict(verdict, LockState::stale, "no-metadata-expired", "age");
    EXPECT_FALSE(verdict.stale_in);
    EXPECT_TRUE(mentions(verdict, "2m00s limit")) << verdict.explanation;
  }
}

TEST(Staleness, ShorterStaleAfterExpiresSooner) {
  const Verdict verdict =
      judge(seen(Beacon::free, nullptr, pid_unknown(), Seconds(2.5)), our_machine(), Seconds(2));
  expect_verdict(verdict, LockState::stale, "no-metadata-expired", "age");
}

// --- Same kernel, kernel lock free: the beacon is exact -----------------------------------------

TEST(Staleness, DeadPidIsStale) {
  const LockMetadata metadata = local_holder();
  const Verdict verdict =
      judge(seen(Beacon::free, &metadata, pid_dead()), our_machine(), stale_after);
  expect_verdict(verdict, LockState::stale, "holder-dead", "kernel lock");
  EXPECT_TRUE(mentions(verdict, "pid 4242")) << verdict.explanation;
  EXPECT_TRUE(mentions(verdict, "no process holds its kernel lock")) << verdict.explanation;
  EXPECT_FALSE(verdict.stale_in);
}

TEST(Staleness, ReusedPidIsStale) {
  const LockMetadata metadata = local_holder();
  const Verdict verdict =
      judge(seen(Beacon::free, &metadata, pid_alive_since(777)), our_machine(), stale_after);
  expect_verdict(verdict, LockState::stale, "pid-reused", "kernel lock");
  EXPECT_TRUE(mentions(verdict, "777")) << verdict.explanation;
  EXPECT_TRUE(mentions(verdict, "500")) << verdict.explanation;
}

TEST(Staleness, LivePidThatReleasedItsKernelLockIsStale) {
  const LockMetadata metadata = local_holder();
  const Verdict verdict =
      judge(seen(Beacon::free, &metadata, pid_alive_since(500)), our_machine(), stale_after);
  expect_verdict(verdict, LockState::stale, "holder-exited", "kernel lock");
  EXPECT_TRUE(mentions(verdict, "released")) << verdict.explanation;
}

TEST(Staleness, FreeKernelLockIsStaleEvenWhenThePidCannotBeChecked) {
  const LockMetadata metadata = local_holder();
  for (const PidProbe& probe : {pid_unknown(), pid_alive_start_unknown()}) {
    const Verdict verdict = judge(seen(Beacon::free, &metadata, probe), our_machine(), stale_after);
    expect_verdict(verdict, LockState::stale, "holder-exited", "kernel lock");
  }
  // Saying "runs" of a pid that could not be checked would be a claim nobody verified.
  const Verdict unknown =
      judge(seen(Beacon::free, &metadata, pid_unknown()), our_machine(), stale_after);
  EXPECT_TRUE(mentions(unknown, "cannot be checked")) << unknown.explanation;
}

TEST(Staleness, FreeKernelLockIsStaleWhenTheMetadataHasNoStartTime) {
  LockMetadata metadata = local_holder();
  metadata.start_time.reset();
  const Verdict verdict =
      judge(seen(Beacon::free, &metadata, pid_alive_since(777)), our_machine(), stale_after);
  expect_verdict(verdict, LockState::stale, "holder-exited", "kernel lock");
}

TEST(Staleness, FreeKernelLockInAnotherPidNamespaceIsStaleWithoutLookingAtThePid) {
  const LockMetadata metadata = in_other_pid_namespace();
  // The pid means nothing in our namespace; even "alive with the same start time" is ignored.
  const Verdict verdict =
      judge(seen(Beacon::free, &metadata, pid_alive_since(500)), our_machine(), stale_after);
  expect_verdict(verdict, LockState::stale, "holder-exited", "kernel lock");
  EXPECT_TRUE(mentions(verdict, "another PID namespace")) << verdict.explanation;
}

TEST(Staleness, FreeKernelLockOnOurKernelIsStaleWhateverItsAge) {
  const LockMetadata metadata = local_holder();
  const Verdict verdict =
      judge(seen(Beacon::free, &metadata, pid_dead(), Seconds(0)), our_machine(), stale_after);
  EXPECT_EQ(verdict.state, LockState::stale);
}

// --- Same kernel, no kernel locks on this filesystem: the pid is the evidence -------------------

TEST(Staleness, WithoutKernelLocksADeadPidIsStale) {
  const LockMetadata metadata = local_holder();
  const Verdict verdict =
      judge(seen(Beacon::unsupported, &metadata, pid_dead()), our_machine(), stale_after);
  expect_verdict(verdict, LockState::stale, "holder-dead", "pid check");
  EXPECT_FALSE(mentions(verdict, "kernel lock")) << verdict.explanation;
}

// buildlock killed with SIGKILL while its command runs on: without a kernel lock, the processes
// that carry the lock in BUILDLOCK_HELD are the holder now (scenario 3).
TEST(Staleness, WithoutKernelLocksADeadPidWhoseCommandRunsIsHeld) {
  const LockMetadata metadata = local_holder();
  for (const PidProbe& pid : {pid_dead(), pid_alive_since(501)}) {
    Observation observation = seen(Beacon::unsupported, &metadata, pid, Seconds(86400));
    observation.tree = CommandTree::running;
    const Verdict verdict = judge(observation, our_machine(), stale_after);
    expect_verdict(verdict, LockState::held, "command-alive", "pid check");
    EXPECT_FALSE(verdict.stale_in) << "the command's processes are checked, not aged";
  }
}

TEST(Staleness, WithoutKernelLocksADeadPidWhoseCommandIsGoneIsStale) {
  const LockMetadata metadata = local_holder();
  Observation observation = seen(Beacon::unsupported, &metadata, pid_dead());
  observation.tree = CommandTree::gone;
  expect_verdict(judge(observation, our_machine(), stale_after), LockState::stale, "holder-dead",
                 "pid check");
}

// Another user's processes cannot be read by an unprivileged observer: what the dead holder's
// command started falls to the heartbeat, like a holder that cannot be checked.
TEST(Staleness, WithoutKernelLocksADeadPidWhoseCommandCannotBeCheckedFallsToTheHeartbeat) {
  const LockMetadata metadata = local_holder();
  Observation fresh = seen(Beacon::unsupported, &metadata, pid_dead(), Seconds(30));
  fresh.tree = CommandTree::unknown;
  const Verdict held_verdict = judge(fresh, our_machine(), stale_after);
  expect_verdict(held_verdict, LockState::held, "heartbeat-fresh", "heartbeat");
  EXPECT_TRUE(held_verdict.stale_in);
  Observation old = seen(Beacon::unsupported, &metadata, pid_dead(), Seconds(121));
  old.tree = CommandTree::unknown;
  expect_verdict(judge(old, our_machine(), stale_after), LockState::stale, "heartbeat-expired",
                 "age");
}

// With a kernel lock on the same kernel, the kernel lock alone decides: a free one means no
// process of the tree holds the file (they all inherited the locked descriptor).
TEST(Staleness, AFreeKernelLockIgnoresTheCommandTree) {
  const LockMetadata metadata = local_holder();
  Observation observation = seen(Beacon::free, &metadata, pid_dead());
  observation.tree = CommandTree::running;
  expect_verdict(judge(observation, our_machine(), stale_after), LockState::stale, "holder-dead",
                 "kernel lock");
}

TEST(Staleness, WithoutKernelLocksAReusedPidIsStale) {
  const LockMetadata metadata = local_holder();
  const Verdict verdict =
      judge(seen(Beacon::unsupported, &metadata, pid_alive_since(501)), our_machine(), stale_after);
  expect_verdict(verdict, LockState::stale, "pid-reused", "pid check");
}

TEST(Staleness, WithoutKernelLocksALivePidIsHeldWhateverTheAge) {
  const LockMetadata metadata = local_holder();
  const Verdict verdict =
      judge(seen(Beacon::unsupported, &metadata, pid_alive_since(500), Seconds(86400)),
            our_machine(), stale_after);
  expect_verdict(verdict, LockState::held, "pid-alive", "pid check");
  EXPECT_TRUE(mentions(verdict, "is running")) << verdict.explanation;
  EXPECT_FALSE(verdict.stale_in);
}

TEST(Staleness, WithoutKernelLocksALivePidWithUnknownStartTimeIsHeld) {
  LockMetadata without_start_time = local_holder();
  without_start_time.start_time.reset();
  const LockMetadata with_start_time = local_holder();
  expect_verdict(judge(seen(Beacon::unsupported, &with_start_time, pid_alive_start_unknown()),
                       our_machine(), stale_after),
                 LockState::held, "pid-alive", "pid check");
  expect_verdict(judge(seen(Beacon::unsupported, &without_start_time, pid_alive_since(9)),
                       our_machine(), stale_after),
                 LockState::held, "pid-alive", "pid check");
}

// Issue 13, finding 10: a pid that cannot be checked (beyond this kernel's range) used to keep a
// lock without kernel locks alive forever. It vouches for nothing: the heartbeat decides.
TEST(Staleness, WithoutKernelLocksAnUncheckablePidFallsToTheHeartbeat) {
  const LockMetadata metadata = local_holder();
  const Verdict fresh = judge(seen(Beacon::unsupported, &metadata, pid_unknown(), Seconds(30)),
                              our_machine(), stale_after);
  expect_verdict(fresh, LockState::held, "heartbeat-fresh", "heartbeat");
  ASSERT_TRUE(fresh.stale_in);
  EXPECT_DOUBLE_EQ(fresh.stale_in->count(), 90.0);
  EXPECT_TRUE(mentions(fresh, "cannot be checked")) << fresh.explanation;

  const Verdict expired = judge(seen(Beacon::unsupported, &metadata, pid_unknown(), Seconds(121)),
                                our_machine(), stale_after);
  expect_verdict(expired, LockState::stale, "heartbeat-expired", "age");
}

TEST(Staleness, WithoutKernelLocksAnotherPidNamespaceFallsToTheHeartbeat) {
  const LockMetadata metadata = in_other_pid_namespace();
  // The probe result is meaningless across namespaces and must be ignored.
  const Verdict fresh = judge(seen(Beacon::unsupported, &metadata, pid_dead(), Seconds(30)),
                              our_machine(), stale_after);
  expect_verdict(fresh, LockState::held, "heartbeat-fresh", "heartbeat");
  ASSERT_TRUE(fresh.stale_in);
  EXPECT_DOUBLE_EQ(fresh.stale_in->count(), 90.0);
  EXPECT_TRUE(mentions(fresh, "another PID namespace")) << fresh.explanation;

  const Verdict expired =
      judge(seen(Beacon::unsupported, &metadata, pid_alive_since(500), Seconds(121)), our_machine(),
            stale_after);
  expect_verdict(expired, LockState::stale, "heartbeat-expired", "age");
  EXPECT_FALSE(expired.stale_in);
}

// --- Another kernel: previous boot of this host, or another host --------------------------------

TEST(Staleness, LockFromAPreviousBootOfThisHostIsStale) {
  const LockMetadata metadata = from_previous_boot();
  // Last touched 2 hours ago, this machine has been up for 1 hour.
  for (Beacon beacon : {Beacon::free, Beacon::unsupported}) {
    const Verdict verdict = judge(seen(beacon, &metadata, pid_alive_since(500), Seconds(7200)),
                                  our_machine(), stale_after);
    expect_verdict(verdict, LockState::stale, "previous-boot", "boot id");
    EXPECT_TRUE(mentions(verdict, "boot-before")) << verdict.explanation;
  }
}

// Issue 13, finding 1: a VM that booted 8 s ago and a namesake (cloned from the same image) whose
// live holder refreshed 20 s ago, within its heartbeat interval of --stale-after / 4 = 30 s. The
// lock is older than our uptime, yet its holder may be alive: it must not be robbed.
TEST(Staleness, NamesakeMachineIsNeverRobbedWithinStaleAfterHoweverShortOurUptime) {
  Observer observer = our_machine();
  observer.uptime = Seconds(8);
  const LockMetadata metadata = from_previous_boot();
  for (Beacon beacon : {Beacon::free, Beacon::unsupported}) {
    for (double age : {20.0, 60.0, 120.0}) {
      const Verdict verdict =
          judge(seen(beacon, &metadata, pid_dead(), Seconds(age)), observer, stale_after);
      expect_verdict(verdict, LockState::held, "heartbeat-fresh", "heartbeat");
      ASSERT_TRUE(verdict.stale_in);
      EXPECT_DOUBLE_EQ(verdict.stale_in->count(), 120.0 - age);
    }
  }
}

TEST(Staleness, PreviousBootIsStaleOnlyOnceOlderThanStaleAfter) {
  // Rebooted 10 s ago; the lock was last refreshed 121 s ago: expired by the age rule, and the
  // reason says why nobody refreshed it.
  Observer observer = our_machine();
  observer.uptime = Seconds(10);
  const LockMetadata metadata = from_previous_boot();
  const Verdict verdict =
      judge(seen(Beacon::free, &metadata, pid_unknown(), Seconds(121)), observer, stale_after);
  expect_verdict(verdict, LockState::stale, "previous-boot", "boot id");
  EXPECT_TRUE(mentions(verdict, "2m01s")) << verdict.explanation;
}

TEST(Staleness, SameHostNameRefreshedAfterOurBootFallsToTheHeartbeat) {
  // Another machine with our host name (or a container on another kernel) refreshed it after we
  // booted: it may be alive, so only the age can judge it.
  const LockMetadata metadata = from_previous_boot();
  const Verdict fresh =
      judge(seen(Beacon::free, &metadata, pid_dead(), Seconds(30)), our_machine(), stale_after);
  expect_verdict(fresh, LockState::held, "heartbeat-fresh", "heartbeat");
  ASSERT_TRUE(fresh.stale_in);
  EXPECT_DOUBLE_EQ(fresh.stale_in->count(), 90.0);
  EXPECT_TRUE(mentions(fresh, "holder on host `builder`")) << fresh.explanation;

  const Verdict expired =
      judge(seen(Beacon::free, &metadata, pid_dead(), Seconds(600)), our_machine(), stale_after);
  expect_verdict(expired, LockState::stale, "heartbeat-expired", "age");
}

TEST(Staleness, AgeEqualToUptimeIsNotAPreviousBoot) {
  const LockMetadata metadata = from_previous_boot();
  const Observer observer = our_machine();
  const Verdict verdict =
      judge(seen(Beacon::free, &metadata, pid_unknown(), observer.uptime), observer, stale_after);
  expect_verdict(verdict, LockState::stale, "heartbeat-expired", "age");
}

TEST(Staleness, FreshLockFromAnotherHostIsHeldEvenWithAFreeKernelLock) {
  // A free flock on a network filesystem says nothing about a holder on another host.
  const LockMetadata metadata = on_other_host();
  for (Beacon beacon : {Beacon::free, Beacon::unsupported}) {
    const Verdict verdict =
        judge(seen(beacon, &metadata, pid_dead(), Seconds(45)), our_machine(), stale_after);
    expect_verdict(verdict, LockState::held, "heartbeat-fresh", "heartbeat");
    ASSERT_TRUE(verdict.stale_in);
    EXPECT_DOUBLE_EQ(verdict.stale_in->count(), 75.0);
    EXPECT_TRUE(mentions(verdict, "holder on host `ci-4`")) << verdict.explanation;
  }
}

TEST(Staleness, ExpiredLockFromAnotherHostIsStale) {
  const LockMetadata metadata = on_other_host();
  // Older than our uptime too, but another host name never counts as our previous boot.
  const Verdict verdict = judge(seen(Beacon::free, &metadata, pid_alive_since(500), Seconds(7200)),
                                our_machine(), stale_after);
  expect_verdict(verdict, LockState::stale, "heartbeat-expired", "age");
  EXPECT_FALSE(verdict.stale_in);
  EXPECT_TRUE(mentions(verdict, "2h00m")) << verdict.explanation;
}

// --- Empty boot ids never match anything --------------------------------------------------------

TEST(Staleness, EmptyBootIdInTheMetadataIsNeverOurKernel) {
  LockMetadata metadata = local_holder();
  metadata.boot_id.clear();
  Observer observer = our_machine();
  EXPECT_FALSE(same_kernel(metadata, observer));
  observer.boot_id.clear();
  EXPECT_FALSE(same_kernel(metadata, observer)) << "two unknown boot ids are not one kernel";
  EXPECT_FALSE(same_pid_namespace(metadata, observer));

  // Free kernel lock and a dead pid, but without a boot id neither can be trusted: age decides,
  // and an old lock is not called a previous boot either.
  const Verdict fresh =
      judge(seen(Beacon::free, &metadata, pid_dead(), Seconds(10)), our_machine(), stale_after);
  expect_verdict(fresh, LockState::held, "heartbeat-fresh", "heartbeat");
  const Verdict old =
      judge(seen(Beacon::free, &metadata, pid_dead(), Seconds(7200)), our_machine(), stale_after);
  expect_verdict(old, LockState::stale, "heartbeat-expired", "age");
}

TEST(Staleness, UnknownOwnBootIdNeverDeclaresAPreviousBoot) {
  const LockMetadata metadata = local_holder();
  Observer observer = our_machine();
  observer.boot_id.clear();
  const Verdict verdict =
      judge(seen(Beacon::free, &metadata, pid_dead(), Seconds(7200)), observer, stale_after);
  expect_verdict(verdict, LockState::stale, "heartbeat-expired", "age");
  const Verdict fresh =
      judge(seen(Beacon::free, &metadata, pid_dead(), Seconds(5)), observer, stale_after);
  expect_verdict(fresh, LockState::held, "heartbeat-fresh", "heartbeat");
}

TEST(Staleness, SameKernelAndSamePidNamespaceNeedEqualIds) {
  const Observer observer = our_machine();
  EXPECT_TRUE(same_kernel(local_holder(), observer));
  EXPECT_TRUE(same_pid_namespace(local_holder(), observer));
  EXPECT_TRUE(same_kernel(in_other_pid_namespace(), observer));
  EXPECT_FALSE(same_pid_namespace(in_other_pid_namespace(), observer));
  EXPECT_FALSE(same_kernel(from_previous_boot(), observer));
  EXPECT_FALSE(same_pid_namespace(from_previous_boot(), observer));

  // Where the OS has no PID namespaces both sides record "" and that is one namespace.
  LockMetadata without_namespaces = local_holder();
  without_namespaces.pid_namespace.clear();
  Observer observer_without_namespaces = observer;
  observer_without_namespaces.pid_namespace.clear();
  EXPECT_TRUE(same_pid_namespace(without_namespaces, observer_without_namespaces));
  EXPECT_FALSE(same_pid_namespace(without_namespaces, observer));
}

// --- Only the age rule predicts when a held lock will expire ------------------------------------

TEST(Staleness, OnlyAgeJudgedHoldsCarryStaleIn) {
  const LockMetadata local = local_holder();
  const LockMetadata remote = on_other_host();
  EXPECT_FALSE(judge(seen(Beacon::held, &local), our_machine(), stale_after).stale_in);
  EXPECT_FALSE(
      judge(seen(Beacon::unsupported, &local, pid_alive_since(500)), our_machine(), stale_after)
          .stale_in);
  EXPECT_FALSE(judge(seen(Beacon::free, &local, pid_dead()), our_machine(), stale_after).stale_in);
  EXPECT_TRUE(
      judge(seen(Beacon::free, &remote, pid_unknown(), Seconds(119.75)), our_machine(), stale_after)
          .stale_in);
  EXPECT_DOUBLE_EQ(
      judge(seen(Beacon::free, &remote, pid_unknown(), Seconds(119.75)), our_machine(), stale_after)
          .stale_in->count(),
      0.25);
}

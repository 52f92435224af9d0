// The steps every kind of acquisition is made of (core/acquire.cpp for exclusive holds,
// core/group_acquire.cpp for shared and slotted ones): creating a complete, kernel-locked file
// under a name, keeping the waiting budget (deadline and notices), and sleeping until a holder
// lets go. Internal to core/.
#pragma once

#include "core/acquire.h"
#include "core/held_lock.h"
#include "core/metadata.h"
#include "core/probe.h"
#include "os/clock.h"

#include <optional>
#include <string>

namespace buildlock::core {

// Deadline and notices of one acquisition, across all the files it may wait for.
class WaitBudget {
public:
  // `record`: where whom we wait behind is noted (for the trace), or null.
  WaitBudget(std::optional<Seconds> timeout, bool verbose, WaitRecord* record = nullptr);

  // Whether the holder must be known now: to explain (--verbose), for a notice, or for the
  // timeout message, or for the trace. Otherwise a waiter skips reading metadata it would not
  // use.
  bool wants_details(os::TimePoint now) const;
  // Timeout error naming `whom` if the deadline has passed; otherwise prints the waiting notice
  // when one is due. `whom`: "lock `X` held by pid 12 ..."; `holder`: its metadata, if read.
  Status check(os::TimePoint now, const std::string& whom, const Messages& messages,
               const LockMetadata* holder = nullptr);
  // When a sleeping waiter must wake up at the latest: the next notice or the deadline.
  os::TimePoint wake_at() const;
  // When this acquisition began to wait.
  os::TimePoint started() const { return start_; }

private:
  os::TimePoint start_;
  std::optional<os::TimePoint> deadline_;
  os::TimePoint next_notice_;
  bool verbose_;
  WaitRecord* record_;
};

// Everything one acquisition shares between its steps.
struct AcquireContext {
  const AcquireRequest& request;
  os::SignalHandling& signals;
  const Messages& messages;
  Observer observer;
  WaitBudget budget;
  // Whether this acquisition uses kernel locks: false with --kernel-locks off, and from the
  // moment `auto` found a filesystem without them.
  bool kernel_locks = true;
  // A waiter nobody can wake (no kernel lock of the holder to sleep on) looks again after
  // next_poll().
  std::chrono::milliseconds poll_interval{10};
  // Whether this run holds its turn (`NAME.lock+writer`, taken after a long wait that nothing
  // could wake: see acquire.cpp): everyone else waits for it, so it looks often.
  bool has_turn = false;
  // Whether termination signals are recorded rather than fatal while this run still waits: from
  // the moment it goes for its turn, a file it must let go of before it dies (a waiting build's
  // Ctrl+C would otherwise leave it for the next run to reclaim).
  bool signals_recorded = false;
  // The filesystem's clock as last read off a file we created there, and when (use
  // filesystem_now()).
  std::optional<std::int64_t> filesystem_ns_sample{};
  os::TimePoint filesystem_sampled_at{};
  // The permission bits our files get for the directory's other users (see
  // permissions_for_directory_users), read off the directory at the first file we create.
  std::optional<std::uint32_t> permissions_for_others{};

  // "Now" on the filesystem's clock, for ages: extrapolated from the last time read off a file
  // we created there (first read with a probe file). Nullopt only when nothing can be created.
  std::optional<std::int64_t> filesystem_now();
  void saw_filesystem_time(std::int64_t filesystem_ns);
  // The pause before a waiter that nobody can wake looks again: 10 ms at first, doubling up to
  // 250 ms (ccache retries every 10-50 ms; a lock held for minutes costs 4 looks a second); up
  // to 25 ms while the run holds its turn, since the lock stays free until it looks.
  std::chrono::milliseconds next_poll();
  // Takes the turn's pace: the next look soon, then every 25 ms at most.
  void took_turn();
  // From now on termination signals are recorded (see signals_recorded).
  void record_signals();
  // Sleeps until `deadline`, or until a signal is recorded (see first_recorded_signal()).
  void pause_until(os::TimePoint deadline);
  // The first termination signal recorded while waiting, if any (taken: the caller lets go of
  // what it holds and dies by it).
  std::optional<int> first_recorded_signal();

  GroupCleanup cleanup() const {
    return GroupCleanup{request.directory, request.name, request.stale_after, observer,
                        kernel_locks};
  }
};

// DIR/NAME.lock of the request, DIR/NAME.lock+writer (a queued writer, or someone's turn), and
// "lock `NAME`" for messages.
std::string lock_path(const AcquireRequest& request);
std::string writer_path(const AcquireRequest& request);
std::string what_of(const AcquireRequest& request);

// This process as a holder of `mode` (and `slots`).
LockMetadata my_metadata(const AcquireRequest& request, LockMode mode, int slots);

struct CreateAttempt {
  std::optional<HeldFile> file;       // set when we created the file
  std::int64_t filesystem_now_ns = 0; // the filesystem's clock, read off our temp file
  bool retry = false;                 // nothing learnt: try again at once
};

// One attempt to put a complete file at `path`: temporary file, kernel lock of `type`, metadata,
// link(). Signals are deferred throughout. When `completes_hold`, success switches `signals` to
// recording, since from then on the hold exists and a signal must not kill us before release.
Result<CreateAttempt> try_create(AcquireContext& context, const std::string& path,
                                 const LockMetadata& metadata, os::LockType type,
                                 bool completes_hold);

// Back to waiting after a hold that was just created had to be let go again (the group ended
// while we joined): termination signals kill again, and one recorded meanwhile kills now.
void resume_waiting(AcquireContext& context);

// `path` is not a regular file: buildlock will not touch it.
Error not_a_lock_file(const LockInspection& inspection);

// Removes `holder`, judged stale, with termination signals deferred (core/probe.h
// remove_inspected), and when it was removed and `what` is given, says so: "reclaimed stale
// <what> of <holder>: <why> [<reason>]" (worth a line in every build log: it explains why a build
// did not wait). Shared by waiters and by the group's last member sweeping dead members' files.
Result<bool> remove_stale(const LockInspection& holder, const std::optional<std::string>& what,
                          const Messages* messages);

// Reclaims `holder`, judged stale, and says so naming it `what` ("lock `X`", "slot 2 of lock
// `X`"); nullopt: quietly (an empty group's anchor is not news). Returns whether it was removed.
// When it was not, and removing it was up to a claim (claimed_removal.h), returns only after a
// pause (the next poll interval, within the budget): the claim in the way may be an abandoned one
// that ages out only after --stale-after. Callers then look at the name again before they create
// a file (a temporary file per look would be wasted while the name stands).
Result<bool> reclaim(AcquireContext& context, const LockInspection& holder,
                     const std::optional<std::string>& what);

// The pause after a stale `holder` could not be removed (see reclaim()); none when it was judged
// and removed under our own kernel lock, since then the name changed. `anchor`: a group's
// anchor, always removed by claim.
Status pause_after_unremoved(AcquireContext& context, const LockInspection& holder, bool anchor);

// The holder's metadata, if it was read (for WaitBudget::check).
const LockMetadata* held_by(const LockInspection& holder);

// "`X` held by pid 12 on host `h` (cmd), held for 3s (why)".
std::string describe_wait(const std::string& what, const LockInspection& holder);

// Sleeps until `holder` lets go (its kernel lock) or, for holders judged otherwise, until
// next_poll() (nothing can wake us when they leave) or until it would expire, at the latest
// until the budget's next wake-up. When the kernel lock was taken on
// waking, returns the descriptor still holding it (of `type`), else an empty one.
Result<os::Fd> sleep_on(AcquireContext& context, LockInspection& holder, os::LockType type);

} // namespace buildlock::core

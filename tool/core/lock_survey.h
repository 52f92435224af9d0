// One entry of a lock directory, judged for `status`, `clean` and `break`: its state, why, and
// who holds it. The judgment itself is `run`'s (core/probe.h inspect_lock_file, core/staleness.h
// judge); this file only turns an inspection, or the failure to inspect, into a report that never
// makes the whole command fail.
#pragma once

#include "core/duration.h"
#include "core/lock_listing.h"
#include "core/metadata.h"
#include "core/probe.h"
#include "core/staleness.h"
#include "os/open_files.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace buildlock::core {

enum class EntryState {
  held,    // someone alive holds it (or may: see the reason)
  stale,   // an orphan that `run` would reclaim and `clean` removes
  free,    // no such entry: nobody holds the lock
  invalid, // not a lock buildlock can judge: not a regular file, or unreadable
};

// "held", "stale", "free", "invalid": the `state` field of `status --json`.
const char* to_string(EntryState state);

// Reason codes of the states that the verdict of core/staleness.h does not cover.
inline constexpr const char* reason_no_lock_file = "no-lock-file";
inline constexpr const char* reason_not_regular_file = "not-a-regular-file";
inline constexpr const char* reason_unreadable = "unreadable";

// Everything every entry of one command is judged against, read once per command.
struct SurveyContext {
  std::string directory;
  Observer observer;
  Seconds stale_after{120};
  // The filesystem's clock for ages (see read_filesystem_clock); nullopt: this machine's clock.
  std::optional<std::int64_t> filesystem_now_ns;
  // This machine's wall clock, for the time since `acquired_at` (written on the holder's clock).
  std::int64_t local_now_ns = 0;
  // False with --kernel-locks off: never call flock, judge by metadata and heartbeat.
  bool kernel_locks = true;
};

struct LockReport {
  EntryKind kind = EntryKind::lock;
  std::string name; // the lock name (for a temporary file: the lock it was prepared for)
  std::string file_name;
  int slot = 0; // K, for a slot holder's file
  std::string path;
  EntryState state = EntryState::free;
  std::string reason;      // stable code: the verdict's (docs/protocol.md) or one of the above
  std::string explanation; // one human sentence
  std::string judged_by;   // the verdict's "kernel lock", "pid check", ...; empty when not judged
  std::optional<LockMetadata> metadata;
  std::string metadata_problem; // why a lock file that exists has no usable metadata
  // Since the file was last written or refreshed by its holder's heartbeat, on the filesystem's
  // clock: the age the staleness rules compare with --stale-after.
  std::optional<Seconds> age;
  // Since the metadata's `acquired_at`, on this machine's clock.
  std::optional<Seconds> held_for;
  // Held only by the age rule: stale after this much longer unless refreshed.
  std::optional<Seconds> stale_in;
  std::string holder; // "pid 12 on host `ci` (make) since ..." for messages
  // For a lock held by its kernel lock although its holder has exited: the processes that keep
  // the lock (a killed wrapper's command), the ones to stop. Empty otherwise, or where they
  // cannot be seen (another user's processes; an OS without the view, os/open_files.h).
  std::vector<os::ProcessWithFile> kept_by;
};

struct EntrySurvey {
  LockReport report;
  // The inspection behind the report, when the entry could be opened. While it lives it holds
  // the file open, and its kernel lock when the beacon was free: pass it to remove_inspected()
  // to remove a stale entry race-free, then let it go (a directory may hold more locks than this
  // process may keep open).
  std::optional<LockInspection> inspection;
};

// Inspects `entry` in `context.directory`. Never fails: an entry that cannot be inspected is
// reported as `invalid` with the reason.
EntrySurvey survey_entry(const SurveyContext& context, const DirectoryEntry& entry);

// A lock and each of its holder files, surveyed. Every inspection stays open (see EntrySurvey), so
// this is for one lock at a time (`break`), not for a whole directory.
struct GroupSurvey {
  EntrySurvey lock;
  std::vector<EntrySurvey> holders;

  // The reports of the files judged `held` (someone alive may be inside): the holder files, or
  // the lock file itself when no holder file is held (an exclusive lock, or a group whose
  // members' files are gone).
  std::vector<const LockReport*> live_holders() const;
  // The first entry that is `invalid`, if any.
  const LockReport* first_invalid() const;
  // Whether no file of the lock exists at all.
  bool all_free() const;
};

GroupSurvey survey_group(const SurveyContext& context, const LockGroup& group);

// The report for the result of inspecting `entry` at `path`.
LockReport report_for(const SurveyContext& context, const DirectoryEntry& entry,
                      const std::string& path, const Result<LockInspection>& inspected);

} // namespace buildlock::core

// The one decision that makes buildlock what it is: is this lock held by someone alive, or is it
// an orphan that may be reclaimed now? A pure function of what was observed, so that every
// branch is unit-tested without real processes (tests/unit/core_staleness_test.cpp).
//
// The argument for each rule is in docs/protocol.md ("Why it is safe").
#pragma once

#include "core/duration.h"
#include "core/metadata.h"
#include "os/process_identity.h"

#include <optional>
#include <string>

namespace buildlock::core {

enum class Beacon {
  held,        // someone holds the kernel lock on the lock file
  free,        // nobody does (the observer now holds it)
  unsupported, // the filesystem has no working kernel locks
};

// Without kernel locks, whether processes started by a holder whose own pid has exited still run:
// they carry the lock in BUILDLOCK_HELD. Looked at only when the pid alone would make the lock
// stale (buildlock killed with SIGKILL while its command runs on).
enum class CommandTree {
  not_looked,
  running, // a live process carries this lock in its environment
  gone,    // none does
  unknown, // processes of the holder's user could not be read (we are another, unprivileged user)
};

// What an observer saw of one lock file.
struct Observation {
  Beacon beacon = Beacon::held;
  const LockMetadata* metadata = nullptr; // null when missing or unusable
  os::PidProbe pid;                       // meaningful only for a holder in our PID namespace
  Seconds age{0};                         // since the last heartbeat, on the filesystem's clock
  CommandTree tree = CommandTree::not_looked;
};

// The observer's own machine.
struct Observer {
  std::string boot_id;
  std::string pid_namespace;
  std::string host;
  Seconds uptime{0};
};

enum class LockState { held, stale };

struct Verdict {
  LockState state = LockState::held;
  // Stable reason code, part of `status --json`: see docs/protocol.md.
  std::string reason;
  // One human sentence: why.
  std::string explanation;
  // How liveness was judged: "kernel lock", "pid check", "heartbeat", "age".
  std::string judged_by;
  // Held only by the age rule: becomes stale after this much longer (unless refreshed).
  std::optional<Seconds> stale_in;
};

// Is the holder on the observer's kernel, and in its PID namespace (so its pid can be checked)?
bool same_kernel(const LockMetadata& metadata, const Observer& observer);
bool same_pid_namespace(const LockMetadata& metadata, const Observer& observer);

Verdict judge(const Observation& observation, const Observer& observer, Seconds stale_after);

} // namespace buildlock::core

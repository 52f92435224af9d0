// Who holds a lock in etcd and who waits: a pure function of the lock's keys, in create-revision
// order (the order in which they arrived), so that every branch is unit-tested
// (tests/unit/etcd_queue_test.cpp).
//
//   exclusive  holds when no older key exists; waits for the newest older key.
//   shared     holds when no older key is exclusive; waits for the newest older exclusive key. A
//              writer's key is older than every reader that comes after it, so readers that
//              arrive later queue behind it: writers are not starved.
//   slots N    holds when fewer than N older keys exist; waits for any older key to go.
//
// A key whose metadata cannot be read counts as an exclusive holder (it is waited for, never
// shared with). Slots and the other modes never mix, nor slot counts: that is a conflict (exit
// 65), as for a lock directory.
#pragma once

#include "core/metadata.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace buildlock::etcd {

struct QueueEntry {
  std::string key;
  std::int64_t create_revision = 0;
  std::int64_t lease = 0;
  std::optional<core::LockMetadata> metadata; // nullopt: missing or unusable
};

enum class QueueState { holds, waits, conflict };

struct QueueDecision {
  QueueState state = QueueState::waits;
  // The older entries that keep this one waiting (indexes into the entries), oldest first.
  std::vector<std::size_t> blockers;
  // Waits: the entry whose deletion to watch for, or nullopt to watch every older key (slots).
  std::optional<std::size_t> watch;
  // Conflict: the entry that holds the lock in another mode or slot count.
  std::size_t conflicting = 0;
};

// `entries` in create-revision order; `own_revision` the create revision of the caller's key.
QueueDecision decide(const std::vector<QueueEntry>& entries, std::int64_t own_revision,
                     core::LockMode mode, int slots);

// The mode an entry counts as (exclusive when its metadata is unusable).
core::LockMode mode_of(const QueueEntry& entry);

} // namespace buildlock::etcd

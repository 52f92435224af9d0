#include "etcd/queue.h"

namespace buildlock::etcd {
namespace {

bool conflicts(const QueueEntry& entry, core::LockMode mode, int slots) {
  if (!entry.metadata) {
    return false;
  }
  const bool entry_slots = entry.metadata->mode == core::LockMode::slots;
  const bool our_slots = mode == core::LockMode::slots;
  return entry_slots != our_slots || (our_slots && entry.metadata->slots != slots);
}

} // namespace

core::LockMode mode_of(const QueueEntry& entry) {
  return entry.metadata ? entry.metadata->mode : core::LockMode::exclusive;
}

QueueDecision decide(const std::vector<QueueEntry>& entries, std::int64_t own_revision,
                     core::LockMode mode, int slots) {
  QueueDecision decision;
  // Only older entries: a newcomer in another mode is refused by its own decision, and must not
  // make an earlier arrival fail.
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].create_revision < own_revision && conflicts(entries[i], mode, slots)) {
      decision.state = QueueState::conflict;
      decision.conflicting = i;
      return decision;
    }
  }
  std::size_t older = 0;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const QueueEntry& entry = entries[i];
    if (entry.create_revision >= own_revision) {
      continue;
    }
    ++older;
    const bool blocks = mode == core::LockMode::exclusive || mode == core::LockMode::slots ||
                        mode_of(entry) != core::LockMode::shared;
    if (blocks) {
      decision.blockers.push_back(i);
    }
  }
  if (mode == core::LockMode::slots) {
    if (older < static_cast<std::size_t>(slots)) {
      decision.blockers.clear();
      decision.state = QueueState::holds;
    }
    return decision; // waits: watch every older key
  }
  if (decision.blockers.empty()) {
    decision.state = QueueState::holds;
    return decision;
  }
  decision.watch = decision.blockers.back();
  return decision;
}

} // namespace buildlock::etcd

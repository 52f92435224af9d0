#include "etcd/nesting.h"

#include "etcd/acquire.h"
#include "etcd/holder_check.h"
#include "etcd/key_layout.h"
#include "etcd/kv.h"
#include "etcd/lease.h"
#include "etcd/queue.h"

namespace buildlock::etcd {
Result<core::AncestorHold> ancestor_hold(const char* held_leases, const std::string& location,
                                         const std::string& name, core::LockMode mode) {
  if (held_leases == nullptr || *held_leases == '\0') {
    return core::AncestorHold::none;
  }
  auto parsed = parse_location(location);
  if (!parsed) {
    return parsed.error();
  }
  const std::string prefix = parsed->prefix;
  Client client(std::move(*parsed));
  auto range = range_prefix(client, lock_key_prefix(prefix, name), request_timeout(default_ttl));
  if (!range) {
    return range.error();
  }
  std::vector<QueueEntry> entries = queue_entries(range->kvs);
  std::erase_if(entries,
                [&](const QueueEntry& entry) { return !is_holder_key(prefix, name, entry.key); });
  for (const QueueEntry& entry : entries) {
    if (!names_lease(held_leases, entry.lease)) {
      continue;
    }
    const core::LockMode held_as = mode_of(entry);
    const int slots = entry.metadata ? entry.metadata->slots : 0;
    if (decide(entries, entry.create_revision, held_as, slots).state != QueueState::holds) {
      continue; // an ancestor still waiting: we are not inside its hold
    }
    return held_as == core::LockMode::exclusive || held_as == mode
               ? core::AncestorHold::covering
               : core::AncestorHold::conflicting;
  }
  return core::AncestorHold::none;
}

} // namespace buildlock::etcd

// etcd's key-value store, as the lock needs it: the keys under a prefix in creation order,
// creating a key that must not exist yet, deleting one.
#pragma once

#include "etcd/client.h"

#include <cstdint>
#include <string>
#include <vector>

namespace buildlock::etcd {

struct KeyValue {
  std::string key;
  std::string value;
  std::int64_t create_revision = 0;
  std::int64_t mod_revision = 0;
  std::int64_t lease = 0; // 0: attached to no lease
};

struct Range {
  std::vector<KeyValue> kvs; // sorted by create revision, oldest first
  std::int64_t revision = 0; // the store's revision when it was read: watch from revision + 1
};

// Every key that starts with `prefix`.
Result<Range> range_prefix(Client& client, const std::string& prefix, core::Seconds timeout);

// Creates `key` with `value`, attached to `lease`, in one transaction that fails if the key
// exists; returns its create revision.
Result<std::int64_t> create_key(Client& client, const std::string& key, const std::string& value,
                                std::int64_t lease, core::Seconds timeout);

// Replaces the value of `key`, keeping it attached to `lease`, if the key still has
// `create_revision` (never re-creating a key that was deleted); true when it was replaced. Its
// create revision, the queue order and the fencing token, stays as it was.
Result<bool> replace_value(Client& client, const std::string& key, std::int64_t create_revision,
                           const std::string& value, std::int64_t lease, core::Seconds timeout);

// Deletes `key` if it still has `create_revision` (not a newer key of the same name: etcd
// #22082); true when it was deleted.
Result<bool> delete_key(Client& client, const std::string& key, std::int64_t create_revision,
                        core::Seconds timeout);

// The end of the key range of `prefix` (the prefix with its last byte incremented).
std::string prefix_end(std::string prefix);

} // namespace buildlock::etcd

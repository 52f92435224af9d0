// The names of buildlock's keys in etcd (docs/protocol.md, "Locks in etcd"):
//
//   PREFIX/NAME/LEASE    one key per holder or waiter of lock NAME; LEASE is the id of the
//                        lease it is attached to (16 hex digits, as etcdctl prints it); the value
//                        is the lock file's metadata (core/metadata.h).
//
// Keys are never renamed or rewritten: a key's create revision is its place in the queue and the
// fencing token of its hold.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace buildlock::etcd {

// "PREFIX/NAME/": the start of every key of lock NAME.
std::string lock_key_prefix(const std::string& prefix, const std::string& name);

// "PREFIX/NAME/LEASE".
std::string holder_key(const std::string& prefix, const std::string& name, std::int64_t lease);

// "PREFIX/": the start of every key of every lock under PREFIX.
std::string all_locks_prefix(const std::string& prefix);

// Whether `key` is a holder key of lock NAME: "PREFIX/NAME/" and 16 lowercase hex digits, nothing
// more. The range of PREFIX/NAME/ also holds the keys of another location whose PREFIX is
// PREFIX/NAME (its lock X has keys PREFIX/NAME/X/LEASE): those are not this lock's.
bool is_holder_key(const std::string& prefix, const std::string& name, std::string_view key);

// NAME of a key "PREFIX/NAME/LEASE"; nullopt for a key not laid out so (not buildlock's).
std::optional<std::string> lock_name_of(const std::string& prefix, std::string_view key);

} // namespace buildlock::etcd

#include "etcd/key_layout.h"

#include "etcd/lease.h"

namespace buildlock::etcd {

std::string all_locks_prefix(const std::string& prefix) {
  return prefix.ends_with('/') ? prefix : prefix + "/";
}

std::string lock_key_prefix(const std::string& prefix, const std::string& name) {
  return all_locks_prefix(prefix) + name + "/";
}

std::string holder_key(const std::string& prefix, const std::string& name, std::int64_t lease) {
  return lock_key_prefix(prefix, name) + lease_hex(lease);
}

std::optional<std::string> lock_name_of(const std::string& prefix, std::string_view key) {
  const std::string start = all_locks_prefix(prefix);
  if (!key.starts_with(start)) {
    return std::nullopt;
  }
  key.remove_prefix(start.size());
  const auto slash = key.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == key.size() ||
      key.find('/', slash + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  return std::string(key.substr(0, slash));
}

} // namespace buildlock::etcd

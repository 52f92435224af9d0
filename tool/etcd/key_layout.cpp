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

bool is_holder_key(const std::string& prefix, const std::string& name, std::string_view key) {
  const std::string start = lock_key_prefix(prefix, name);
  if (!key.starts_with(start) || key.size() != start.size() + 16) {
    return false;
  }
  for (char c : key.substr(start.size())) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

std::optional<std::string> lock_name_of(const std::string& prefix, std::string_view key) {
  const std::string start = all_locks_prefix(prefix);
  if (!key.starts_with(start)) {
    return std::nullopt;
  }
  const std::string_view rest = key.substr(start.size());
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0) {
    return std::nullopt;
  }
  std::string name(rest.substr(0, slash));
  if (!is_holder_key(prefix, name, key)) {
    return std::nullopt;
  }
  return name;
}

} // namespace buildlock::etcd

#include "core/nesting.h"

#include "core/lock_name.h"
#include "os/file_lock.h"

#include <charconv>
#include <string_view>
#include <vector>

namespace buildlock::core {
namespace {

struct HeldEntry {
  int fd = -1;
  os::FileIdentity identity;
};

template <class T> bool parse_number(std::string_view text, T& out) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size();
}

std::optional<HeldEntry> parse_entry(std::string_view text) {
  const auto first = text.find(':');
  const auto second = text.find(':', first == std::string_view::npos ? first : first + 1);
  if (first == std::string_view::npos || second == std::string_view::npos) {
    return std::nullopt;
  }
  HeldEntry entry;
  if (!parse_number(text.substr(0, first), entry.fd) ||
      !parse_number(text.substr(first + 1, second - first - 1), entry.identity.device) ||
      !parse_number(text.substr(second + 1), entry.identity.inode) || entry.fd < 0) {
    return std::nullopt;
  }
  return entry;
}

std::vector<HeldEntry> parse_entries(std::string_view text) {
  std::vector<HeldEntry> entries;
  while (!text.empty()) {
    const auto comma = text.find(',');
    if (auto entry = parse_entry(text.substr(0, comma))) {
      entries.push_back(*entry);
    }
    if (comma == std::string_view::npos) {
      break;
    }
    text.remove_prefix(comma + 1);
  }
  return entries;
}

} // namespace

std::string held_locks_value(const char* inherited, int fd, os::FileIdentity identity) {
  std::string value = inherited != nullptr ? inherited : "";
  if (!value.empty()) {
    value += ',';
  }
  value += std::to_string(fd) + ":" + std::to_string(identity.device) + ":" +
           std::to_string(identity.inode);
  return value;
}

bool held_by_ancestor(const char* held_locks, const std::string& lock_path) {
  if (held_locks == nullptr || *held_locks == '\0') {
    return false;
  }
  auto current = os::lstat_entry(lock_path);
  if (!current || current->type != os::EntryType::regular) {
    return false;
  }
  for (const HeldEntry& entry : parse_entries(held_locks)) {
    if (!(entry.identity == current->identity)) {
      continue;
    }
    auto inherited = os::fstat_entry(entry.fd);
    if (!inherited || !(inherited->identity == current->identity)) {
      continue;
    }
    // Succeeds only if our open file description holds the kernel lock (re-locking is a no-op)
    // or nobody does; fails if a different open of the file holds it.
    auto attempt = os::try_lock(entry.fd);
    if (attempt && *attempt == os::LockAttempt::acquired) {
      return true;
    }
  }
  return false;
}

AncestorHold ancestor_hold(const char* held_locks, const std::string& directory,
                           const std::string& name, LockMode mode) {
  if (held_locks == nullptr || *held_locks == '\0') {
    return AncestorHold::none;
  }
  if (held_by_ancestor(held_locks, os::join_path(directory, lock_file_name(name)))) {
    return AncestorHold::covering;
  }
  // A shared or slotted hold is named by its holder file, whose name we do not know.
  auto names = os::list_directory(directory);
  if (!names) {
    return AncestorHold::none;
  }
  for (const std::string& file_name : *names) {
    auto holder = parse_holder_file_name(file_name);
    if (!holder || holder->lock_name != name || holder->kind == HolderFileKind::writer ||
        !held_by_ancestor(held_locks, os::join_path(directory, file_name))) {
      continue;
    }
    const bool same_kind = (holder->kind == HolderFileKind::shared && mode == LockMode::shared) ||
                           (holder->kind == HolderFileKind::slot && mode == LockMode::slots);
    return same_kind ? AncestorHold::covering : AncestorHold::conflicting;
  }
  return AncestorHold::none;
}

} // namespace buildlock::core

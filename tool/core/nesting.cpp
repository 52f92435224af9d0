#include "core/nesting.h"

#include "core/lock_name.h"
#include "core/metadata.h"
#include "core/probe.h"
#include "os/file_lock.h"
#include "os/process_identity.h"

#include <algorithm>
#include <charconv>
#include <string_view>
#include <vector>

namespace buildlock::core {
namespace {

struct HeldEntry {
  os::NativeHandle fd = -1;
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

bool held_locks_name(std::string_view held_locks, os::FileIdentity identity) {
  const auto entries = parse_entries(held_locks);
  return std::any_of(entries.begin(), entries.end(),
                     [&](const HeldEntry& entry) { return entry.identity == identity; });
}

namespace {

// The metadata of the lock file at `path`, if usable, read as any inspection reads it.
std::optional<LockMetadata> metadata_of(const std::string& path) {
  auto fd = os::open_regular_file(path);
  if (!fd) {
    return std::nullopt;
  }
  LockInspection inspection;
  inspection.fd = std::move(*fd);
  read_metadata(inspection);
  return std::move(inspection.metadata);
}

// False only when the holder says it keeps no kernel lock (then a free one proves nothing).
bool holder_took_kernel_lock(const std::string& lock_path) {
  auto metadata = metadata_of(lock_path);
  return !metadata || metadata->kernel_lock;
}

// Without a kernel lock to ask, the lock file's holder must be one of our ancestors: the same
// kernel and PID namespace, a pid on our chain of parents, started when the lock says.
bool holder_is_an_ancestor(const std::string& lock_path) {
  auto metadata = metadata_of(lock_path);
  const auto& local = os::local_identity();
  if (!metadata || !os::same_boot(metadata->boot_id, local.boot_id) ||
      metadata->pid_namespace != local.pid_namespace) {
    return false;
  }
  std::optional<std::int64_t> ancestor = os::parent_pid();
  for (int depth = 0; ancestor && *ancestor > 1 && depth < 64; ++depth) {
    if (*ancestor == metadata->pid) {
      const os::PidProbe probe = os::probe_pid(*ancestor);
      return probe.state == os::PidState::alive && (!metadata->start_time || !probe.start_time ||
                                                    *metadata->start_time == *probe.start_time);
    }
    ancestor = os::parent_of(*ancestor);
  }
  return false;
}

} // namespace

std::string held_locks_value(const char* inherited, os::NativeHandle fd,
                             os::FileIdentity identity) {
  std::string value = inherited != nullptr ? inherited : "";
  if (!value.empty()) {
    value += ',';
  }
  value += std::to_string(fd) + ":" + std::to_string(identity.device) + ":" +
           std::to_string(identity.inode);
  return value;
}

bool held_by_ancestor(const char* held_locks, const std::string& lock_path, bool kernel_locks) {
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
      // The descriptor was closed on the way (Python's subprocess closes every descriptor by
      // default) or reused: the hold can still be proven by the pid chain. Without this, a
      // nested run queues behind a writer that waits for our ancestor, which waits for us.
      if (holder_is_an_ancestor(lock_path)) {
        return true;
      }
      continue;
    }
    if (!kernel_locks) {
      return holder_is_an_ancestor(lock_path);
    }
    // Succeeds only if our open file description holds the kernel lock (re-locking is a no-op)
    // or nobody does; fails if a different open of the file holds it. A holder that took no
    // kernel lock (its metadata says so) is asked the other way.
    auto attempt = os::try_lock(entry.fd);
    if (attempt && *attempt == os::LockAttempt::unsupported) {
      return holder_is_an_ancestor(lock_path);
    }
    if (attempt && *attempt == os::LockAttempt::acquired) {
      return holder_took_kernel_lock(lock_path) || holder_is_an_ancestor(lock_path);
    }
  }
  return false;
}

AncestorHold ancestor_hold(const char* held_locks, const std::string& directory,
                           const std::string& name, LockMode mode, bool kernel_locks) {
  if (held_locks == nullptr || *held_locks == '\0') {
    return AncestorHold::none;
  }
  if (held_by_ancestor(held_locks, os::join_path(directory, lock_file_name(name)), kernel_locks)) {
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
        !held_by_ancestor(held_locks, os::join_path(directory, file_name), kernel_locks)) {
      continue;
    }
    const bool same_kind = (holder->kind == HolderFileKind::shared && mode == LockMode::shared) ||
                           (holder->kind == HolderFileKind::slot && mode == LockMode::slots);
    return same_kind ? AncestorHold::covering : AncestorHold::conflicting;
  }
  return AncestorHold::none;
}

} // namespace buildlock::core

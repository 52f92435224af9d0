#include "core/lock_listing.h"

#include "core/lock_name.h"
#include "os/filesystem.h"
#include "os/signals.h"

#include <algorithm>
#include <functional>
#include <map>
#include <tuple>

namespace buildlock::core {
namespace {

// The lock name under which `read_filesystem_clock` creates its probe file. Being a temporary
// file name, a probe left behind by a SIGKILL is judged (no metadata, then old) and removed by
// `clean` like any other.
constexpr std::string_view clock_probe_name = "buildlock-clock";

// Holder files in the order people read them (the order of EntryKind): shared holders, then
// slots by number (slot 10 after slot 9, not after slot 1), then a waiting writer.
bool holder_comes_first(const DirectoryEntry& a, const DirectoryEntry& b) {
  auto key = [](const DirectoryEntry& entry) {
    return std::make_tuple(static_cast<int>(entry.kind), entry.slot, std::cref(entry.file_name));
  };
  return key(a) < key(b);
}

} // namespace

const char* to_string(EntryKind kind) {
  switch (kind) {
  case EntryKind::lock:
    return "lock";
  case EntryKind::temp_file:
    return "temp";
  case EntryKind::shared_holder:
    return "shared";
  case EntryKind::slot_holder:
    return "slot";
  case EntryKind::writer:
    return "writer";
  }
  return "lock";
}

bool is_holder_file(EntryKind kind) {
  return kind == EntryKind::shared_holder || kind == EntryKind::slot_holder ||
         kind == EntryKind::writer;
}

std::optional<DirectoryEntry> classify_entry_name(const std::string& file_name) {
  if (auto name = lock_name_of_lock_file(file_name)) {
    return DirectoryEntry{EntryKind::lock, std::move(*name), file_name};
  }
  if (auto name = lock_name_of_temp_file(file_name)) {
    return DirectoryEntry{EntryKind::temp_file, std::move(*name), file_name};
  }
  if (auto name = lock_name_of_claim_file(file_name)) {
    // Left over like a temporary file when its remover was killed; judged by its own age.
    return DirectoryEntry{EntryKind::temp_file, std::move(*name), file_name};
  }
  if (auto holder = parse_holder_file_name(file_name)) {
    EntryKind kind = EntryKind::shared_holder;
    switch (holder->kind) {
    case HolderFileKind::shared:
      kind = EntryKind::shared_holder;
      break;
    case HolderFileKind::slot:
      kind = EntryKind::slot_holder;
      break;
    case HolderFileKind::writer:
      kind = EntryKind::writer;
      break;
    }
    return DirectoryEntry{kind, std::move(holder->lock_name), file_name, holder->slot};
  }
  return std::nullopt;
}

DirectoryEntry lock_entry(const std::string& name) {
  return DirectoryEntry{EntryKind::lock, name, lock_file_name(name)};
}

std::vector<LockGroup> group_by_lock(const std::vector<DirectoryEntry>& entries) {
  // Keyed by the `NAME.lock` file name, so that groups come in the order of the lock files.
  std::map<std::string, LockGroup> groups;
  for (const DirectoryEntry& entry : entries) {
    if (entry.kind == EntryKind::temp_file) {
      continue;
    }
    const std::string key = lock_file_name(entry.lock_name);
    auto [group, created] = groups.try_emplace(key);
    if (created) {
      group->second.lock = lock_entry(entry.lock_name);
    }
    if (entry.kind != EntryKind::lock) {
      group->second.holders.push_back(entry);
    }
  }
  std::vector<LockGroup> result;
  result.reserve(groups.size());
  for (auto& [key, group] : groups) {
    std::sort(group.holders.begin(), group.holders.end(), holder_comes_first);
    result.push_back(std::move(group));
  }
  return result;
}

LockGroup group_of(const std::string& name, const std::vector<DirectoryEntry>& entries) {
  LockGroup group{lock_entry(name), {}};
  for (const DirectoryEntry& entry : entries) {
    if (entry.lock_name == name && is_holder_file(entry.kind)) {
      group.holders.push_back(entry);
    }
  }
  std::sort(group.holders.begin(), group.holders.end(), holder_comes_first);
  return group;
}

Result<bool> lock_directory_exists(const std::string& directory) {
  auto info = os::stat_entry(directory);
  if (!info) {
    Error error = std::move(info.error()).with("lock directory");
    error.kind = ErrorKind::lock_directory;
    return error;
  }
  if (info->type == os::EntryType::missing) {
    return false;
  }
  if (info->type != os::EntryType::directory) {
    return Error{ErrorKind::lock_directory, "lock directory `" + directory + "` is " +
                                                os::describe(info->type) + ", not a directory"};
  }
  return true;
}

Result<DirectoryListing> list_lock_directory(const std::string& directory) {
  DirectoryListing listing;
  auto exists = lock_directory_exists(directory);
  if (!exists) {
    return exists.error();
  }
  if (!*exists) {
    return listing;
  }
  auto names = os::list_directory(directory);
  if (!names) {
    // Whatever the cause, the directory is unusable for this command: one exit status for it.
    Error error = std::move(names.error());
    error.kind = ErrorKind::lock_directory;
    return error;
  }
  listing.exists = true;
  listing.entries.reserve(names->size());
  for (const std::string& name : *names) {
    if (auto entry = classify_entry_name(name)) {
      listing.entries.push_back(std::move(*entry));
    }
  }
  std::sort(
      listing.entries.begin(), listing.entries.end(),
      [](const DirectoryEntry& a, const DirectoryEntry& b) { return a.file_name < b.file_name; });
  return listing;
}

std::optional<std::int64_t> read_filesystem_clock(const std::string& directory) {
  // Signals wait until the probe is gone again, so an interrupted `status` leaves nothing behind.
  os::DeferSignals defer;
  const std::string probe_path =
      os::join_path(directory, temp_file_name(clock_probe_name, random_token()));
  auto probe = os::create_new_file(probe_path);
  if (!probe) {
    return std::nullopt;
  }
  auto info = os::fstat_entry(*probe);
  (void)os::remove_file(probe_path);
  if (!info) {
    return std::nullopt;
  }
  return info->mtime_ns;
}

} // namespace buildlock::core

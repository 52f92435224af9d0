// What a lock directory holds, as `status`, `clean` and `break` see it: lock files, the holder
// files of shared and slotted locks, and buildlock's own temporary files. Every other name belongs
// to someone else and is never listed or touched.
#pragma once

#include "os/result.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace buildlock::core {

enum class EntryKind {
  lock,          // `NAME.lock`: an exclusive lock, or the anchor of a shared or slotted one
  temp_file,     // `.NAME.<16 hex>.tmp`: a lock being prepared, or left behind by a killed run
  shared_holder, // `NAME.lock+shared.<16 hex>`: one holder of a shared lock
  slot_holder,   // `NAME.lock+slot.<K>`: the holder of slot K of a slotted lock
  writer,        // `NAME.lock+writer`: an exclusive run waiting for the shared holders to leave
};

// "lock", "temp", "shared", "slot", "writer": the `kind` field of `status --json`.
const char* to_string(EntryKind kind);

// Whether entries of this kind are the holder files beside a `NAME.lock` (core/lock_name.h).
bool is_holder_file(EntryKind kind);

struct DirectoryEntry {
  EntryKind kind = EntryKind::lock;
  std::string lock_name; // the lock it is or belongs to, or the lock a temporary file was for
  std::string file_name; // the name in the directory
  int slot = 0;          // K, for a slot holder
};

// One lock and its holder files, as `status` and `break` show and handle it. `lock` is the entry
// `NAME.lock` whether or not it exists (a missing one is judged `free`); `holders` are the holder
// files of NAME that exist: shared holders by file name, then slots by number, then the writer.
struct LockGroup {
  DirectoryEntry lock;
  std::vector<DirectoryEntry> holders;
};

struct DirectoryListing {
  bool exists = false; // a missing directory holds no locks; it is not an error
  std::vector<DirectoryEntry> entries;
};

// Whether `directory` exists; an error (ErrorKind::lock_directory) when it exists but is not a
// directory or cannot be looked at.
Result<bool> lock_directory_exists(const std::string& directory);

// The lock files, holder files and temporary files in `directory`, sorted by file name. Fails only
// when the directory exists but cannot be listed (ErrorKind::lock_directory for permissions, not a
// directory, ...).
Result<DirectoryListing> list_lock_directory(const std::string& directory);

// Classifies one directory entry name; nullopt for names buildlock never creates.
std::optional<DirectoryEntry> classify_entry_name(const std::string& file_name);

// The entry `NAME.lock` of lock `name` (not checked: validate the name first).
DirectoryEntry lock_entry(const std::string& name);

// The locks among `entries` (sorted by file name, as listed) with their holder files, in the
// order of their `NAME.lock` file names. A lock with holder files but no `NAME.lock` is a group
// too. Temporary files are left out: they belong to no hold.
std::vector<LockGroup> group_by_lock(const std::vector<DirectoryEntry>& entries);

// The group of lock `name` among `entries`: its `NAME.lock` and whichever holder files exist.
LockGroup group_of(const std::string& name, const std::vector<DirectoryEntry>& entries);

// "Now" on the clock of the filesystem holding `directory`: the modification time of a file
// just created there, so that lock ages are measured on the same clock that set the lock files'
// times (the server's, on NFS). Nullopt when nothing can be created there (read-only or missing
// directory): callers fall back to this machine's wall clock.
std::optional<std::int64_t> read_filesystem_clock(const std::string& directory);

} // namespace buildlock::core

// What a lock directory holds, as `status` and `clean` see it: lock files and buildlock's own
// temporary files. Every other name belongs to someone else and is never listed or touched.
#pragma once

#include "os/result.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace buildlock::core {

enum class EntryKind {
  lock,      // `NAME.lock`
  temp_file, // `.NAME.<16 hex>.tmp`: a lock being prepared, or left behind by a killed run
};

// "lock", "temp": the `kind` field of `status --json`.
const char* to_string(EntryKind kind);

struct DirectoryEntry {
  EntryKind kind = EntryKind::lock;
  std::string lock_name; // the lock it is, or the lock a temporary file was prepared for
  std::string file_name; // the name in the directory
};

struct DirectoryListing {
  bool exists = false; // a missing directory holds no locks; it is not an error
  std::vector<DirectoryEntry> entries;
};

// Whether `directory` exists; an error (ErrorKind::lock_directory) when it exists but is not a
// directory or cannot be looked at.
Result<bool> lock_directory_exists(const std::string& directory);

// The lock files and temporary files in `directory`, sorted by file name. Fails only when the
// directory exists but cannot be listed (ErrorKind::lock_directory for permissions, not a
// directory, ...).
Result<DirectoryListing> list_lock_directory(const std::string& directory);

// Classifies one directory entry name; nullopt for names buildlock never creates.
std::optional<DirectoryEntry> classify_entry_name(const std::string& file_name);

// "Now" on the clock of the filesystem holding `directory`: the modification time of a file
// just created there, so that lock ages are measured on the same clock that set the lock files'
// times (the server's, on NFS). Nullopt when nothing can be created there (read-only or missing
// directory): callers fall back to this machine's wall clock.
std::optional<std::int64_t> read_filesystem_clock(const std::string& directory);

} // namespace buildlock::core

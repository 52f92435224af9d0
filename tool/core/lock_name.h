// Lock names and the file names they stand for in the lock directory.
//
// A lock name is `[A-Za-z0-9][A-Za-z0-9._-]{0,127}`: it can never be empty, start with a dot, or
// contain a slash or NUL, so `DIR/<name>.lock` is always a direct child of DIR and never a hidden
// file. Temporary files, which are hidden, can therefore never collide with a lock.
#pragma once

#include "os/result.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace buildlock::core {

inline constexpr std::size_t max_lock_name_length = 128;
inline constexpr std::string_view lock_file_suffix = ".lock";
inline constexpr std::string_view temp_file_suffix = ".tmp";
inline constexpr std::string_view claim_file_suffix = ".claim";

// Ok, or a usage error that says what is wrong with `name`.
Status validate_lock_name(std::string_view name);

// "<name>.lock".
std::string lock_file_name(std::string_view name);

// ".<name>.<random>.tmp": where a lock is prepared before it is linked into place.
std::string temp_file_name(std::string_view name, std::string_view random_part);

// ".<name>.<inode as 16 lowercase hex digits>.claim": a remover's claim on one file of lock
// `name` (core/claimed_removal.h). The same file always gets the same claim name.
std::string claim_file_name(std::string_view name, std::uint64_t inode);

// The lock name of a directory entry, if the entry is a lock file (`<valid name>.lock`).
std::optional<std::string> lock_name_of_lock_file(std::string_view file_name);

// Shared and slotted locks have one file per holder beside `NAME.lock` (docs/protocol.md, "Files
// in the lock directory"). Their names contain `+`, which no lock name can, so they never collide
// with another lock's file, and versions that know nothing of them never touch them.
inline constexpr std::string_view holder_file_separator = "+";
inline constexpr int max_slots = 64;

enum class HolderFileKind {
  shared, // "NAME.lock+shared.<16 hex>": one shared holder
  slot,   // "NAME.lock+slot.<K>", 1 <= K <= max_slots: the holder of slot K
  writer, // "NAME.lock+writer": an exclusive run waiting for shared holders to leave
};

struct HolderFile {
  std::string lock_name;
  HolderFileKind kind = HolderFileKind::shared;
  int slot = 0; // for `slot`
};

std::string shared_holder_file_name(std::string_view name, std::string_view random_part);
std::string slot_file_name(std::string_view name, int slot);
std::string writer_file_name(std::string_view name);

// What a directory entry is, if it is one of the files above for a valid lock name.
std::optional<HolderFile> parse_holder_file_name(std::string_view file_name);

// The lock name of a directory entry, if the entry is a buildlock temporary file.
std::optional<std::string> lock_name_of_temp_file(std::string_view file_name);
// The lock name of a directory entry, if the entry is a remover's claim.
std::optional<std::string> lock_name_of_claim_file(std::string_view file_name);

// 16 random hex digits for temporary file names.
std::string random_token();

} // namespace buildlock::core

// Lock names and the file names they stand for in the lock directory.
//
// A lock name is `[A-Za-z0-9][A-Za-z0-9._-]{0,127}`: it can never be empty, start with a dot, or
// contain a slash or NUL, so `DIR/<name>.lock` is always a direct child of DIR and never a hidden
// file. Temporary files, which are hidden, can therefore never collide with a lock.
#pragma once

#include "os/result.h"

#include <optional>
#include <string>
#include <string_view>

namespace buildlock::core {

inline constexpr std::size_t max_lock_name_length = 128;
inline constexpr std::string_view lock_file_suffix = ".lock";
inline constexpr std::string_view temp_file_suffix = ".tmp";

// Ok, or a usage error that says what is wrong with `name`.
Status validate_lock_name(std::string_view name);

// "<name>.lock".
std::string lock_file_name(std::string_view name);

// ".<name>.<random>.tmp": where a lock is prepared before it is linked into place.
std::string temp_file_name(std::string_view name, std::string_view random_part);

// The lock name of a directory entry, if the entry is a lock file (`<valid name>.lock`).
std::optional<std::string> lock_name_of_lock_file(std::string_view file_name);

// The lock name of a directory entry, if the entry is a buildlock temporary file.
std::optional<std::string> lock_name_of_temp_file(std::string_view file_name);

// 16 random hex digits for temporary file names.
std::string random_token();

} // namespace buildlock::core

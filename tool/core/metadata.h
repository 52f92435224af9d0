// The metadata inside every lock file: who holds the lock. Part of the public on-disk protocol
// (docs/protocol.md); other versions of buildlock on other hosts read it.
//
// Compatibility rule: fields may be added without changing `version`; a change that older readers
// would misread bumps `version`, and a reader that sees a version it does not know treats the
// metadata as unusable (judging the lock by its kernel lock and its age only).
#pragma once

#include "os/result.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace buildlock::core {

inline constexpr std::string_view metadata_format = "buildlock";
// Version 1: exclusive locks. Version 2 adds the modes `shared` and `slots` (with `slots`), which a
// version-1 reader would take for an exclusive lock with one holder. Exclusive lock files are still
// written as version 1, byte for byte as before, so that older buildlocks read them fully.
inline constexpr int metadata_version_exclusive = 1;
inline constexpr int metadata_version_modes = 2;
// Metadata larger than this is not read at all: a lock file is never that big, so it is garbage.
inline constexpr std::size_t max_metadata_bytes = std::size_t{64} * 1024;

enum class LockMode { exclusive, shared, slots };

// "exclusive", "shared", "slots".
std::string_view mode_name(LockMode mode);

struct LockMetadata {
  LockMode mode = LockMode::exclusive;
  int slots = 0; // 1..max_slots when mode is `slots`, else 0
  std::int64_t pid = 0;
  // Opaque process start time (Linux: clock ticks since boot; macOS: microseconds since the
  // epoch). Only comparable with another value from the same boot_id.
  std::optional<std::uint64_t> start_time;
  std::string boot_id;
  std::string pid_namespace; // empty where the OS has none
  std::string host;
  std::string user;
  std::optional<std::int64_t> uid;
  std::vector<std::string> command;
  std::string acquired_at; // ISO 8601 UTC, holder's clock; for people only
  // False when the holder does not keep a kernel lock on the file (--kernel-locks off, or a
  // filesystem without them): then a free kernel lock says nothing about it. Written only when
  // false, so that files of holders with kernel locks stay as they always were.
  bool kernel_lock = true;
};

std::string serialize_metadata(const LockMetadata& metadata);

// The metadata in `bytes`, or an error whose message says why it is unusable ("empty",
// "not JSON: ...", "field `pid` is not an integer", "written by protocol version 7", ...).
Result<LockMetadata> parse_metadata(std::string_view bytes);

} // namespace buildlock::core

// The two tools under comparison, and the lock directories they work in. A setup is one pair of
// directories (one per tool) that already holds `unrelated` other locks, so that every figure can
// be measured against the number of locks in the directory.
#pragma once

#include "process.h"

#include <array>
#include <string>
#include <vector>

namespace buildlock::bench {

enum ToolIndex : int { buildlock_tool = 0, flock_tool = 1 };

// How a run holds its lock: exclusively (the default), shared (`buildlock run --shared`,
// `flock -s`), or as one of `slot_count` holders (`buildlock run --slots N`; flock(1) has no such
// mode).
struct HoldMode {
  enum Kind { exclusive, shared, slots };
  Kind kind = exclusive;
  int slot_count = 0;
};

struct Tool {
  ToolIndex index = buildlock_tool;
  std::string label;      // "buildlock" or "flock(1)"
  std::string executable; // absolute path
  std::string directory;  // where this tool's locks live
  // Where its messages go while contended ("waiting for lock", "reclaimed stale lock"): out of
  // the benchmark's own output, and kept for when something fails.
  std::string message_log;

  // The command line that runs `command` while holding lock `lock` as `mode` says. Throws
  // BenchError for a mode the tool does not have.
  std::vector<std::string> run(const std::string& lock, const std::vector<std::string>& command,
                               HoldMode mode = {}) const;
  // The file whose kernel lock waiters park on.
  std::string lock_path(const std::string& lock) const;
  // Spawn options that send its messages to `message_log`.
  SpawnOptions logged(SpawnOptions options = {}) const;
};

struct Setup {
  int unrelated = 0;
  std::array<Tool, 2> tools;
  std::string scratch; // for record files
};

// Alternation: even repetitions run buildlock first, odd ones flock(1) first.
std::array<ToolIndex, 2> order_for(int repetition);

// Makes `directory` exist and be empty.
void fresh_directory(const std::string& directory);

// Fills buildlock's directory with `count` orphaned lock files ("unrelated-<i>.lock", copies of
// `orphan_bytes`) and flock(1)'s with `count` lock files ("unrelated-<i>"), which flock(1) leaves
// behind by design.
void add_unrelated_locks(const Setup& setup, int count, const std::string& orphan_bytes);

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& bytes);

} // namespace buildlock::bench

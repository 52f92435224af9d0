// One variant's chaos from start to verdict: workers and killer on their threads, then the end of
// every process, then the checks of the log, the wrappers' messages and the lock directory.
#pragma once

#include "killer.h"
#include "leftovers.h"
#include "log_check.h"
#include "options.h"
#include "users.h"
#include "wrapper_messages.h"

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace buildlock::chaos {

struct VariantResult {
  Variant variant;
  KernelLocks kernel_locks;
  std::uint64_t seed = 0;
  std::string folder; // the arena, kept when a violation was found
  std::chrono::steady_clock::duration elapsed{};
  int runs = 0;
  std::map<std::string, int> endings;
  std::map<std::string, int> refusals; // exit 65 for mixing kernel-lock settings (mixed only)
  KillReport kills;
  LogReport log;
  MessagesReport messages;
  LeftoversReport leftovers;
  std::vector<std::string> run_violations; // hangs, unexpected ends, commands that outlived
  // Too little activity for the verdict to mean anything (--min-hits): a kind of target or signal
  // the killer never reached, no reclaim, no critical section.
  std::vector<std::string> activity_violations;
  bool all_processes_ended = false;

  int violation_count() const;
  std::vector<std::string> violations() const;
};

// `users`: --users, prepared (nullptr: every worker as this process's user).
VariantResult run_variant(const Options& options, Variant variant, KernelLocks kernel_locks,
                          std::uint64_t seed, const Users* users);

} // namespace buildlock::chaos

// What one acquisition waited for, kept only when a trace is written (`run --trace`,
// BUILDLOCK_TRACE): whom it waited behind and what it reclaimed. Filled by the waiting steps of
// every store (core/acquire_steps.h WaitBudget, etcd/acquire.cpp) through a pointer that is null
// when no trace is written, so that an untraced run neither allocates nor reads more metadata.
#pragma once

#include "core/metadata.h"

#include <cstdint>
#include <string>
#include <vector>

namespace buildlock::core {

struct WaitRecord {
  struct Blocker {
    std::string text;     // as the waiting notice says it, without the age that changes
    std::int64_t pid = 0; // 0: unknown (a group counted by its files, unreadable metadata)
    std::string host;
    std::string command;
  };
  // A waiter may look hundreds of times: the first few distinct holders are enough to say whom.
  static constexpr std::size_t max_blockers = 8;
  static constexpr std::size_t max_reclaims = 16;

  std::vector<Blocker> behind;
  std::vector<std::string> reclaims; // "reclaimed stale ..." as the notice says it

  // `whom`: "lock `X` held by pid 12 on host `h` (cmd), held for 3s (why)"; `holder`: its
  // metadata when it was read.
  void saw_holder(const std::string& whom, const LockMetadata* holder);
  void reclaimed(const std::string& what);
};

} // namespace buildlock::core

// Worker: one of the W contenders. It runs `buildlock run ... LOCK -- chaos_holder ...` again and
// again, each wrapper in a process group of its own, and judges how each run ended. The killer
// reaches the current wrapper only through with_wrapper(), which guarantees that the pid is not
// reaped (so not reused) while the killer uses it.
#pragma once

#include "arena.h"
#include "options.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <sys/types.h>
#include <vector>

namespace buildlock::chaos {

struct WorkerReport {
  int runs = 0;
  std::map<std::string, int> endings; // "exit 0", "SIGKILL", ... -> how many runs ended so
  std::vector<std::string> violations;
};

class Worker {
public:
  // `snapshot` describes the lock directory at the moment a run is found hung.
  Worker(int index, const Options& options, Variant variant, const Arena& arena, std::uint64_t seed,
         std::function<std::string()> snapshot);

  // Runs until the number of runs is done or `stop_at` has passed (whichever the options ask
  // for). Called on the worker's own thread.
  void run(std::optional<std::chrono::steady_clock::time_point> stop_at);

  // Calls action(pid) with the current wrapper's pid, which stays unreaped meanwhile; false when
  // no wrapper is running.
  bool with_wrapper(const std::function<void(pid_t)>& action);

  const WorkerReport& report() const { return report_; }

private:
  std::vector<std::string> wrapper_argv(int run);
  void run_once(int run);
  std::string stderr_since(std::uintmax_t offset) const;

  int index_;
  const Options& options_;
  Variant variant_;
  const Arena& arena_;
  std::mt19937_64 random_;
  std::function<std::string()> snapshot_;
  std::mutex mutex_;
  std::optional<pid_t> wrapper_; // set while running and unreaped
  WorkerReport report_;
};

} // namespace buildlock::chaos

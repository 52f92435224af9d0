// Worker: one of the W contenders. It runs `buildlock run ... LOCK -- sh -c '"$@"; exit $?' sh
// chaos_holder ...` again and again (a command tree: the shell, chaos_holder, and its child in a
// session of its own), each wrapper in a process group of its own, and judges how each run ended.
// The killer reaches the current wrapper only through with_wrapper(), which guarantees that the pid
// is not reaped (so not reused) while the killer uses it.
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
  // Runs refused with exit 65 and one error line for mixing kernel-lock settings on one lock
  // (the mixed setting only): their error lines, by their first words.
  std::map<std::string, int> refusals;
  std::vector<std::string> violations;
};

class Worker {
public:
  // `snapshot` describes the lock directory at the moment a run is found hung.
  Worker(int index, const Options& options, Variant variant, KernelLocks kernel_locks,
         const Arena& arena, std::uint64_t seed, std::function<std::string()> snapshot);

  // Runs until the number of runs is done or `stop_at` has passed (whichever the options ask
  // for); with a number of runs, on while `floors_met()` says no, up to --max-runs. Called on the
  // worker's own thread.
  void run(std::optional<std::chrono::steady_clock::time_point> stop_at,
           const std::function<bool()>& floors_met);

  // Calls action(pid) with the current wrapper's pid, which stays unreaped meanwhile; false when
  // no wrapper is running.
  bool with_wrapper(const std::function<void(pid_t)>& action);

  const WorkerReport& report() const { return report_; }
  // This worker's runs use `--kernel-locks off`.
  bool kernel_locks_off() const { return kernel_locks_off_; }

private:
  std::vector<std::string> wrapper_argv(int run);
  void run_once(int run);
  std::string stderr_since(std::uintmax_t offset) const;
  // A mixed-setting refusal: exit 65 and exactly one `buildlock: error:` line, which is then moved
  // from the worker's stderr file to the report (the scan of that file takes it for unexpected).
  bool accept_refusal(int status, std::uintmax_t stderr_offset);

  int index_;
  const Options& options_;
  Variant variant_;
  KernelLocks kernel_locks_;
  bool kernel_locks_off_;
  const Arena& arena_;
  std::mt19937_64 random_;
  std::function<std::string()> snapshot_;
  std::mutex mutex_;
  std::optional<pid_t> wrapper_; // set while running and unreaped
  WorkerReport report_;
};

} // namespace buildlock::chaos

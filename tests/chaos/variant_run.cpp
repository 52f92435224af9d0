#include "variant_run.h"

#include "arena.h"
#include "processes.h"
#include "worker.h"

#include <csignal>
#include <exception>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

namespace buildlock::chaos {
namespace {

int total(const std::map<std::string, int>& counts) {
  int sum = 0;
  for (const auto& entry : counts) {
    sum += entry.second;
  }
  return sum;
}

// What the floors are judged by: at the end, or so far while the chaos runs.
struct Activity {
  KillReport kills;
  int entered = 0;
  int cut_short = 0;
  int reclaims = 0;
};

// A verdict of "no overlap" means little when the killer hit nothing, or no lock was ever left
// to reclaim, or no holder was ever killed inside: each kind of signal and of target must have
// been delivered to a live process, sections entered and cut short by a signal, and stale locks
// reclaimed, at least --min-hits times each. A killer that hits nothing fails every floor.
std::vector<std::string> activity_violations(const Options& options, const Activity& activity) {
  std::vector<std::string> violations;
  const auto require = [&](int seen, const std::string& what) {
    if (seen < options.min_hits) {
      violations.push_back("too little activity: " + std::to_string(seen) + " " + what +
                           " (--min-hits " + std::to_string(options.min_hits) + ")");
    }
  };
  for (Target target : all_targets) {
    int seen = 0;
    for (const auto& [key, count] : activity.kills.delivered) {
      seen += key.second == target ? count : 0;
    }
    require(seen, "signals delivered to a " + to_string(target));
  }
  for (int signal : {SIGKILL, SIGINT, SIGTERM, SIGSTOP}) {
    int seen = 0;
    for (const auto& [key, count] : activity.kills.delivered) {
      seen += key.first == signal ? count : 0;
    }
    require(seen, signal_name(signal) + " delivered");
  }
  require(activity.entered, "critical sections entered");
  require(activity.cut_short, "critical sections cut short by a signal");
  require(activity.reclaims, "stale locks reclaimed");
  return violations;
}

} // namespace

int VariantResult::violation_count() const {
  return log.live_overlaps + log.interval_overlaps + log.undercounts + log.malformed +
         messages.unexpected +
         static_cast<int>(leftovers.violations.size() + run_violations.size() +
                          activity_violations.size());
}

std::vector<std::string> VariantResult::violations() const {
  std::vector<std::string> all = activity_violations;
  all.insert(all.end(), run_violations.begin(), run_violations.end());
  all.insert(all.end(), log.violations.begin(), log.violations.end());
  all.insert(all.end(), messages.violations.begin(), messages.violations.end());
  all.insert(all.end(), leftovers.violations.begin(), leftovers.violations.end());
  return all;
}

VariantResult run_variant(const Options& options, Variant variant, KernelLocks kernel_locks,
                          std::uint64_t seed, const Users* users) {
  VariantResult result;
  result.variant = variant;
  result.kernel_locks = kernel_locks;
  result.seed = seed;
  Arena arena = make_arena(options.work_dir, variant, kernel_locks, options.etcd, users);
  result.folder = arena.folder;
  PipeFds liveness = make_pipe();
  arena.liveness_fd = liveness.write_end.get();

  // One stream of seeds for everything random in this variant: the same seed makes the same
  // choices (the timing, and so what each signal hits, still differs from run to run).
  std::seed_seq sequence{seed, static_cast<std::uint64_t>(variant),
                         static_cast<std::uint64_t>(kernel_locks)};
  std::vector<std::uint64_t> seeds(static_cast<std::size_t>(options.workers) + 1);
  sequence.generate(seeds.begin(), seeds.end());

  std::vector<std::unique_ptr<Worker>> workers;
  workers.reserve(static_cast<std::size_t>(options.workers));
  for (int i = 0; i < options.workers; ++i) {
    workers.push_back(std::make_unique<Worker>(
        i, options, variant, kernel_locks, arena, seeds[static_cast<std::size_t>(i)],
        [&options, &arena] { return describe_lock_directory(options, arena); }));
  }
  Killer killer(workers, options, seeds.back());
  std::vector<std::string> stderr_paths;
  stderr_paths.reserve(static_cast<std::size_t>(options.workers));
  for (int i = 0; i < options.workers; ++i) {
    stderr_paths.push_back(arena.stderr_path(i));
  }
  // Asked by each worker after its --runs, and after each run beyond them: the floors are met by
  // construction (the runs go on until they are, up to --max-runs), not by the luck of a fixed
  // number of runs on a machine of unknown speed. The counts used here never exceed the final ones.
  std::mutex floors_mutex;
  bool floors_met = false;
  const auto floors_met_so_far = [&] {
    const std::lock_guard lock(floors_mutex);
    if (!floors_met && !options.sabotage) {
      const LiveSections sections = count_live_sections(arena.log);
      floors_met =
          activity_violations(options, {killer.snapshot(), sections.entered, sections.cut_short,
                                        count_reclaim_notices(stderr_paths)})
              .empty();
    }
    return floors_met || options.sabotage;
  };

  const auto started = std::chrono::steady_clock::now();
  std::optional<std::chrono::steady_clock::time_point> stop_at;
  if (options.duration_s) {
    stop_at = started + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>(*options.duration_s));
  }
  std::vector<std::exception_ptr> failures(workers.size() + 1);
  std::thread killer_thread([&] {
    try {
      killer.run();
    } catch (...) {
      failures.back() = std::current_exception();
    }
  });
  std::vector<std::thread> worker_threads;
  for (std::size_t i = 0; i < workers.size(); ++i) {
    worker_threads.emplace_back([&, i] {
      try {
        workers[i]->run(stop_at, floors_met_so_far);
      } catch (...) {
        failures[i] = std::current_exception();
      }
    });
  }
  for (std::thread& thread : worker_threads) {
    thread.join();
  }
  killer.stop();
  killer_thread.join();
  for (const std::exception_ptr& failure : failures) {
    if (failure) {
      std::rethrow_exception(failure);
    }
  }

  // Orphaned commands of killed wrappers may still be inside; every one was resumed, so each
  // ends within its hold time.
  liveness.write_end.reset();
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>(options.run_deadline_s));
  result.all_processes_ended = wait_for_end_of_file(liveness.read_end, deadline);
  result.elapsed = std::chrono::steady_clock::now() - started;
  if (!result.all_processes_ended) {
    result.run_violations.push_back("hang: a wrapper or command was still running " +
                                    std::to_string(options.run_deadline_s) +
                                    " s after the last run ended; lock directory then:\n" +
                                    describe_lock_directory(options, arena));
  }

  for (const auto& worker : workers) {
    const WorkerReport& report = worker->report();
    result.runs += report.runs;
    for (const auto& [ending, count] : report.endings) {
      result.endings[ending] += count;
    }
    for (const auto& [refusal, count] : report.refusals) {
      result.refusals[refusal] += count;
    }
    result.run_violations.insert(result.run_violations.end(), report.violations.begin(),
                                 report.violations.end());
  }
  result.kills = killer.report();
  result.log = check_log(arena.log, variant, options.slots);
  result.messages = scan_wrapper_messages(stderr_paths);
  if (result.all_processes_ended) {
    result.leftovers = check_leftovers(options, arena);
  }
  if (!options.sabotage) {
    result.activity_violations =
        activity_violations(options, {result.kills, result.log.entered, result.log.cut_short,
                                      total(result.messages.reclaims)});
    if (!result.activity_violations.empty() && !options.duration_s) {
      result.activity_violations.push_back(
          "too little activity after " + std::to_string(result.runs) +
          " runs: each worker ran on past --runs " + std::to_string(options.runs_per_worker) +
          " up to --max-runs " + std::to_string(*options.max_runs_per_worker) +
          " while a floor was unmet");
    }
  }
  const int refused = total(result.refusals);
  if (refused > options.max_refusals) {
    result.run_violations.push_back(
        std::to_string(refused) + " runs refused with exit 65 (--max-refusals " +
        std::to_string(options.max_refusals) +
        "): buildlock makes mixed kernel-lock settings safe rather than refusing them "
        "(docs/protocol.md), and a refused run tests nothing");
  }
  return result;
}

} // namespace buildlock::chaos

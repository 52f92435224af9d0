#include "options.h"

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <map>

namespace buildlock::chaos {

std::string to_string(Variant variant) {
  switch (variant) {
  case Variant::exclusive:
    return "exclusive";
  case Variant::shared:
    return "shared";
  case Variant::slotted:
    return "slotted";
  }
  return "?";
}

std::string to_string(KernelLocks kernel_locks) {
  switch (kernel_locks) {
  case KernelLocks::automatic:
    return "auto";
  case KernelLocks::off:
    return "off";
  case KernelLocks::mixed:
    return "mixed";
  }
  return "?";
}

Options parse_options(int argc, char** argv) {
  Options options;
  CLI::App app{"buildlock_chaos: W workers hammer one lock through `buildlock run` while a killer "
               "sends SIGKILL, SIGINT, SIGTERM and SIGSTOP/SIGCONT to wrappers, commands and "
               "process groups; checks that the lock never lets too many in, that nothing hangs "
               "and that only reclaimable entries are left. Exit 0: no violation; 1: violations "
               "(listed); 2: usage; 3: the test itself failed."};
  app.add_option("--buildlock", options.buildlock, "The buildlock binary under test")->required();
  app.add_option("--holder", options.holder, "The chaos_holder binary (the critical section)")
      ->required();
  app.add_option("--work-dir", options.work_dir,
                 "Directory for lock directories, logs and captured stderr (emptied first)")
      ->required();
  std::vector<std::string> variant_names = {"exclusive"};
  app.add_option("--variant", variant_names,
                 "exclusive, shared, slotted or all; repeat or separate with commas")
      ->delimiter(',')
      ->check(CLI::IsMember({"exclusive", "shared", "slotted", "all"}));
  std::vector<std::string> kernel_lock_names = {"auto"};
  app.add_option("--kernel-locks", kernel_lock_names,
                 "auto, off, mixed (odd workers off, even auto) or all; repeat or separate with "
                 "commas. Every variant runs with each")
      ->delimiter(',')
      ->check(CLI::IsMember({"auto", "off", "mixed", "all"}));
  app.add_option("--workers", options.workers, "Concurrent workers")->check(CLI::Range(1, 64));
  auto* runs = app.add_option("--runs", options.runs_per_worker, "`buildlock run`s per worker")
                   ->check(CLI::Range(1, 10'000'000));
  auto* max_runs =
      app.add_option(
             "--max-runs", options.max_runs_per_worker,
             "A worker whose --runs are done runs on while the activity floors "
             "(--min-hits) are not met, up to this many runs in all (default: 10 x --runs); "
             "then the floors fail")
          ->check(CLI::Range(1, 100'000'000));
  app.add_option("--duration", options.duration_s,
                 "Run for this many seconds instead of a number of runs")
      ->check(CLI::Range(0.1, 86400.0))
      ->excludes(runs)
      ->excludes(max_runs);
  app.add_option("--kill-interval-ms", options.kill_interval_ms,
                 "Mean pause of the killer between two signals (uniform in 0..2x)")
      ->check(CLI::Range(1, 60'000));
  app.add_option("--max-stop-ms", options.max_stop_ms,
                 "A SIGSTOPped process gets SIGCONT after 0..this")
      ->check(CLI::Range(0, 10'000));
  app.add_option("--max-hold-us", options.max_hold_us, "A critical section lasts 0..this")
      ->check(CLI::Range(0, 10'000'000));
  app.add_option("--ignore-term-percent", options.ignore_term_percent,
                 "Share of command trees whose processes ignore SIGTERM and SIGINT")
      ->check(CLI::Range(0, 100));
  app.add_option("--kill-after", options.kill_after_s,
                 "Pass --kill-after to every buildlock run (default: buildlock's own)")
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("--min-hits", options.min_hits,
                 "Fail a variant unless its killer delivered at least this many signals of each "
                 "kind and to each kind of target, and it saw at least this many reclaims, "
                 "critical sections entered and critical sections cut short by a signal")
      ->check(CLI::Range(0, 1'000'000));
  app.add_option("--max-refusals", options.max_refusals,
                 "Runs refused with exit 65 for mixed kernel-lock settings tolerated per variant "
                 "(default 0: buildlock makes mixing safe, it does not refuse it)")
      ->check(CLI::Range(0, 100'000'000));
  app.add_option("--slots", options.slots, "N of --slots N (slotted variant)")
      ->check(CLI::Range(1, 64));
  app.add_option("--writer-percent", options.writer_percent,
                 "Share of exclusive writers among the runs of the shared variant")
      ->check(CLI::Range(0, 100));
  app.add_option("--run-deadline", options.run_deadline_s,
                 "Seconds after which one `buildlock run` counts as hung")
      ->check(CLI::Range(1.0, 3600.0));
  app.add_option("--stale-after", options.stale_after_s,
                 "Pass --stale-after to every buildlock (default: buildlock's own)")
      ->check(CLI::Range(0.0, 31536000.0));
  app.add_option("--seed", options.seed, "Seed of the random choices (default: random)");
  app.add_option("--etcd", options.etcd,
                 "Hold the locks in etcd at etcd://HOST:PORT (a prefix per variant) instead of "
                 "in a lock directory");
  app.add_option("--users", options.users,
                 "Run the workers as these users, alternating (created with useradd if absent; "
                 "needs root), in a 2770 group directory with umask 022")
      ->delimiter(',');
  app.add_option("--users-group", options.users_group,
                 "The group the --users share (created with groupadd if absent)");
  app.add_flag("--keep", options.keep, "Keep the work directory after a clean run");
  app.add_option("--check-leftovers-of", options.check_leftovers_of,
                 "No chaos: only check what is left in this lock directory (or etcd location) "
                 "as after a variant (status, clean, the age rule, nothing left)");
  app.add_flag("--sabotage", options.sabotage,
               "Give each worker a lock of its own, so that holders overlap: exit 0 only if both "
               "overlap checks report it (a test of the test)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    std::exit(app.exit(error) == 0 ? 0 : 2); // --help: 0; usage errors: 2, like buildlock
  }

  const std::map<std::string, Variant> by_name = {{"exclusive", Variant::exclusive},
                                                  {"shared", Variant::shared},
                                                  {"slotted", Variant::slotted}};
  const std::map<std::string, KernelLocks> kernel_locks_by_name = {
      {"auto", KernelLocks::automatic}, {"off", KernelLocks::off}, {"mixed", KernelLocks::mixed}};
  options.kernel_locks.clear();
  for (const std::string& name : kernel_lock_names) {
    if (name == "all") {
      options.kernel_locks = {KernelLocks::automatic, KernelLocks::off, KernelLocks::mixed};
      break;
    }
    options.kernel_locks.push_back(kernel_locks_by_name.at(name));
  }
  if (!options.max_runs_per_worker) {
    options.max_runs_per_worker = 10 * options.runs_per_worker;
  }
  options.variants.clear();
  for (const std::string& name : variant_names) {
    if (name == "all") {
      options.variants = {Variant::exclusive, Variant::shared, Variant::slotted};
      break;
    }
    options.variants.push_back(by_name.at(name));
  }
  return options;
}

} // namespace buildlock::chaos

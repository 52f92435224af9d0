// What a chaos run does and how hard: from the command line of buildlock_chaos.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace buildlock::chaos {

enum class Variant {
  exclusive, // every worker: `buildlock run LOCK`
  shared,    // readers `buildlock run --shared LOCK` and exclusive writers, mixed
  slotted,   // every worker: `buildlock run --slots N LOCK`
};

std::string to_string(Variant variant);

// Which workers rely on kernel locks (buildlock's --kernel-locks).
enum class KernelLocks {
  automatic, // every worker: the default, `auto`
  off,       // every worker: `--kernel-locks off` (pid and heartbeat rules only)
  mixed,     // odd workers `--kernel-locks off`, even workers `auto`, on one lock
};

std::string to_string(KernelLocks kernel_locks);

struct Options {
  std::string buildlock; // the binary under test
  std::string holder;    // chaos_holder
  std::string work_dir;  // replaced by a fresh one; one folder per variant inside
  std::vector<Variant> variants = {Variant::exclusive};
  std::vector<KernelLocks> kernel_locks = {KernelLocks::automatic};

  int workers = 6;
  int runs_per_worker = 100; // `buildlock run`s per worker...
  // ...and more while the activity floors (--min-hits) are not met, up to this many in all
  // (default: 10 x runs_per_worker); then the floors fail. Not with --duration.
  std::optional<int> max_runs_per_worker;
  std::optional<double> duration_s;   // ...or as many as fit in this many seconds
  int kill_interval_ms = 20;          // the killer's mean pause between two signals
  int max_stop_ms = 100;              // the longest a SIGSTOPped process waits for its SIGCONT
  int max_hold_us = 2000;             // each critical section lasts 0..this
  int ignore_term_percent = 10;       // trees whose holders ignore SIGTERM and SIGINT
  std::optional<double> kill_after_s; // passed on as buildlock's --kill-after
  // The least activity that makes a verdict mean something: signals delivered to each kind of
  // target and of each kind, critical sections entered and cut short, stale locks reclaimed.
  int min_hits = 1;
  // Runs refused with exit 65 (kernel-lock settings mixed on one lock) tolerated per variant.
  // buildlock makes mixed settings safe instead of refusing them (docs/protocol.md), so none is
  // expected; and a refused run tests nothing, so refusals must never replace the runs.
  int max_refusals = 0;
  int slots = 3;              // --slots N of the slotted variant
  int writer_percent = 30;    // share of exclusive writers in the shared variant
  double run_deadline_s = 30; // a `buildlock run` taking longer is a hang
  std::optional<double> stale_after_s;
  std::optional<std::uint64_t> seed; // random when not given; printed either way
  // "etcd://HOST:PORT": hold the locks in etcd, under a prefix of their own per variant, instead
  // of in a lock directory (issue 16); empty: a lock directory.
  std::string etcd;
  // Run the workers as these users, alternating (worker i as users[i % size]), in a 2770 group
  // directory of `users_group` with umask 022 (users.h); empty: as this process's user.
  std::vector<std::string> users;
  std::string users_group = "buildlock-chaos";
  bool keep = false; // keep the work directory even when every check passed
  // Instead of any chaos: check the leftovers of this existing lock directory (or etcd location)
  // as after a variant, with --work-dir for the outputs. Tests the checker (issue 20).
  std::string check_leftovers_of;
  // Each worker takes a lock of its own, so the lock protects nothing: proves that the checks
  // report overlaps when there are some (exit 0 only if they do, in every variant).
  bool sabotage = false;
};

// Parses argv; exits (with CLI11's message) on --help or a usage error.
Options parse_options(int argc, char** argv);

} // namespace buildlock::chaos

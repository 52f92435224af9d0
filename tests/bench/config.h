// What the benchmark runs and how much of it: from the command line of buildlock_bench.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

namespace buildlock::bench {

struct Sizes {
  int repetitions = 1000; // uncontended calls per tool and directory
  std::vector<int> processes = {2, 4, 8};
  int acquisitions = 100; // per process and round (throughput)
  int rounds = 5;         // throughput rounds per tool, P and directory
  int handoffs = 480;     // acquisitions per P and directory (handoff)
  int reclaims = 40;      // kills per tool, variant and directory
  std::vector<int> unrelated = {0, 1000, 10000};
  std::vector<int> status_locks = {10, 1000, 10000};
  int status_repetitions = 10;
  int rss_samples = 20;
  // Shared, slotted and reader/writer holds (issue 5): each command holds for `hold_ms`.
  int hold_ms = 10;
  int hold_acquisitions = 25; // per process and round
  int hold_rounds = 3;        // per tool, mode and P (or slot count)
  std::vector<int> slot_counts = {1, 2, 4};
  int slot_processes = 8;        // contenders for the slots
  int readers = 4;               // shared holders that keep coming while a writer waits
  int writer_runs = 10;          // exclusive runs among them, one after the other, per tool
  int readers_give_up_ms = 2000; // readers stop after this, so a starved writer gets in
  // A generated build (issue 14): custom commands, ninja -j, builds of each variant.
  int build_steps = 500;
  int build_jobs = 2;
  int build_repetitions = 10;
  // 0: each step is `cmake -E copy`; N: `bench_stamp compile N` (N ms of CPU, then the copy).
  int build_step_cpu_ms = 0;
};

// Every scenario, each as small as still means something: for the smoke test.
inline Sizes smoke_sizes() {
  Sizes sizes;
  sizes.repetitions = 5;
  sizes.processes = {2};
  sizes.acquisitions = 3;
  sizes.rounds = 1;
  sizes.handoffs = 6;
  sizes.reclaims = 1;
  sizes.unrelated = {0, 10};
  sizes.status_locks = {10};
  sizes.status_repetitions = 1;
  sizes.rss_samples = 2;
  sizes.hold_ms = 5;
  sizes.hold_acquisitions = 3;
  sizes.hold_rounds = 1;
  sizes.slot_counts = {2};
  sizes.slot_processes = 3;
  sizes.readers = 3;
  sizes.writer_runs = 1;
  sizes.readers_give_up_ms = 500;
  sizes.build_steps = 4;
  sizes.build_repetitions = 1;
  return sizes;
}

struct Config {
  std::string buildlock, flock, stamp, lslocks, gnuplot;
  std::string cmake, ninja, buildlock_package; // the build scenario
  std::string work_dir, output_dir;
  bool smoke = false;
  Sizes sizes;
  std::vector<std::string> scenarios = {"uncontended", "contention", "shared", "slots",
                                        "writer",      "status",     "build"};

  bool wants(const std::string& scenario) const {
    return std::find(scenarios.begin(), scenarios.end(), scenario) != scenarios.end();
  }
};

} // namespace buildlock::bench

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
  return sizes;
}

struct Config {
  std::string buildlock, flock, stamp, lslocks, gnuplot;
  std::string work_dir, output_dir;
  bool smoke = false;
  Sizes sizes;
  std::vector<std::string> scenarios = {"uncontended", "contention", "status"};

  bool wants(const std::string& scenario) const {
    return std::find(scenarios.begin(), scenarios.end(), scenario) != scenarios.end();
  }
};

} // namespace buildlock::bench

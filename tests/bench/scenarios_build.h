// A real build under wrapping (issue 14): a generated CMake project of N custom commands, built by
// Ninja with J jobs, (a) unwrapped, (b) each command wrapped with buildlock_wrap() on a lock of its
// own, (c) each wrapped with flock(1) by hand, the three in turn in one run.
#pragma once

#include <array>
#include <string>
#include <vector>

namespace buildlock::bench {

enum BuildVariant : int { unwrapped_build = 0, buildlock_build = 1, flock_build = 2 };

struct BuildProject {
  std::string cmake, ninja;  // executables
  std::string buildlock_dir; // a build tree or install of buildlock: find_package(buildlock)
  std::string flock;         // flock(1), for the hand-wrapped variant
  std::string stamp;         // bench_stamp, for steps that compile
  int steps = 0;             // custom commands
  int jobs = 0;              // ninja -j
  int step_cpu_ms = 0;       // 0: `cmake -E copy`; N: `bench_stamp compile N`
};

// Every build's wall time (spawn of `ninja -jJ` to its exit) and CPU time (user + system of
// ninja and everything it waited for), milliseconds, per variant.
struct BuildTimes {
  std::array<std::vector<double>, 3> wall_ms;
  std::array<std::vector<double>, 3> cpu_ms;
};

// Generates the project in `work_dir`, configures one build tree per variant (not timed), then
// `repetitions` times: removes every variant's outputs and builds each, in an order that
// rotates from one repetition to the next.
BuildTimes measure_builds(const BuildProject& project, const std::string& work_dir,
                          int repetitions);

} // namespace buildlock::bench

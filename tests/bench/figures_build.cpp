#include "figures_build.h"

#include "figures.h"
#include "process.h"
#include "scenarios_build.h"
#include "stats.h"

#include <filesystem>

namespace buildlock::bench {
namespace {

// The watchdog's limit for the whole scenario: far beyond what it takes on a busy machine.
constexpr unsigned build_limit_seconds = 3600;

// How much longer a wrapped build may take than the same build unwrapped: issue 14's limit for
// the cheapest steps (`cmake -E copy`, about 13 ms), issue 23's for steps of 50 ms of CPU (a small
// compile). Between the two, issue 23's.
constexpr double wrapped_copy_build_limit = 1.03;
constexpr double wrapped_compile_build_limit = 1.05;

// Issue 23: the CPU that wrapping adds to a step is no more than flock(1)'s by hand.
constexpr double cpu_added_against_flock_limit = 1.0;

double median(const std::vector<double>& samples) {
  return summarize(samples).median;
}

// Repetition by repetition, `of` against `against` (each repetition's builds ran back to back).
std::vector<double> ratios(const std::vector<double>& of, const std::vector<double>& against) {
  std::vector<double> result;
  for (std::size_t i = 0; i < of.size(); ++i) {
    result.push_back(of[i] / against[i]);
  }
  return result;
}

// Repetition by repetition, what `of` added to `against`, per step and job slot.
std::vector<double> added_per_step(const std::vector<double>& of,
                                   const std::vector<double>& against, double scale) {
  std::vector<double> result;
  for (std::size_t i = 0; i < of.size(); ++i) {
    result.push_back((of[i] - against[i]) * scale);
  }
  return result;
}

// The build runs its steps from its own tree: a relative path given to the benchmark would miss.
std::string absolute_path(const std::string& path) {
  return std::filesystem::absolute(path).string();
}

} // namespace

void add_build(Report& report, const Config& config) {
  const Sizes& sizes = config.sizes;
  if (config.cmake.empty() || config.ninja.empty() || config.buildlock_package.empty()) {
    throw BenchError("the build scenario needs --cmake, --ninja and --buildlock-package");
  }
  const BuildProject project{config.cmake,
                             config.ninja,
                             config.buildlock_package,
                             config.flock,
                             absolute_path(config.stamp),
                             sizes.build_steps,
                             sizes.build_jobs,
                             sizes.build_step_cpu_ms};
  const std::string steps = std::to_string(sizes.build_steps);
  const std::string jobs = std::to_string(sizes.build_jobs);
  const bool compiles = sizes.build_step_cpu_ms > 0;
  const std::string step_kind =
      compiles
          ? "small compiles (`bench_stamp compile`: " + std::to_string(sizes.build_step_cpu_ms) +
                " ms of CPU, then a copy)"
          : "custom commands (`cmake -E copy`)";
  progress("a generated build of " + steps + " " + step_kind + ", ninja -j" + jobs + ", 3 ways");
  arm_watchdog("the build scenario", build_limit_seconds);
  const BuildTimes times =
      measure_builds(project, config.work_dir + "/build", sizes.build_repetitions);

  report.section("A real build: " + steps + " " + step_kind + ", `ninja -j" + jobs +
                 "`; buildlock column: each wrapped with `buildlock_wrap()`, flock(1) column: with "
                 "`flock` by hand, each step on a lock of its own; " +
                 std::to_string(sizes.build_repetitions) + " builds of each");
  // Wall time (the target) and CPU time (what a loaded machine disturbs least), alike.
  struct Measure {
    const char* name;
    const std::array<std::vector<double>, 3>& samples;
    Target ratio_target;   // of the wrapped / unwrapped row
    Target added_target;   // of the "added per step" row
    const char* per_step;  // what one step's share is counted per
    double per_step_scale; // from the whole build's difference to that share
  };
  const double per_step = 1.0 / sizes.build_steps;
  for (const Measure& measure :
       {Measure{"wall",
                times.wall_ms,
                {Goal::at_most, compiles ? wrapped_compile_build_limit : wrapped_copy_build_limit},
                {},
                "step and job",
                per_step * sizes.build_jobs},
        Measure{"CPU (user + system)",
                times.cpu_ms,
                {},
                {Goal::ratio_at_most, cpu_added_against_flock_limit},
                "step",
                per_step}}) {
    const std::string name = measure.name;
    const auto& samples = measure.samples;
    report.add({"build " + name + ", wrapped, median",
                "ms",
                median(samples[buildlock_build]),
                median(samples[flock_build]),
                {}});
    report.add({"build " + name + ", unwrapped (the floor both pay), median",
                "ms",
                median(samples[unwrapped_build]),
                std::nullopt,
                {}});
    report.add({"wrapped / unwrapped build " + name + ", median of the repetitions", "x",
                median(ratios(samples[buildlock_build], samples[unwrapped_build])),
                median(ratios(samples[flock_build], samples[unwrapped_build])),
                measure.ratio_target});
    report.add({name + " added per wrapped " + measure.per_step + ", median", "ms",
                median(added_per_step(samples[buildlock_build], samples[unwrapped_build],
                                      measure.per_step_scale)),
                median(added_per_step(samples[flock_build], samples[unwrapped_build],
                                      measure.per_step_scale)),
                measure.added_target});
  }
}

} // namespace buildlock::bench

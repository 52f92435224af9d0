#include "scenarios_build.h"

#include "bench_clock.h"
#include "process.h"
#include "setup.h"

#include <filesystem>
#include <sys/resource.h>
#include <sys/wait.h>

namespace buildlock::bench {
namespace {

constexpr std::array<const char*, 3> variant_names = {"unwrapped", "buildlock", "flock"};

// One project for the three variants; WRAP picks how each step is wrapped. Each step is
// `cmake -E copy` of a small file: the most common custom command of CMake projects, and one of
// the cheapest, so that what wrapping adds weighs as much as it can. With STEP_CPU_MS, each step
// is a small compile instead (`bench_stamp compile`: that much CPU, then the copy), the step that
// issue 23's "steps of 50 ms of CPU" target is about. Ninja runs each through `/bin/sh -c`, so
// every step is a shell with a child, wrapped or not.
std::string project_text(const BuildProject& project) {
  return R"(cmake_minimum_required(VERSION 3.25)
project(bench_build NONE)
set(WRAP "unwrapped" CACHE STRING "unwrapped, buildlock or flock")
set(STEPS ")" +
         std::to_string(project.steps) +
         R"(" CACHE STRING "how many custom commands")
set(STEP_CPU_MS ")" +
         std::to_string(project.step_cpu_ms) +
         R"(" CACHE STRING "0: cmake -E copy; N: N ms of CPU, then the copy")
set(LOCK_DIR "${CMAKE_BINARY_DIR}/locks")
if(WRAP STREQUAL "buildlock")
  find_package(buildlock CONFIG REQUIRED)
endif()
file(WRITE "${CMAKE_BINARY_DIR}/input.txt" "a generated source\n")
set(outputs "")
foreach(i RANGE 1 ${STEPS})
  if(STEP_CPU_MS)
    set(step "${STAMP}" compile ${STEP_CPU_MS} "${CMAKE_BINARY_DIR}/input.txt" "${CMAKE_BINARY_DIR}/step-${i}.txt")
  else()
    set(step "${CMAKE_COMMAND}" -E copy "${CMAKE_BINARY_DIR}/input.txt" "${CMAKE_BINARY_DIR}/step-${i}.txt")
  endif()
  if(WRAP STREQUAL "buildlock")
    buildlock_wrap(step LOCK "step-${i}" DIR "${LOCK_DIR}" COMMAND ${step})
  elseif(WRAP STREQUAL "flock")
    file(MAKE_DIRECTORY "${LOCK_DIR}")
    set(step "${FLOCK}" "${LOCK_DIR}/step-${i}" ${step})
  endif()
  add_custom_command(OUTPUT "${CMAKE_BINARY_DIR}/step-${i}.txt" COMMAND ${step} VERBATIM)
  list(APPEND outputs "${CMAKE_BINARY_DIR}/step-${i}.txt")
endforeach()
add_custom_target(steps ALL DEPENDS ${outputs})
)";
}

double cpu_ms_of_children() {
  rusage usage{};
  ::getrusage(RUSAGE_CHILDREN, &usage);
  const auto ms = [](const timeval& time) {
    return double(time.tv_sec) * 1e3 + double(time.tv_usec) / 1e3;
  };
  return ms(usage.ru_utime) + ms(usage.ru_stime);
}

// Runs `argv` with its output in `log`; throws unless it succeeds.
void run_logged(const std::vector<std::string>& argv, const std::string& log,
                const std::string& what) {
  SpawnOptions options;
  options.stdout_path = log;
  options.stderr_path = log;
  expect_success(spawn(argv, options), what + " (output in " + log + ")");
}

} // namespace

BuildTimes measure_builds(const BuildProject& project, const std::string& work_dir,
                          int repetitions) {
  const std::string source = work_dir + "/source";
  fresh_directory(source);
  write_file(source + "/CMakeLists.txt", project_text(project));
  std::array<std::string, 3> trees;
  for (int variant = 0; variant < 3; ++variant) {
    trees[variant] = work_dir + "/" + variant_names[variant];
    fresh_directory(trees[variant]);
    run_logged({project.cmake, "-S", source, "-B", trees[variant], "-G", "Ninja",
                "-DCMAKE_MAKE_PROGRAM=" + project.ninja,
                std::string("-DWRAP=") + variant_names[variant],
                "-Dbuildlock_DIR=" + project.buildlock_dir, "-DFLOCK=" + project.flock,
                "-DSTAMP=" + project.stamp},
               trees[variant] + ".configure.log",
               std::string("configuring the ") + variant_names[variant] + " build");
  }

  BuildTimes times;
  for (int repetition = 0; repetition < repetitions; ++repetition) {
    for (int turn = 0; turn < 3; ++turn) {
      const int variant = (repetition + turn) % 3;
      const std::string& tree = trees[variant];
      const std::string log = tree + ".build.log";
      run_logged({project.ninja, "-C", tree, "-t", "clean"}, log, "cleaning " + tree);
      const double cpu_before = cpu_ms_of_children();
      const std::int64_t started_ns = monotonic_ns();
      run_logged({project.ninja, "-C", tree, "-j", std::to_string(project.jobs)}, log,
                 std::string("the ") + variant_names[variant] + " build");
      times.wall_ms[variant].push_back(double(monotonic_ns() - started_ns) / 1e6);
      times.cpu_ms[variant].push_back(cpu_ms_of_children() - cpu_before);
      if (!std::filesystem::exists(tree + "/step-" + std::to_string(project.steps) + ".txt")) {
        throw BenchError("the " + std::string(variant_names[variant]) +
                         " build did not write its last output");
      }
    }
  }
  return times;
}

} // namespace buildlock::bench

// buildlock_bench: buildlock against util-linux flock(1), alternately in the same run, on the
// figures of issue 7 (docs/performance.md). Prints a table with both values, their ratio and
// PASS/MISS per target; writes it as Markdown and TSV, plus a plot with gnuplot if given.
// Exit status: 0 when every measurement ran and met its target, 1 when one failed to run, 3 when
// one missed its target (a person running the benchmark must not be able to overlook a MISS).
// With --smoke the verdicts do not count: at tiny sizes they measure noise, and the smoke test
// only proves that every scenario runs.
#include "config.h"
#include "figures.h"
#include "figures_build.h"
#include "figures_modes.h"
#include "load_meter.h"
#include "plot.h"
#include "process.h"
#include "report.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

namespace {

using namespace buildlock::bench;

std::string first_line(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

std::string captured_output(const std::vector<std::string>& argv, const std::string& scratch) {
  SpawnOptions options;
  options.stdout_path = scratch + "/captured.txt";
  wait_for(spawn(argv, options));
  return first_line(read_file(*options.stdout_path));
}

std::string cpu_model() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      return line.substr(line.find(':') + 2);
    }
  }
  return "unknown";
}

std::string machine_description(const Config& config) {
  utsname system{};
  ::uname(&system);
  return "- CPUs online: " + std::to_string(::sysconf(_SC_NPROCESSORS_ONLN)) + " (" + cpu_model() +
         "); kernel " + system.sysname + " " + system.release + "\n- " +
         captured_output({config.buildlock, "--version"}, config.work_dir) + "; " +
         captured_output({config.flock, "--version"}, config.work_dir) + "\n";
}

std::string cpus_text(double cpus) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", cpus);
  return text;
}

void raise_open_files_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

// Distinct from 1 (a measurement failed): the run itself went well, a figure did not.
constexpr int exit_target_missed = 3;

int run(const Config& config) {
  // Nothing inherited may change how the tools behave.
  for (const char* variable :
       {"BUILDLOCK_HELD", "BUILDLOCK_DIR", "BUILDLOCK_TIMEOUT", "BUILDLOCK_STALE_AFTER"}) {
    ::unsetenv(variable);
  }
  raise_open_files_limit();
  fresh_directory(config.work_dir);
  std::filesystem::create_directories(config.output_dir);
  const std::string load_before = first_line(read_file("/proc/loadavg"));
  const std::string machine = machine_description(config);
  const LoadMeter whole_run;
  std::string foreign_by_phase;
  auto phase_done = [&](const std::string& phase, const LoadMeter& meter) {
    foreign_by_phase +=
        (foreign_by_phase.empty() ? "" : ", ") + phase + " " + cpus_text(meter.foreign_cpus());
  };

  Report report;
  std::vector<PlotPoint> points;
  if (config.wants("uncontended")) {
    const LoadMeter meter;
    add_uncontended(report, make_setups(config, config.sizes.unrelated), config);
    phase_done("uncontended", meter);
  }
  if (config.wants("contention")) {
    // The smallest and the largest directory.
    std::vector<int> unrelated = {config.sizes.unrelated.front()};
    if (config.sizes.unrelated.size() > 1) {
      unrelated.push_back(config.sizes.unrelated.back());
    }
    const LoadMeter meter;
    points = add_contention(report, make_setups(config, unrelated), config);
    phase_done("contention", meter);
  }
  if (config.wants("shared") || config.wants("slots") || config.wants("writer")) {
    // The smallest directory: the number of other locks does not matter to a lock (see above).
    const std::vector<Setup> setups = make_setups(config, {config.sizes.unrelated.front()});
    const std::pair<const char*, void (*)(Report&, const Setup&, const Config&)> phases[] = {
        {"shared", add_shared}, {"slots", add_slots}, {"writer", add_writer}};
    for (const auto& [phase, add] : phases) {
      if (config.wants(phase)) {
        const LoadMeter meter;
        add(report, setups.front(), config);
        phase_done(phase, meter);
      }
    }
  }
  if (config.wants("status")) {
    const LoadMeter meter;
    add_status(report, config);
    phase_done("status", meter);
  }
  if (config.wants("build")) {
    const LoadMeter meter;
    add_build(report, config);
    phase_done("build", meter);
  }
  disarm_watchdog();

  const std::string conditions =
      "- load average (1, 5, 15 min) before the run: " + load_before.substr(0, 14) +
      "\n- CPUs used by other processes during the run (from /proc/stat and getrusage): " +
      cpus_text(whole_run.foreign_cpus()) + " on average (" + foreign_by_phase +
      "); CPUs stolen by the hypervisor: " + cpus_text(whole_run.stolen_cpus()) + "\n";
  std::cout << "\n"
            << machine << conditions << "\n"
            << report.text() << "\n"
            << report.checked() - report.misses() << " of " << report.checked() << " targets met\n";
  write_file(config.output_dir + "/performance-table.md",
             machine + conditions + "\n" + report.markdown());
  write_file(config.output_dir + "/performance.tsv", report.tsv());
  const auto plots =
      write_plots(config.output_dir, points, config.gnuplot,
                  std::to_string(::sysconf(_SC_NPROCESSORS_ONLN)) + " CPUs; other processes used " +
                      cpus_text(whole_run.foreign_cpus()) + " CPUs meanwhile");
  std::cout << "wrote " << config.output_dir << "/performance-table.md, performance.tsv";
  for (const auto& path : plots) {
    std::cout << ", " << path.substr(path.rfind('/') + 1);
  }
  std::cout << "\n";
  if (report.misses() > 0 && !config.smoke) {
    std::cerr << "buildlock_bench: " << report.misses() << " of " << report.checked()
              << " targets missed (MISS in the table above)\n";
    return exit_target_missed;
  }
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  Config config;
  // --smoke sets the defaults; size options given with it still apply.
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--smoke") {
      config.sizes = smoke_sizes();
    }
  }
  CLI::App app("buildlock_bench: buildlock against flock(1), alternately in one run",
               "buildlock_bench");
  app.add_option("--buildlock", config.buildlock, "The buildlock executable")->required();
  app.add_option("--flock", config.flock, "The flock(1) executable")->required();
  app.add_option("--stamp", config.stamp, "The bench_stamp executable")->required();
  app.add_option("--lslocks", config.lslocks, "util-linux lslocks, to compare with status");
  app.add_option("--gnuplot", config.gnuplot, "gnuplot, to draw the PNGs");
  app.add_option("--work-dir", config.work_dir, "Scratch directory (emptied first)")->required();
  app.add_option("--output-dir", config.output_dir, "Where results go (default: work dir)");
  app.add_flag("--smoke", config.smoke, "Tiny sizes by default: checks that everything runs");
  app.add_option("--repetitions", config.sizes.repetitions, "Uncontended calls per tool");
  app.add_option("--processes", config.sizes.processes, "Contending processes (P)")->delimiter(',');
  app.add_option("--acquisitions", config.sizes.acquisitions, "Per process and round");
  app.add_option("--rounds", config.sizes.rounds, "Throughput rounds per tool and P");
  app.add_option("--handoffs", config.sizes.handoffs, "Acquisitions per P for handoff latency");
  app.add_option("--reclaims", config.sizes.reclaims, "kill -9 samples per tool and variant");
  app.add_option("--unrelated", config.sizes.unrelated, "Other locks in the directory")
      ->delimiter(',');
  app.add_option("--status-locks", config.sizes.status_locks, "Directory sizes for status")
      ->delimiter(',');
  app.add_option("--hold-ms", config.sizes.hold_ms,
                 "How long each command holds (shared, slots, writer)");
  app.add_option("--hold-acquisitions", config.sizes.hold_acquisitions,
                 "Per process and round (shared, slots)");
  app.add_option("--hold-rounds", config.sizes.hold_rounds, "Rounds per tool and P or N");
  app.add_option("--slots", config.sizes.slot_counts, "Slot counts (N)")->delimiter(',');
  app.add_option("--slot-processes", config.sizes.slot_processes, "Contenders for the slots");
  app.add_option("--readers", config.sizes.readers, "Shared holders around the writer");
  app.add_option("--writer-runs", config.sizes.writer_runs, "Writers among readers, per tool");
  app.add_option("--readers-give-up-ms", config.sizes.readers_give_up_ms,
                 "When the readers stop coming, so that a starved writer gets in");
  app.add_option("--cmake", config.cmake, "cmake, for the build scenario");
  app.add_option("--ninja", config.ninja, "ninja, for the build scenario");
  app.add_option("--buildlock-package", config.buildlock_package,
                 "Where find_package(buildlock) finds the package (build scenario)");
  app.add_option("--build-steps", config.sizes.build_steps, "Custom commands of the build");
  app.add_option("--build-jobs", config.sizes.build_jobs, "ninja -j of the build");
  app.add_option("--build-repetitions", config.sizes.build_repetitions, "Builds of each variant");
  app.add_option("--build-step-cpu-ms", config.sizes.build_step_cpu_ms,
                 "Each step a small compile of this much CPU time (0: `cmake -E copy`)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--scenarios", config.scenarios,
                 "Only these: uncontended, contention, shared, slots, writer, status, build")
      ->delimiter(',')
      ->check(CLI::IsMember(
          {"uncontended", "contention", "shared", "slots", "writer", "status", "build"}));
  CLI11_PARSE(app, argc, argv);
  if (config.output_dir.empty()) {
    config.output_dir = config.work_dir;
  }
  try {
    return run(config);
  } catch (const std::exception& error) {
    std::cerr << "buildlock_bench: error: " << error.what() << "\n";
    return 1;
  }
}

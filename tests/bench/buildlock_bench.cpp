// buildlock_bench: buildlock against util-linux flock(1), alternately in the same run, on the
// figures of issue 7 (docs/performance.md). Prints a table with both values, their ratio and
// PASS/MISS per target; writes it as Markdown and TSV, plus a plot with gnuplot if given.
// Exit status: 0 when every measurement ran (whatever the verdicts), 1 when one failed.
#include "plot.h"
#include "process.h"
#include "report.h"
#include "scenarios.h"
#include "stats.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

using namespace buildlock::bench;

struct Sizes {
  int repetitions = 1000; // uncontended calls per tool and setup
  std::vector<int> processes = {2, 4, 8};
  int acquisitions = 100; // per process and round (throughput)
  int rounds = 5;
  int handoffs = 480; // acquisitions per P (handoff)
  int reclaims = 40;  // kills per tool and variant
  std::vector<int> unrelated = {0, 1000, 10000};
  std::vector<int> status_locks = {10, 1000, 10000};
  int status_repetitions = 10;
  int rss_samples = 20;
};

Sizes smoke_sizes() {
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

std::string load_average() {
  return first_line(read_file("/proc/loadavg"));
}

std::string machine_description(const Config& config, const std::string& scratch) {
  utsname system{};
  ::uname(&system);
  return "- CPUs online: " + std::to_string(::sysconf(_SC_NPROCESSORS_ONLN)) + " (" + cpu_model() +
         ")\n- kernel: " + system.sysname + " " + system.release + "\n- " +
         captured_output({config.buildlock, "--version"}, scratch) + "; " +
         captured_output({config.flock, "--version"}, scratch) + "\n";
}

bool has_status_command(const std::string& buildlock) {
  SpawnOptions quiet;
  quiet.stdout_path = quiet.stderr_path = "/dev/null";
  const Finished finished = wait_for(spawn({buildlock, "status", "--help"}, quiet));
  return WIFEXITED(finished.status) && WEXITSTATUS(finished.status) == 0;
}

std::string with_thousands(int value) {
  std::string digits = std::to_string(value);
  for (int i = int(digits.size()) - 3; i > 0; i -= 3) {
    digits.insert(std::size_t(i), ",");
  }
  return digits;
}

std::string locks_label(int unrelated) {
  return with_thousands(unrelated) + " other locks";
}

void progress(const std::string& what) {
  std::cerr << "buildlock_bench: " << what << " (load " << load_average() << ")\n";
}

Setup make_setup(const Config& config, int unrelated, const std::string& orphan_bytes) {
  Setup setup;
  setup.unrelated = unrelated;
  const std::string root = config.work_dir + "/unrelated-" + std::to_string(unrelated);
  setup.scratch = root;
  setup.tools[buildlock_tool] = {buildlock_tool, "buildlock", config.buildlock, root + "/buildlock",
                                 root + "/buildlock.messages"};
  setup.tools[flock_tool] = {flock_tool, "flock(1)", config.flock, root + "/flock",
                             root + "/flock.messages"};
  fresh_directory(root);
  for (const Tool& tool : setup.tools) {
    fresh_directory(tool.directory);
  }
  add_unrelated_locks(setup, unrelated, orphan_bytes);
  return setup;
}

// The lock file a real `buildlock run` leaves when its wrapper and command die of SIGKILL.
std::string real_orphan_bytes(const Config& config) {
  const std::string directory = config.work_dir + "/orphan";
  fresh_directory(directory);
  const Tool tool{buildlock_tool, "buildlock", config.buildlock, directory,
                  directory + ".messages"};
  kill_holder(start_holder(tool, "orphan", config.stamp));
  return read_file(tool.lock_path("orphan"));
}

Row latency_row(const std::string& figure, const PerTool& samples, double Summary::*which,
                Target target = {}) {
  return {figure, "ms", summarize(samples[0]).*which, summarize(samples[1]).*which, target};
}

void report_uncontended(Report& report, const Setup& setup, const Config& config, bool report_rss) {
  const Sizes& sizes = config.sizes;
  const std::string where = locks_label(setup.unrelated);
  progress("uncontended, " + where);
  arm_watchdog("uncontended calls", 600);
  const Uncontended result = measure_uncontended(setup, sizes.repetitions);
  report.add(latency_row("wall per call, median (" + where + ")", result.wall_ms, &Summary::median,
                         {Goal::ratio_at_most, 1.2}));
  report.add(latency_row("wall per call, p90 (" + where + ")", result.wall_ms, &Summary::p90));
  if (report_rss) {
    report.add({"`true` alone (the floor both pay), median",
                "ms",
                summarize(result.bare_true_ms).median,
                std::nullopt,
                {}});
    const PeakRss rss = measure_peak_rss(setup, config.stamp, sizes.rss_samples);
    report.add({"peak RSS (wait4 ru_maxrss), max",
                "MiB",
                summarize(rss.kib[0]).max / 1024,
                summarize(rss.kib[1]).max / 1024,
                {Goal::below, 8}});
    report.add({"peak RSS of `true` alone (the floor), max",
                "MiB",
                summarize(rss.bare_true_kib).max / 1024,
                std::nullopt,
                {}});
  }
}

std::vector<PlotPoint> report_contention(Report& report, const Setup& setup, const Config& config) {
  const Sizes& sizes = config.sizes;
  const std::string where = locks_label(setup.unrelated);
  std::vector<PlotPoint> points;
  report.section("Contended: one lock, P processes (" + where + ")");
  for (int processes : sizes.processes) {
    const std::string p = "P=" + std::to_string(processes);
    progress("throughput and handoff, " + p + ", " + where);
    arm_watchdog("contention with " + p, 900);
    const PerTool rate = measure_throughput(setup, processes, sizes.acquisitions, sizes.rounds);
    const Handoff handoff =
        measure_handoff(setup, config.stamp, processes, std::max(2, sizes.handoffs / processes));
    for (int index : {0, 1}) {
      if (handoff.unparked[index] > 0) {
        std::cerr << "buildlock_bench: warning: " << handoff.unparked[index]
                  << " handoffs left out: waiters did not all park within 10 s\n";
      }
    }
    report.add({"throughput " + p,
                "acq/s",
                summarize(rate[0]).median,
                summarize(rate[1]).median,
                {Goal::ratio_at_least, 0.85}});
    report.add(latency_row("handoff median " + p, handoff.latency_ms, &Summary::median,
                           {Goal::plus_at_most, 1.0}));
    report.add(latency_row("handoff p99 " + p, handoff.latency_ms, &Summary::p99));
    PlotPoint point;
    point.processes = processes;
    for (int index : {0, 1}) {
      point.handoff_ms[index] = summarize(handoff.latency_ms[index]);
      point.rate[index] = summarize(rate[index]).median;
    }
    points.push_back(point);
  }
  progress("reclaim after kill -9, " + where);
  arm_watchdog("reclaim", 600);
  const Reclaim reclaim = measure_reclaim(setup, config.stamp, sizes.reclaims);
  report.add(latency_row("reclaim after kill -9, waiter parked, median", reclaim.parked_waiter_ms,
                         &Summary::median, {Goal::at_most, 20}));
  report.add(latency_row("reclaim after kill -9, waiter parked, max", reclaim.parked_waiter_ms,
                         &Summary::max));
  report.add(latency_row("reclaim after kill -9, new run started, median", reclaim.new_run_ms,
                         &Summary::median, {Goal::at_most, 20}));
  report.add(latency_row("reclaim after kill -9, new run started, max", reclaim.new_run_ms,
                         &Summary::max));
  return points;
}

constexpr int lslocks_max_locks = 1000;

void report_status(Report& report, const Config& config) {
  if (!has_status_command(config.buildlock)) {
    std::cerr << "buildlock_bench: warning: this buildlock has no `status` subcommand; status "
                 "not measured\n";
    report.section("`buildlock status`: not measured, this buildlock has no `status` subcommand");
    return;
  }
  report.section("`buildlock status` (half held, half orphaned; flock(1) column: `lslocks` "
                 "listing the same held kernel locks, up to " +
                 with_thousands(lslocks_max_locks) + " locks)");
  for (int locks : config.sizes.status_locks) {
    progress("status on " + with_thousands(locks) + " locks");
    arm_watchdog("status", 600);
    // lslocks grows much faster than linearly (about 37 s for 5,000 held locks here): beyond
    // this size it would make the benchmark last for hours and tell nothing new.
    const std::string lslocks = locks <= lslocks_max_locks ? config.lslocks : "";
    const StatusTiming timing = measure_status(config.buildlock, lslocks, config.stamp,
                                               config.work_dir + "/status-" + std::to_string(locks),
                                               locks, config.sizes.status_repetitions);
    Row row{"status on " + with_thousands(locks) + " locks, median",
            "ms",
            summarize(timing.wall_ms[0]).median,
            std::nullopt,
            {}};
    if (!timing.wall_ms[1].empty()) {
      row.flock = summarize(timing.wall_ms[1]).median;
    }
    if (locks == 1000) {
      row.target = {Goal::below, 100};
    }
    report.add(row);
  }
}

void raise_open_files_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

int run(const Config& config) {
  // Nothing inherited may change how the tools behave.
  for (const char* variable :
       {"BUILDLOCK_HELD", "BUILDLOCK_DIR", "BUILDLOCK_TIMEOUT", "BUILDLOCK_STALE_AFTER"}) {
    ::unsetenv(variable);
  }
  raise_open_files_limit();
  fresh_directory(config.work_dir);
  std::filesystem::create_directories(config.output_dir);
  const std::string load_before = load_average();
  const std::string machine = machine_description(config, config.work_dir);

  Report report;
  const std::string orphan_bytes = real_orphan_bytes(config);
  std::vector<PlotPoint> points;
  if (config.wants("uncontended")) {
    report.section("Uncontended: `run LOCK -- true` against `flock L true`");
  }
  for (std::size_t i = 0; i < config.sizes.unrelated.size() && config.wants("uncontended"); ++i) {
    const Setup setup = make_setup(config, config.sizes.unrelated[i], orphan_bytes);
    report_uncontended(report, setup, config, i == 0);
  }
  for (std::size_t i = 0; i < config.sizes.unrelated.size() && config.wants("contention"); ++i) {
    if (i != 0 && i + 1 != config.sizes.unrelated.size()) {
      continue; // contention at the smallest and the largest directory
    }
    const Setup setup = make_setup(config, config.sizes.unrelated[i], orphan_bytes);
    auto measured = report_contention(report, setup, config);
    if (i == 0) {
      points = std::move(measured);
    }
  }
  if (config.wants("status")) {
    report_status(report, config);
  }
  disarm_watchdog();
  const std::string load_after = load_average();

  const std::string conditions =
      "Load average (1, 5, 15 min) before: " + load_before + "; after: " + load_after + "\n";
  std::cout << "\n"
            << machine << conditions << "\n"
            << report.text() << "\n"
            << report.checked() - report.misses() << " of " << report.checked() << " targets met\n";
  write_file(config.output_dir + "/performance-table.md",
             machine + "- " + conditions + "\n" + report.markdown());
  write_file(config.output_dir + "/performance.tsv", report.tsv());
  const auto plots = write_plots(config.output_dir, points, config.gnuplot,
                                 std::to_string(::sysconf(_SC_NPROCESSORS_ONLN)) +
                                     " CPUs, load before " + load_before.substr(0, 14));
  std::cout << "wrote " << config.output_dir << "/performance-table.md, performance.tsv";
  for (const auto& path : plots) {
    std::cout << ", " << path.substr(path.rfind('/') + 1);
  }
  std::cout << "\n";
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
  app.add_option("--scenarios", config.scenarios, "Only these: uncontended, contention, status")
      ->delimiter(',')
      ->check(CLI::IsMember({"uncontended", "contention", "status"}));
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

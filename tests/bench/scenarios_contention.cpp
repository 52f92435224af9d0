// Uncontended calls, contended throughput and handoff latency.
#include "bench_clock.h"
#include "process.h"
#include "scenarios.h"
#include "workers.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

namespace buildlock::bench {
namespace {

double elapsed_ms(std::int64_t since_ns) {
  return double(monotonic_ns() - since_ns) / 1e6;
}

struct Record {
  long worker = 0;
  std::int64_t start_ns = 0;
  std::int64_t end_ns = 0;
  int parked = 0;
  int expected = 0;
};

std::vector<Record> read_records(const std::string& path) {
  std::vector<Record> records;
  std::FILE* file = std::fopen(path.c_str(), "re");
  if (file == nullptr) {
    throw BenchError("no handoff records in `" + path + "`");
  }
  Record record;
  long long start = 0, end = 0;
  while (std::fscanf(file, "%ld %lld %lld %d %d", &record.worker, &start, &end, &record.parked,
                     &record.expected) == 5) {
    record.start_ns = start;
    record.end_ns = end;
    records.push_back(record);
  }
  std::fclose(file);
  std::sort(records.begin(), records.end(),
            [](const Record& a, const Record& b) { return a.start_ns < b.start_ns; });
  return records;
}

} // namespace

void append(PerTool& into, const PerTool& more) {
  for (int index : {0, 1}) {
    into[index].insert(into[index].end(), more[index].begin(), more[index].end());
  }
}

Uncontended measure_uncontended(const Setup& setup, int repetitions, int first_repetition) {
  Uncontended result;
  std::array<std::vector<std::string>, 2> argv;
  std::array<std::string, 2> what;
  for (const Tool& tool : setup.tools) {
    argv[tool.index] = tool.run("uncontended", {"true"});
    what[tool.index] = tool.label + " (uncontended)";
  }
  const std::vector<std::string> bare_true = {"true"};
  const std::string bare_what = "true";
  // The same run as buildlock's above, with a trace; the file grows over the repetitions (a few
  // hundred bytes each), as a build's does.
  std::vector<std::string> traced = argv[buildlock_tool];
  traced.insert(traced.begin() + 2, {"--trace", setup.scratch + "/uncontended-trace.json"});
  const std::string traced_what = "buildlock --trace (uncontended)";
  for (int repetition = 0; repetition < repetitions; ++repetition) {
    for (ToolIndex index : order_for(first_repetition + repetition)) {
      const std::int64_t began = monotonic_ns();
      expect_success(spawn(argv[index]), what[index]);
      result.wall_ms[index].push_back(elapsed_ms(began));
    }
    {
      const std::int64_t began = monotonic_ns();
      expect_success(spawn(traced), traced_what);
      result.traced_ms.push_back(elapsed_ms(began));
    }
    const std::int64_t began = monotonic_ns();
    expect_success(spawn(bare_true), bare_what);
    result.bare_true_ms.push_back(elapsed_ms(began));
  }
  return result;
}

PeakRss measure_peak_rss(const Setup& setup, const std::string& stamp, int samples) {
  PeakRss result;
  auto peak_kib = [&stamp](const std::vector<std::string>& command, const std::string& what) {
    Pipe report;
    std::vector<std::string> argv = {stamp, "rusage", "3"};
    argv.insert(argv.end(), command.begin(), command.end());
    SpawnOptions options;
    options.descriptors = {{report.write_end(), 3}};
    const pid_t pid = spawn(argv, options);
    const std::string line = report.read_line(10'000, what);
    expect_success(pid, what);
    int status = -1;
    long kib = 0;
    if (std::sscanf(line.c_str(), "%d %ld", &status, &kib) != 2 || status != 0) {
      throw BenchError(what + " failed (`" + line + "`)");
    }
    return double(kib);
  };
  for (int sample = 0; sample < samples; ++sample) {
    for (ToolIndex index : order_for(sample)) {
      const Tool& tool = setup.tools[index];
      result.kib[index].push_back(peak_kib(tool.run("uncontended", {"true"}), tool.label));
    }
    result.bare_true_kib.push_back(peak_kib({"true"}, "true"));
  }
  return result;
}

PerTool measure_throughput(const Setup& setup, int processes, int acquisitions, int rounds,
                           int first_round) {
  PerTool rate;
  for (int round = 0; round < rounds; ++round) {
    for (ToolIndex index : order_for(first_round + round)) {
      const Tool& tool = setup.tools[index];
      const std::vector<std::string> argv = tool.run("throughput", {"true"});
      const double ms = run_workers(tool, processes, acquisitions, tool.label + " (throughput)",
                                    [&argv](int) { return std::vector<std::string>(argv); });
      rate[index].push_back(double(processes) * acquisitions / (ms / 1000));
    }
  }
  return rate;
}

Handoff measure_handoff(const Setup& setup, const std::string& stamp, int processes,
                        int per_process, int round) {
  Handoff result;
  for (ToolIndex index : order_for(round)) {
    const Tool& tool = setup.tools[index];
    const std::string records_path =
        setup.scratch + "/handoff-" + std::to_string(index) + "-" + std::to_string(processes);
    std::filesystem::remove(records_path);
    run_workers(tool, processes, per_process, tool.label + " (handoff)", [&](int worker) {
      return tool.run("handoff", {stamp, "record", records_path, std::to_string(worker),
                                  std::to_string(per_process), std::to_string(processes),
                                  tool.lock_path("handoff")});
    });
    const std::vector<Record> records = read_records(records_path);
    if (records.size() != std::size_t(processes) * per_process) {
      throw BenchError(tool.label + " (handoff): " + std::to_string(records.size()) +
                       " records for " + std::to_string(processes * per_process) + " runs");
    }
    for (std::size_t i = 0; i + 1 < records.size(); ++i) {
      const Record& holder = records[i];
      const Record& next = records[i + 1];
      if (next.start_ns < holder.end_ns) {
        throw BenchError(tool.label + " (handoff): two commands held the lock at once");
      }
      if (holder.expected == 0) {
        continue; // nobody else had work left: not a handoff
      }
      if (!holder.parked) {
        ++result.unparked[index];
        continue;
      }
      result.latency_ms[index].push_back(double(next.start_ns - holder.end_ns) / 1e6);
    }
  }
  return result;
}

} // namespace buildlock::bench

// Shared throughput, slotted throughput and the wait of a writer among readers.
#include "scenarios_modes.h"

#include "bench_clock.h"
#include "hold_records.h"
#include "proc_locks.h"
#include "process.h"
#include "workers.h"

#include <algorithm>
#include <filesystem>
#include <poll.h>
#include <sys/wait.h>

namespace buildlock::bench {
namespace {

constexpr std::int64_t readers_in_limit_ns = 10'000'000'000;
constexpr timespec readers_in_poll_interval{0, 250'000};

std::string mode_text(HoldMode mode) {
  switch (mode.kind) {
  case HoldMode::exclusive:
    return "exclusive";
  case HoldMode::shared:
    return "shared";
  case HoldMode::slots:
    return "--slots " + std::to_string(mode.slot_count);
  }
  return "";
}

std::vector<std::string> hold_command(const std::string& stamp, const std::string& records,
                                      int worker, int hold_ms) {
  return {stamp, "hold", records, std::to_string(worker), std::to_string(hold_ms)};
}

std::string records_path(const Setup& setup, const Tool& tool, const std::string& lock) {
  return setup.scratch + "/" + lock + "-" + std::to_string(tool.index) + ".records";
}

struct HoldRound {
  double ms = 0;
  std::vector<HoldRecord> records;
};

// One round of `workload` on lock `lock`; checks that every run held and that no more commands
// held at once than `mode` allows.
HoldRound hold_round(const Setup& setup, const Tool& tool, const std::string& stamp,
                     const std::string& lock, HoldMode mode, const HoldWorkload& workload) {
  const std::string records = records_path(setup, tool, lock);
  std::filesystem::remove(records);
  const std::string what = tool.label + " (" + mode_text(mode) + ")";
  HoldRound round;
  round.ms = run_workers(tool, workload.processes, workload.acquisitions, what, [&](int worker) {
    return tool.run(lock, hold_command(stamp, records, worker, workload.hold_ms), mode);
  });
  round.records = read_hold_records(records);
  const std::size_t expected = std::size_t(workload.processes) * workload.acquisitions;
  if (round.records.size() != expected) {
    throw BenchError(what + ": " + std::to_string(round.records.size()) + " records for " +
                     std::to_string(expected) + " runs");
  }
  const int allowed = mode.kind == HoldMode::exclusive ? 1
                      : mode.kind == HoldMode::slots   ? mode.slot_count
                                                       : workload.processes;
  if (const int peak = peak_holders(round.records); peak > allowed) {
    throw BenchError(what + ": " + std::to_string(peak) + " commands held the lock at once; " +
                     std::to_string(allowed) + " may");
  }
  return round;
}

double rate_of(const HoldRound& round) {
  return double(round.records.size()) / (round.ms / 1000);
}

// Whether the write end of `stop` has been closed (by the benchmark: when the writer is done, or,
// for `writer_start`, when it starts).
bool stop_signalled(Pipe& stop) {
  pollfd entry{stop.read_end(), POLLIN, 0};
  return ::poll(&entry, 1, 0) > 0;
}

// Waits until at least `count` processes hold `path`'s kernel lock. A group's anchor is replaced
// when a group ends and another begins, so the file is looked up again each time.
void wait_for_holders(const std::string& path, int count, const std::string& what) {
  const std::int64_t began = monotonic_ns();
  for (;;) {
    const auto key = file_key(path);
    if (key && count_holders(*key) >= count) {
      return;
    }
    if (monotonic_ns() - began > readers_in_limit_ns) {
      throw BenchError(what + ": the readers were never " + std::to_string(count) +
                       " in the lock at once");
    }
    nanosleep(&readers_in_poll_interval, nullptr);
  }
}

struct WriterRun {
  double wait_ms = 0;
  bool starved = false;
};

WriterRun writer_among_readers(const Setup& setup, const Tool& tool, const std::string& stamp,
                               int readers, int hold_ms, int give_up_ms) {
  const std::string lock = "readers-writer";
  const std::string records = records_path(setup, tool, lock);
  std::filesystem::remove(records);
  const std::string what = tool.label + " (writer among readers)";
  const SpawnOptions options = tool.logged();
  Pipe start;
  Pipe stop;
  // Closed when the writer starts: the readers keep coming for `give_up_ms` from then, however
  // long they took to overlap (on a loaded machine, longer than that: a deadline counted from
  // their own start made them give up before two were ever in, and the round failed).
  Pipe writer_start;
  const std::int64_t give_up_ns = std::int64_t(give_up_ms) * 1'000'000;
  std::vector<pid_t> workers;
  for (int reader = 0; reader < readers; ++reader) {
    const auto argv =
        tool.run(lock, hold_command(stamp, records, reader, hold_ms), {HoldMode::shared});
    workers.push_back(fork_worker(start, [&] {
      stop.close_write_end();
      writer_start.close_write_end();
      std::int64_t give_up_at = 0;
      while (!stop_signalled(stop) && (give_up_at == 0 || monotonic_ns() < give_up_at)) {
        if (give_up_at == 0 && stop_signalled(writer_start)) {
          give_up_at = monotonic_ns() + give_up_ns;
        }
        expect_success(spawn(argv, options), what + ", a reader");
      }
      return 0;
    }));
  }
  start.close_write_end();
  try {
    wait_for_holders(tool.lock_path(lock), std::min(2, readers), what);
  } catch (const BenchError&) {
    stop.close_write_end(); // the readers stop, and the error is reported
    for (pid_t worker : workers) {
      ::waitpid(worker, nullptr, 0);
    }
    throw;
  }
  writer_start.close_write_end();
  const std::int64_t writer_started = monotonic_ns();
  expect_success(spawn(tool.run(lock, hold_command(stamp, records, readers, hold_ms)), options),
                 what + ", the writer");
  stop.close_write_end();
  for (pid_t worker : workers) {
    expect_success(worker, what + ", a reader worker (messages in " + tool.message_log + ")");
  }

  const std::vector<HoldRecord> holds = read_hold_records(records);
  const HoldRecord* writer = nullptr;
  for (const HoldRecord& hold : holds) {
    if (hold.worker == readers) {
      writer = &hold;
    }
  }
  if (writer == nullptr) {
    throw BenchError(what + ": the writer left no record");
  }
  for (const HoldRecord& hold : holds) {
    if (&hold != writer && hold.start_ns < writer->end_ns && writer->start_ns < hold.end_ns) {
      throw BenchError(what + ": the writer held the lock together with a reader");
    }
  }
  // Readers that still wanted the lock took it again right after the writer; if none did, the
  // writer got in only because they had given up.
  const bool readers_came_after = std::any_of(holds.begin(), holds.end(), [&](const auto& hold) {
    return hold.start_ns >= writer->end_ns;
  });
  return {double(writer->start_ns - writer_started) / 1e6, !readers_came_after};
}

} // namespace

HoldRounds measure_holds(const Setup& setup, const std::string& stamp, HoldMode mode,
                         const HoldWorkload& workload, int rounds) {
  const std::string lock = mode_text(mode) + "-holds";
  HoldRounds result;
  for (int round = 0; round < rounds; ++round) {
    for (ToolIndex index : order_for(round)) {
      const HoldRound measured = hold_round(setup, setup.tools[index], stamp, lock, mode, workload);
      result.rate[index].push_back(rate_of(measured));
      result.mean_holders[index].push_back(mean_holders(measured.records));
      if (mode.kind == HoldMode::exclusive) {
        const auto gaps = refill_gaps_ms(measured.records, 1);
        result.refill_gap_ms[index].insert(result.refill_gap_ms[index].end(), gaps.begin(),
                                           gaps.end());
      }
    }
  }
  return result;
}

SlotRounds measure_slots(const Setup& setup, const std::string& stamp, int slots,
                         const HoldWorkload& workload, int rounds) {
  const HoldMode mode{HoldMode::slots, slots};
  const std::string lock = "slots-" + std::to_string(slots);
  SlotRounds result;
  for (int round = 0; round < rounds; ++round) {
    const HoldRound measured =
        hold_round(setup, setup.tools[buildlock_tool], stamp, lock, mode, workload);
    result.rate.push_back(rate_of(measured));
    const auto gaps = refill_gaps_ms(measured.records, slots);
    result.refill_gap_ms.insert(result.refill_gap_ms.end(), gaps.begin(), gaps.end());
    result.mean_holders += mean_holders(measured.records) / rounds;
  }
  return result;
}

WriterWait measure_writer_wait(const Setup& setup, const std::string& stamp, int readers,
                               int hold_ms, int give_up_ms, int runs) {
  WriterWait result;
  for (int run = 0; run < runs; ++run) {
    for (ToolIndex index : order_for(run)) {
      const WriterRun measured =
          writer_among_readers(setup, setup.tools[index], stamp, readers, hold_ms, give_up_ms);
      result.wait_ms[index].push_back(measured.wait_ms);
      result.starved[index] += measured.starved ? 1 : 0;
    }
  }
  return result;
}

} // namespace buildlock::bench

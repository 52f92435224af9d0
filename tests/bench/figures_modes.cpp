#include "figures_modes.h"

#include "figures.h"
#include "scenarios_modes.h"
#include "stats.h"

#include <cstdio>

namespace buildlock::bench {
namespace {

// The watchdog's limit for each of these phases: minutes beyond what they take on a busy machine.
constexpr unsigned phase_limit_seconds = 900;

std::string held_for(int hold_ms) {
  return "each command holding " + std::to_string(hold_ms) + " ms";
}

double median(const std::vector<double>& samples) {
  return summarize(samples).median;
}

std::string seconds_text(int milliseconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%g s", milliseconds / 1000.0);
  return text;
}

} // namespace

void add_shared(Report& report, const Setup& setup, const Config& config) {
  const Sizes& sizes = config.sizes;
  report.section("Shared: P processes, `run --shared` against `flock -s` on one lock, " +
                 held_for(sizes.hold_ms) + "; the same workload exclusive beside it");
  for (int processes : sizes.processes) {
    const std::string label = "P=" + std::to_string(processes);
    progress("shared and exclusive holds, " + label);
    arm_watchdog("shared holds with " + label, phase_limit_seconds);
    const HoldWorkload workload{processes, sizes.hold_acquisitions, sizes.hold_ms};
    const HoldRounds shared =
        measure_holds(setup, config.stamp, {HoldMode::shared}, workload, sizes.hold_rounds);
    const HoldRounds exclusive =
        measure_holds(setup, config.stamp, {HoldMode::exclusive}, workload, sizes.hold_rounds);
    report.add({"shared throughput " + label,
                "acq/s",
                median(shared.rate[buildlock_tool]),
                median(shared.rate[flock_tool]),
                {}});
    report.add({"commands holding at once, shared " + label + ", mean",
                "holders",
                median(shared.mean_holders[buildlock_tool]),
                median(shared.mean_holders[flock_tool]),
                {}});
    report.add({"exclusive throughput, same workload " + label,
                "acq/s",
                median(exclusive.rate[buildlock_tool]),
                median(exclusive.rate[flock_tool]),
                {}});
  }
}

void add_slots(Report& report, const Setup& setup, const Config& config) {
  const Sizes& sizes = config.sizes;
  report.section("Slots: " + std::to_string(sizes.slot_processes) +
                 " processes, `run --slots N` on one lock, " + held_for(sizes.hold_ms) +
                 " (flock(1) has no counting mode: against the ideal, all N slots always full, "
                 "and against one exclusive lock)");
  const HoldWorkload workload{sizes.slot_processes, sizes.hold_acquisitions, sizes.hold_ms};
  // The peer figure for a refill: the same workload under an exclusive lock, that is one slot.
  progress("exclusive holds, the slots' reference");
  arm_watchdog("exclusive holds", phase_limit_seconds);
  const HoldRounds exclusive =
      measure_holds(setup, config.stamp, {HoldMode::exclusive}, workload, sizes.hold_rounds);
  report.add({"exclusive, same workload: throughput",
              "acq/s",
              median(exclusive.rate[buildlock_tool]),
              median(exclusive.rate[flock_tool]),
              {}});
  if (!exclusive.refill_gap_ms[buildlock_tool].empty() &&
      !exclusive.refill_gap_ms[flock_tool].empty()) {
    report.add({"exclusive, same workload: freed lock to next command start, median",
                "ms",
                median(exclusive.refill_gap_ms[buildlock_tool]),
                median(exclusive.refill_gap_ms[flock_tool]),
                {}});
    report.add({"exclusive, same workload: freed lock to next command start, p90",
                "ms",
                summarize(exclusive.refill_gap_ms[buildlock_tool]).p90,
                summarize(exclusive.refill_gap_ms[flock_tool]).p90,
                {}});
  }
  for (int slots : sizes.slot_counts) {
    const std::string label = "N=" + std::to_string(slots);
    progress("slotted holds, " + label);
    arm_watchdog("slotted holds with " + label, phase_limit_seconds);
    const SlotRounds measured =
        measure_slots(setup, config.stamp, slots, workload, sizes.hold_rounds);
    const double achieved = median(measured.rate);
    const double ideal = slots * 1000.0 / sizes.hold_ms;
    report.add(
        {"throughput --slots " + std::to_string(slots), "acq/s", achieved, std::nullopt, {}});
    report.add(
        {"ideal " + label + ": N slots always full (N / hold)", "acq/s", ideal, std::nullopt, {}});
    report.add({"achieved / ideal " + label, "%", 100 * achieved / ideal, std::nullopt, {}});
    report.add({"commands holding at once " + label + ", mean",
                "holders",
                measured.mean_holders,
                std::nullopt,
                {}});
    if (measured.refill_gap_ms.empty()) {
      continue; // too few runs for a freed slot with a waiter (the smoke test's sizes)
    }
    const Summary gaps = summarize(measured.refill_gap_ms);
    report.add({"freed slot to next command start " + label + ", median",
                "ms",
                gaps.median,
                std::nullopt,
                {}});
    report.add(
        {"freed slot to next command start " + label + ", p90", "ms", gaps.p90, std::nullopt, {}});
  }
}

void add_writer(Report& report, const Setup& setup, const Config& config) {
  const Sizes& sizes = config.sizes;
  report.section("A writer among readers: " + std::to_string(sizes.readers) +
                 " processes keep taking the lock shared, " + held_for(sizes.hold_ms) +
                 ", for up to " + seconds_text(sizes.readers_give_up_ms) +
                 "; one exclusive run starts among them");
  progress("a writer among readers");
  arm_watchdog("a writer among readers", phase_limit_seconds);
  const WriterWait measured = measure_writer_wait(setup, config.stamp, sizes.readers, sizes.hold_ms,
                                                  sizes.readers_give_up_ms, sizes.writer_runs);
  report.add({"writer: start to command start, median",
              "ms",
              median(measured.wait_ms[buildlock_tool]),
              median(measured.wait_ms[flock_tool]),
              {}});
  report.add({"writer: start to command start, max",
              "ms",
              summarize(measured.wait_ms[buildlock_tool]).max,
              summarize(measured.wait_ms[flock_tool]).max,
              {}});
  report.add({"writers starved (in only when the readers gave up), of " +
                  std::to_string(sizes.writer_runs),
              "runs",
              double(measured.starved[buildlock_tool]),
              double(measured.starved[flock_tool]),
              {Goal::at_most, 0}});
}

} // namespace buildlock::bench

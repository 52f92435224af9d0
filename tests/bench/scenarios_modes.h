// The measurements of shared and slotted holds (issue 5). Every command holds the lock for a
// fixed time (`bench_stamp hold`), so that what a mode lets overlap shows in the throughput: with
// `true` as the command, two CPUs are saturated by start-up costs and every mode looks alike.
// Like scenarios.h, each throws BenchError when a process misbehaves or the lock admits more
// holders than its mode allows.
#pragma once

#include "scenarios.h"
#include "setup.h"

#include <array>
#include <string>
#include <vector>

namespace buildlock::bench {

struct HoldWorkload {
  int processes = 0;
  int acquisitions = 0; // per process
  int hold_ms = 0;
};

// Rounds of `workload` in which every run holds the lock as `mode` says (exclusive or shared),
// buildlock and flock(1) alternately: acquisitions per second, and the average number of
// commands that held at once, per round; for exclusive holds also how long the lock stayed free
// after each release while a worker waited (as refill_gap_ms of SlotRounds, with one slot).
struct HoldRounds {
  PerTool rate;
  PerTool mean_holders;
  PerTool refill_gap_ms;
};
HoldRounds measure_holds(const Setup& setup, const std::string& stamp, HoldMode mode,
                         const HoldWorkload& workload, int rounds);

// Rounds of `workload` under `buildlock run --slots N` (flock(1) has no such mode): acquisitions
// per second per round, and how long each freed slot stayed empty while a worker waited.
struct SlotRounds {
  std::vector<double> rate;
  std::vector<double> refill_gap_ms;
  double mean_holders = 0; // over all rounds
};
SlotRounds measure_slots(const Setup& setup, const std::string& stamp, int slots,
                         const HoldWorkload& workload, int rounds);

// `readers` processes keep taking the lock shared (buildlock --shared, flock -s), each holding it
// for `hold_ms`; once two of them hold it at once, one exclusive run is started and timed from
// its start to its command's start. The readers keep coming until it is done, or give up after
// `give_up_ms`. A writer that no reader followed got in only because they had given up: it was
// starved. `runs` such writers per tool.
struct WriterWait {
  PerTool wait_ms;
  std::array<int, 2> starved{};
};
WriterWait measure_writer_wait(const Setup& setup, const std::string& stamp, int readers,
                               int hold_ms, int give_up_ms, int runs);

} // namespace buildlock::bench

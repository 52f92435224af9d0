// The records `bench_stamp hold` leaves, one per hold ("WORKER START END", CLOCK_MONOTONIC), and
// what a round of shared, slotted or exclusive holds achieved, computed from them: how many
// commands held the lock at once, and how long a freed slot stayed empty.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace buildlock::bench {

struct HoldRecord {
  long worker = 0;
  std::int64_t start_ns = 0;
  std::int64_t end_ns = 0;
};

// Sorted by start. Throws BenchError if the file is missing.
std::vector<HoldRecord> read_hold_records(const std::string& path);

// The most commands that held at one instant (one ending as another starts is not an overlap).
int peak_holders(const std::vector<HoldRecord>& records);

// The average number of commands holding, from the first start to the last end.
double mean_holders(const std::vector<HoldRecord>& records);

// For a lock of `slots` slots: how long each freed slot stayed empty while a worker was waiting
// for one, in milliseconds. The k-th release (in time order) frees the slot that the
// (k + slots)-th start fills: that start cannot come earlier, since no more than `slots` hold at
// once. A release counts only if some other worker neither held the lock then nor was done: it
// wanted the slot.
std::vector<double> refill_gaps_ms(const std::vector<HoldRecord>& records, int slots);

} // namespace buildlock::bench

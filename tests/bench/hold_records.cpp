#include "hold_records.h"

#include "process.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <utility>

namespace buildlock::bench {

std::vector<HoldRecord> read_hold_records(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "re");
  if (file == nullptr) {
    throw BenchError("no hold records in `" + path + "`");
  }
  std::vector<HoldRecord> records;
  HoldRecord record;
  long long start = 0, end = 0;
  while (std::fscanf(file, "%ld %lld %lld", &record.worker, &start, &end) == 3) {
    record.start_ns = start;
    record.end_ns = end;
    records.push_back(record);
  }
  std::fclose(file);
  std::sort(records.begin(), records.end(),
            [](const HoldRecord& a, const HoldRecord& b) { return a.start_ns < b.start_ns; });
  return records;
}

int peak_holders(const std::vector<HoldRecord>& records) {
  // (time, +1 for a start or -1 for an end); at equal times the end sorts first.
  std::vector<std::pair<std::int64_t, int>> events;
  events.reserve(records.size() * 2);
  for (const HoldRecord& record : records) {
    events.emplace_back(record.start_ns, +1);
    events.emplace_back(record.end_ns, -1);
  }
  std::sort(events.begin(), events.end());
  int holders = 0;
  int peak = 0;
  for (const auto& event : events) {
    holders += event.second;
    peak = std::max(peak, holders);
  }
  return peak;
}

double mean_holders(const std::vector<HoldRecord>& records) {
  if (records.empty()) {
    return 0;
  }
  std::int64_t first = records.front().start_ns;
  std::int64_t last = records.front().end_ns;
  double held_ns = 0;
  for (const HoldRecord& record : records) {
    first = std::min(first, record.start_ns);
    last = std::max(last, record.end_ns);
    held_ns += double(record.end_ns - record.start_ns);
  }
  return last > first ? held_ns / double(last - first) : 0;
}

namespace {

// Whether a worker other than the one whose hold ended at `released.end_ns` neither held the lock
// then nor was done: it was waiting for it (or about to ask).
bool someone_waited(const std::vector<HoldRecord>& records, const HoldRecord& released) {
  const std::int64_t at = released.end_ns;
  std::map<long, std::pair<bool, bool>> holding_and_more_to_do;
  for (const HoldRecord& record : records) {
    if (record.worker == released.worker) {
      continue;
    }
    auto& [holding, more_to_do] = holding_and_more_to_do[record.worker];
    holding = holding || (record.start_ns <= at && at < record.end_ns);
    more_to_do = more_to_do || record.start_ns > at;
  }
  return std::any_of(holding_and_more_to_do.begin(), holding_and_more_to_do.end(),
                     [](const auto& entry) { return !entry.second.first && entry.second.second; });
}

} // namespace

std::vector<double> refill_gaps_ms(const std::vector<HoldRecord>& records, int slots) {
  std::vector<std::int64_t> starts;
  std::vector<const HoldRecord*> by_end;
  for (const HoldRecord& record : records) {
    starts.push_back(record.start_ns);
    by_end.push_back(&record);
  }
  std::sort(starts.begin(), starts.end());
  std::sort(by_end.begin(), by_end.end(),
            [](const HoldRecord* a, const HoldRecord* b) { return a->end_ns < b->end_ns; });
  std::vector<double> gaps;
  for (std::size_t k = 0; k + std::size_t(slots) < starts.size(); ++k) {
    if (someone_waited(records, *by_end[k])) {
      gaps.push_back(double(starts[k + std::size_t(slots)] - by_end[k]->end_ns) / 1e6);
    }
  }
  return gaps;
}

} // namespace buildlock::bench

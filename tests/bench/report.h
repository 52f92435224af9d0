// Figures for both tools, their ratio, and PASS/MISS against the targets of issue 7; printed as a
// table, written as Markdown (for docs/performance.md) and as tab-separated data.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace buildlock::bench {

enum class Goal {
  none,
  ratio_at_most,  // buildlock / flock <= limit
  ratio_at_least, // buildlock / flock >= limit
  plus_at_most,   // buildlock - flock <= limit
  at_most,        // buildlock <= limit
  below,          // buildlock < limit
};

struct Target {
  Goal goal = Goal::none;
  double limit = 0;
};

struct Row {
  std::string figure;
  std::string unit; // "ms", "acq/s", "MiB", "%", "holders", "runs" (whole numbers)
  double buildlock = 0;
  std::optional<double> flock; // nullopt: flock(1) has no counterpart
  Target target;
};

class Report {
public:
  void section(const std::string& title);
  void add(Row row);

  std::string text() const;     // aligned, for the terminal
  std::string markdown() const; // a Markdown table
  std::string tsv() const;      // one row per line: section, figure, unit, values, verdict
  int misses() const;
  int checked() const;

private:
  struct Entry {
    std::string section; // set on section headers only
    Row row;
  };
  std::vector<Entry> entries_;
};

} // namespace buildlock::bench

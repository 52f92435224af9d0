// Order statistics of a set of samples (nearest-rank percentiles: every reported value is a
// value that was really measured).
#pragma once

#include <cstddef>
#include <vector>

namespace buildlock::bench {

struct Summary {
  std::size_t count = 0;
  double median = 0;
  double p90 = 0;
  double p99 = 0;
  double max = 0;
};

// `samples` must not be empty.
Summary summarize(std::vector<double> samples);

} // namespace buildlock::bench

#include "stats.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace buildlock::bench {
namespace {

double percentile(const std::vector<double>& sorted, double fraction) {
  const auto rank = static_cast<std::size_t>(std::ceil(fraction * double(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

} // namespace

Summary summarize(std::vector<double> samples) {
  if (samples.empty()) {
    throw std::logic_error("summarize: no samples");
  }
  std::sort(samples.begin(), samples.end());
  return {samples.size(), percentile(samples, 0.5), percentile(samples, 0.9),
          percentile(samples, 0.99), samples.back()};
}

} // namespace buildlock::bench

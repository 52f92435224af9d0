#include "support/waiting.h"

#include "support/process.h"

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <thread>

namespace buildlock::test {

::testing::AssertionResult
file_eventually_contains(const std::string& path, const std::string& needle, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const std::string text = read_file(path);
    if (text.find(needle) != std::string::npos) {
      return ::testing::AssertionSuccess();
    }
    if (Clock::now() >= deadline) {
      return ::testing::AssertionFailure() << "`" << path << "` lacks \"" << needle << "\" after "
                                           << timeout.count() << " ms; it holds:\n"
                                           << text;
    }
    std::this_thread::sleep_for(2ms);
  }
}

Clock::duration median(std::vector<Clock::duration> samples) {
  if (samples.empty()) {
    return Clock::duration::zero();
  }
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) {
    lines.push_back(line);
  }
  return lines;
}

std::size_t count_occurrences(const std::string& text, const std::string& needle) {
  std::size_t count = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

double to_ms(Clock::duration duration) {
  return std::chrono::duration<double, std::milli>(duration).count();
}

void report_measurement(const std::string& what, Clock::duration duration) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", to_ms(duration));
  std::printf("[ measured ] %s: %s ms\n", what.c_str(), text);
  std::fflush(stdout);
  ::testing::Test::RecordProperty(what, text);
}

} // namespace buildlock::test

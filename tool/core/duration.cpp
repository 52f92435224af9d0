#include "core/duration.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace buildlock::core {

Result<Seconds> parse_seconds(std::string_view text, std::string_view what) {
  const std::string copy(text);
  auto bad = [&](const std::string& why) -> Result<Seconds> {
    std::string shown; // one printable line, whatever was passed
    for (char c : copy.substr(0, 40)) {
      shown += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
    }
    return Error{ErrorKind::usage, std::string(what) + ": `" + shown + "` is " + why};
  };

  if (copy.empty()) {
    return bad("empty; expected a number of seconds");
  }
  // strtod accepts leading blanks, hex floats and "inf"/"nan"; allow only plain decimals.
  for (char c : copy) {
    if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '-' || c == '+')) {
      return bad("not a number of seconds");
    }
  }
  char* end = nullptr;
  const double value = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || !std::isfinite(value)) {
    return bad("not a number of seconds");
  }
  if (value < 0) {
    return bad("negative");
  }
  constexpr double one_year = 365.0 * 24 * 3600;
  if (value > one_year) {
    return bad("longer than a year");
  }
  return Seconds(value);
}

std::string format_duration(Seconds duration) {
  double seconds = duration.count();
  if (seconds < 0) {
    seconds = 0;
  }
  // Round to what is shown before picking the unit, so 59.96 s reads "1m00s", not "60.0s".
  seconds = seconds < 59.95 ? std::round(seconds * 10) / 10 : std::round(seconds);
  char buffer[64];
  if (seconds < 60) {
    std::snprintf(buffer, sizeof buffer, "%.1fs", seconds);
  } else if (seconds < 3600) {
    const long whole = static_cast<long>(seconds);
    std::snprintf(buffer, sizeof buffer, "%ldm%02lds", whole / 60, whole % 60);
  } else {
    const long whole = static_cast<long>(seconds);
    std::snprintf(buffer, sizeof buffer, "%ldh%02ldm", whole / 3600, (whole % 3600) / 60);
  }
  return buffer;
}

} // namespace buildlock::core

#include "support/skip_or_fail.h"

#include <cstdlib>
#include <string_view>
#include <unistd.h>

namespace buildlock::test {

bool running_in_ci() {
  const char* value = std::getenv("CI");
  return value != nullptr && std::string_view(value) == "true";
}

std::string why_not_root(const std::string& needs) {
  if (::geteuid() == 0) {
    return {};
  }
  return "needs root (runs as uid " + std::to_string(::geteuid()) + "): " + needs;
}

} // namespace buildlock::test

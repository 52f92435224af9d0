#include "support/kernel_locks.h"

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace buildlock::test {

bool kernel_locks_off() {
  static const bool off = [] {
    const char* value = std::getenv("BUILDLOCK_TEST_KERNEL_LOCKS");
    const std::string_view text = value != nullptr ? value : "";
    if (text != "" && text != "off") {
      std::fprintf(stderr, "BUILDLOCK_TEST_KERNEL_LOCKS must be unset, empty or `off`, not `%s`\n",
                   value);
      std::exit(2);
    }
    return text == "off";
  }();
  return off;
}

std::string live_holder_reason() {
  return kernel_locks_off() ? "pid-alive" : "kernel-lock-held";
}

std::vector<std::string> with(std::vector<std::string> options,
                              const std::vector<std::string>& more) {
  options.insert(options.end(), more.begin(), more.end());
  return options;
}

} // namespace buildlock::test

#include "core/kernel_lock_use.h"

#include <string>

namespace buildlock::core {

Result<KernelLockUse> parse_kernel_lock_use(std::string_view text, std::string_view where) {
  if (text == "auto") {
    return KernelLockUse::automatic;
  }
  if (text == "on") {
    return KernelLockUse::required;
  }
  if (text == "off") {
    return KernelLockUse::never;
  }
  std::string shown(text.substr(0, 40));
  for (char& c : shown) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      c = '?';
    }
  }
  return Error{ErrorKind::usage,
               std::string(where) + " must be auto, on or off, not `" + shown + "`"};
}

} // namespace buildlock::core

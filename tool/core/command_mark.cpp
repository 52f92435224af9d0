#include "core/command_mark.h"

#include "core/nesting.h"

namespace buildlock::core {

std::string lock_mark_name(os::FileIdentity identity) {
  return "buildlock-lock-" + std::to_string(identity.device) + "-" + std::to_string(identity.inode);
}

os::ProcessMark command_mark(os::FileIdentity identity) {
  return os::ProcessMark{
      held_locks_variable,
      [identity](std::string_view held_locks) { return held_locks_name(held_locks, identity); },
      lock_mark_name(identity)};
}

} // namespace buildlock::core

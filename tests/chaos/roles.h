// What one run of a worker asks buildlock for, per variant, and which detector its critical
// section checks (see chaos_holder.cpp).
#pragma once

#include "options.h"

#include <random>
#include <string>
#include <vector>

namespace buildlock::chaos {

struct Role {
  std::string holder_role;                    // chaos_holder's ROLE: exclusive, reader or slot
  std::vector<std::string> buildlock_options; // before LOCK: --shared, --slots N, or none
};

// exclusive: always exclusive. shared: a --shared reader, or an exclusive writer with probability
// writer_percent. slotted: always --slots N.
Role choose_role(const Options& options, Variant variant, std::mt19937_64& random);

} // namespace buildlock::chaos

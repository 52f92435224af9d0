#include "os/random.h"

#include <random>

namespace buildlock::os {

std::uint64_t random_seed() {
  std::random_device device; // rand_s with MinGW-w64 and MSVC
  return (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

} // namespace buildlock::os

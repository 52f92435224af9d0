#include "os/random.h"

#include <cerrno>
#include <random>
#if defined(__linux__)
#include <sys/random.h>
#endif

namespace buildlock::os {

std::uint64_t random_seed() {
#if defined(__linux__)
  std::uint64_t seed = 0;
  ssize_t got = -1;
  do {
    got = ::getrandom(&seed, sizeof seed, 0);
  } while (got < 0 && errno == EINTR);
  if (got == static_cast<ssize_t>(sizeof seed)) {
    return seed;
  }
#endif
  // No getrandom (a kernel older than 3.17, a seccomp filter): what the C++ library offers.
  std::random_device device;
  return (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

} // namespace buildlock::os

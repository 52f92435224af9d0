// Unpredictable bits from the operating system, to seed the generator of temporary file names.
#pragma once

#include <cstdint>

namespace buildlock::os {

// 64 bits from the system's random source. POSIX: getrandom(2) on Linux (std::random_device
// probes the CPU with cpuid first, which a virtual machine traps: about 1.7% of an uncontended
// run's CPU there, docs/performance.md), std::random_device elsewhere; Windows:
// std::random_device (rand_s).
std::uint64_t random_seed();

} // namespace buildlock::os

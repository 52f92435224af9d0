// libFuzzer's entry point for the metadata and staleness target (built with BUILDLOCK_FUZZ=ON,
// clang and -fsanitize=fuzzer; see docs/robustness.md).
#include "metadata_staleness_target.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  buildlock::fuzz::check_metadata_and_staleness({data, size});
  return 0;
}

// The fuzz target for the two places where bytes from a lock file decide what buildlock does:
// parse_metadata() and judge(). One input is one scenario:
//
//   byte 0   beacon:                 0 held, 1 free, 2 unsupported (no kernel locks)
//   byte 1   probe of the pid:       0 alive, 1 dead, 2 unknown
//   byte 2   probed start time:      0 none, 1 the recorded one, 2 another one
//   byte 3   observer's boot id:     0 the holder's, 1 another, 2 none
//   byte 4   observer's namespace:   0 the holder's, 1 another
//   byte 5   observer's host:        0 the holder's, 1 another
//   byte 6   age of the lock         (an entry of lock_ages in the .cpp, '0' = the first)
//   byte 7   --stale-after           (an entry of stale_after_choices)
//   byte 8   observer's uptime       (an entry of uptime_choices)
//   byte 9.. the lock file's contents, given to parse_metadata()
//
// The observer's machine is derived from the parsed metadata ("the holder's boot id"), because
// random bytes would almost never spell the same boot id twice. Every choice byte is taken modulo
// its number of options, counted from '0', so seed files spell scenarios as digits
// ("110000000{...}": free beacon, dead pid, rest default). See docs/robustness.md.
//
// Every invariant is checked on every input; a violation prints what was violated and aborts,
// which libFuzzer reports as a crash and the corpus replay as a failed test.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace buildlock::fuzz {

// What one input reached, for the corpus replay's coverage check.
struct TargetOutcome {
  bool metadata_usable = false;
  std::string reason; // the verdict's reason code
};

TargetOutcome check_metadata_and_staleness(std::span<const std::uint8_t> input);

// The reason codes judge() may return: the table in docs/protocol.md ("Reason codes"), without the
// group codes (`members-*`, `group-*`), which core/probe.cpp gives an anchor after judge().
std::vector<std::string_view> documented_reasons();

} // namespace buildlock::fuzz

// The no-kernel-lock pass: ctest runs every `buildlock run` scenario test a second time (test
// names `nokernel.*`, label `no-kernel-locks`) with BUILDLOCK_TEST_KERNEL_LOCKS=off in its
// environment. IntegrationTest then starts every buildlock without kernel locks: `run` command
// lines get `--kernel-locks off`, and every program gets BUILDLOCK_KERNEL_LOCKS=off, which reaches
// nested runs, shell loops and status/clean/break alike.
//
// Where the correct outcome differs without kernel locks (docs/shared-filesystems.md, "Kernel
// locks"), a test asks kernel_locks_off() and expects the documented outcome of that mode.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace buildlock::test {

// True in the no-kernel-lock pass. Reads BUILDLOCK_TEST_KERNEL_LOCKS: unset or empty (the
// ordinary pass) or `off`; any other value stops the test program, so that a typo never runs the
// ordinary pass under the other pass's name.
bool kernel_locks_off();

// The reason code with which a waiter sees a live holder on this machine: `kernel-lock-held`
// (its kernel lock), or `pid-alive` without kernel locks (its pid is checked).
std::string live_holder_reason();

// Without kernel locks nobody wakes a waiter: it looks again after 10 ms, doubling up to this
// (docs/shared-filesystems.md). Latency bounds of that mode are built on it.
inline constexpr std::chrono::milliseconds longest_poll_interval{250};

// Explicit settings, for tests that mix them (those run in the ordinary pass only), and
// `options` with `more` after them.
inline const std::vector<std::string> kernel_locks_off_setting = {"--kernel-locks", "off"};
inline const std::vector<std::string> kernel_locks_auto_setting = {"--kernel-locks", "auto"};
std::vector<std::string> with(std::vector<std::string> options,
                              const std::vector<std::string>& more);

} // namespace buildlock::test

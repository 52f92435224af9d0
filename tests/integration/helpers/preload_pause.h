// What the libraries that tests preload into buildlock (link_hook, exec_hook) share: the names
// they match calls by, and the stop at a call, through two descriptors the test passes down:
// PREFIX_NOTIFY_FD, where the hook writes one byte when it stops, and PREFIX_RESUME_FD, where it
// waits for one byte (or end of file) before it lets the call go on.
//
// Only system calls and the environment, nothing on the heap: exec_hook runs in buildlock's
// child while that shares buildlock's memory (clone with CLONE_VM), where another thread may hold
// the allocator's lock.
#pragma once

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

namespace buildlock::hook {

inline bool ends_with(const char* text, const char* suffix) {
  const std::size_t length = std::strlen(text);
  const std::size_t suffix_length = std::strlen(suffix);
  return length >= suffix_length && std::strcmp(text + length - suffix_length, suffix) == 0;
}

inline bool starts_with(const char* text, const char* prefix) {
  return std::strncmp(text, prefix, std::strlen(prefix)) == 0;
}

// The descriptor number in `variable`; -1 when it is unset or empty.
inline int descriptor_from(const char* variable) {
  const char* value = std::getenv(variable);
  return value != nullptr && *value != '\0' ? std::atoi(value) : -1;
}

enum class Resumed { by_byte, for_good, not_stopped };

// Writes one byte to descriptor `notify_variable` names and waits for one on the descriptor
// `resume_variable` names: `for_good` when that one ended instead (the test lets every later
// call through), `not_stopped` when a descriptor is not given.
inline Resumed stop_here(const char* notify_variable, const char* resume_variable) {
  const int notify = descriptor_from(notify_variable);
  const int resume = descriptor_from(resume_variable);
  if (notify < 0 || resume < 0) {
    return Resumed::not_stopped;
  }
  const char byte = '.';
  while (::write(notify, &byte, 1) < 0 && errno == EINTR) {
  }
  char got = 0;
  ssize_t n = 0;
  while ((n = ::read(resume, &got, 1)) < 0 && errno == EINTR) {
  }
  return n == 1 ? Resumed::by_byte : Resumed::for_good;
}

} // namespace buildlock::hook

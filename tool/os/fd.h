// Fd: sole owner of one open file (a descriptor on POSIX, a file HANDLE on Windows); closes it
// when destroyed. Move-only.
#pragma once

#include <cstdint>
#include <utility>

namespace buildlock::os {

// What the OS calls an open file: a descriptor, or on Windows a HANDLE kept as an integer (HANDLE
// is a pointer type, and <windows.h> stays out of every header). Valid ones are never negative
// on either: -1 is "none" (INVALID_HANDLE_VALUE on Windows).
#if defined(_WIN32)
using NativeHandle = std::intptr_t;
#else
using NativeHandle = int;
#endif

class Fd {
public:
  Fd() = default;
  explicit Fd(NativeHandle fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset(std::exchange(other.fd_, -1));
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  NativeHandle get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }

  // Gives up ownership without closing.
  NativeHandle release() { return std::exchange(fd_, -1); }
  // Closes the current one (errors ignored: nothing useful can be done) and adopts `fd`.
  void reset(NativeHandle fd = -1);

private:
  NativeHandle fd_ = -1;
};

} // namespace buildlock::os

// Result<T>: a value or an Error, carried up until the top level prints it.
//
// Lives in os/ because the OS layer is the lowest layer and produces most errors; core/ and cli/
// use the same type so that there is one error path from a failed syscall to the one
// `buildlock: error: ...` line.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace buildlock {

// What went wrong, coarse enough to pick an exit status (see cli/exit_status.h).
enum class ErrorKind {
  usage,          // bad command line or environment variable
  lock_directory, // the lock directory or an entry in it cannot be used
  timeout,        // gave up waiting for the lock
  mode_conflict,  // the lock is held in another mode or with another slot count
  command_not_executable,
  command_not_found,
  system, // anything else the OS refused
  input,  // `report`: a trace file that cannot be read, or that is not a trace
};

struct Error {
  ErrorKind kind = ErrorKind::system;
  std::string message;

  // Prefixes context, e.g. with("reading lock metadata `x`") -> "reading lock metadata `x`: ...".
  Error with(const std::string& context) && {
    message = context + ": " + message;
    return std::move(*this);
  }
};

template <class T> class [[nodiscard]] Result {
public:
  Result(T value) : state_(std::move(value)) {}
  Result(Error error) : state_(std::move(error)) {}

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(state_); }
  const T& value() const { return std::get<0>(state_); }
  T& operator*() { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  Error& error() { return std::get<1>(state_); }
  const Error& error() const { return std::get<1>(state_); }

private:
  std::variant<T, Error> state_;
};

struct Ok {};
using Status = Result<Ok>;
inline Status ok_status() {
  return Ok{};
}

} // namespace buildlock

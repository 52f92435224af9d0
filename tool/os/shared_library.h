// SharedLibrary: sole owner of a shared library loaded at run time; unloads it when destroyed.
// Move-only.
//
// For optional dependencies only (libcurl, which only an etcd:// lock location needs): linking
// them would make every start of buildlock pay for loading them and their own dependencies.
#pragma once

#include "os/result.h"

#include <string>
#include <utility>
#include <vector>

namespace buildlock::os {

class SharedLibrary {
public:
  // The first of `names` (file names the loader looks up, e.g. "libcurl.so.4") that loads.
  // Error: ErrorKind::system naming every name tried and why the last one failed.
  static Result<SharedLibrary> open(const std::vector<std::string>& names);

  SharedLibrary(SharedLibrary&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  SharedLibrary& operator=(SharedLibrary&& other) noexcept;
  SharedLibrary(const SharedLibrary&) = delete;
  SharedLibrary& operator=(const SharedLibrary&) = delete;
  ~SharedLibrary();

  // The address of `name` in the library, or nullptr when it has none.
  void* symbol(const char* name) const;

private:
  explicit SharedLibrary(void* handle) : handle_(handle) {}
  void* handle_ = nullptr;
};

} // namespace buildlock::os

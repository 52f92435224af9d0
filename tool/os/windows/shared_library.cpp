#include "os/shared_library.h"

#include "os/system_error.h"
#include "os/windows/native.h"

namespace buildlock::os {

Result<SharedLibrary> SharedLibrary::open(const std::vector<std::string>& names) {
  Error why{ErrorKind::system, "no library name given"};
  for (const std::string& name : names) {
    // LOAD_LIBRARY_SEARCH_DEFAULT_DIRS: the application's folder and System32, never the current
    // directory, where anyone who can write to a build folder could plant a DLL of that name.
    if (HMODULE handle = ::LoadLibraryExW(widen(name).c_str(), nullptr,
                                          LOAD_LIBRARY_SEARCH_DEFAULT_DIRS)) {
      return SharedLibrary(static_cast<void*>(handle));
    }
    why = last_system_error(name);
  }
  std::string tried;
  for (const std::string& name : names) {
    tried += (tried.empty() ? "" : ", ") + name;
  }
  return Error{ErrorKind::system, "cannot load " + tried + " (" + why.message + ")"};
}

SharedLibrary& SharedLibrary::operator=(SharedLibrary&& other) noexcept {
  if (this != &other) {
    if (handle_ != nullptr) {
      ::FreeLibrary(static_cast<HMODULE>(handle_));
    }
    handle_ = std::exchange(other.handle_, nullptr);
  }
  return *this;
}

SharedLibrary::~SharedLibrary() {
  if (handle_ != nullptr) {
    ::FreeLibrary(static_cast<HMODULE>(handle_));
  }
}

void* SharedLibrary::symbol(const char* name) const {
  // GetProcAddress returns a function pointer type; every caller casts it back to one.
  return handle_ != nullptr
             ? reinterpret_cast<void*>(::GetProcAddress(static_cast<HMODULE>(handle_), name))
             : nullptr;
}

} // namespace buildlock::os

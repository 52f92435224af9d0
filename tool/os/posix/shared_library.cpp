#include "os/shared_library.h"

#include <dlfcn.h>

namespace buildlock::os {

Result<SharedLibrary> SharedLibrary::open(const std::vector<std::string>& names) {
#ifdef BUILDLOCK_FULLY_STATIC
  // A static glibc's dlopen() maps a second libc beside the one linked in; the library's first
  // call into it can crash the process (seen: SIGSEGV at exit after a libcurl transfer).
  (void)names;
  return Error{ErrorKind::system, "this buildlock is linked fully statically "
                                  "(BUILDLOCK_LINKAGE=static) and cannot load shared libraries"};
#else
  std::string why = "no library name given";
  for (const std::string& name : names) {
    // RTLD_LOCAL: the library's symbols serve only the pointers looked up here.
    if (void* handle = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL)) {
      return SharedLibrary(handle);
    }
    const char* error = dlerror();
    why = error != nullptr ? error : name + ": cannot be loaded";
  }
  std::string tried;
  for (const std::string& name : names) {
    tried += (tried.empty() ? "" : ", ") + name;
  }
  return Error{ErrorKind::system, "cannot load " + tried + " (" + why + ")"};
#endif
}

SharedLibrary& SharedLibrary::operator=(SharedLibrary&& other) noexcept {
  if (this != &other) {
    if (handle_ != nullptr) {
      dlclose(handle_);
    }
    handle_ = std::exchange(other.handle_, nullptr);
  }
  return *this;
}

SharedLibrary::~SharedLibrary() {
  if (handle_ != nullptr) {
    dlclose(handle_);
  }
}

void* SharedLibrary::symbol(const char* name) const {
  return handle_ != nullptr ? dlsym(handle_, name) : nullptr;
}

} // namespace buildlock::os

// What every Windows implementation file of os/ shares: <windows.h>, the conversion between
// NativeHandle (os/fd.h) and HANDLE, and between UTF-8 (every std::string path in buildlock) and
// the UTF-16 of the Windows API. Included by os/windows/*.cpp only, never by a header of os/.
#pragma once

#include "os/fd.h"

#include <string>
#include <windows.h>

namespace buildlock::os {

inline HANDLE to_handle(NativeHandle handle) {
  // The one place a handle kept as an integer becomes a HANDLE again.
  return reinterpret_cast<HANDLE>(handle); // NOLINT(performance-no-int-to-ptr)
}

// INVALID_HANDLE_VALUE and null both become -1 ("none").
inline NativeHandle from_handle(HANDLE handle) {
  if (handle == INVALID_HANDLE_VALUE || handle == nullptr) {
    return -1;
  }
  return reinterpret_cast<NativeHandle>(handle);
}

// UTF-8 -> UTF-16. Invalid UTF-8 becomes U+FFFD: such a path names nothing buildlock created.
std::wstring widen(const std::string& text);
// UTF-16 -> UTF-8. Unpaired surrogates (possible in NTFS names) become U+FFFD.
std::string narrow(const std::wstring& text);

} // namespace buildlock::os

#include "os/system_error.h"

#include "os/windows/native.h"

namespace buildlock::os {
namespace {

// The system's text for a Win32 error code, without the final period and line break, so that it
// reads like strerror(): "cannot open `x`: The system cannot find the file specified".
std::string error_text(DWORD err) {
  wchar_t* buffer = nullptr;
  const DWORD length = ::FormatMessageW(
      FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
      nullptr, err, 0, reinterpret_cast<wchar_t*>(&buffer), 0, nullptr);
  std::string text;
  if (length > 0 && buffer != nullptr) {
    text = narrow(std::wstring(buffer, length));
  }
  ::LocalFree(buffer);
  while (!text.empty() &&
         (text.back() == '\n' || text.back() == '\r' || text.back() == ' ' || text.back() == '.')) {
    text.pop_back();
  }
  if (text.empty()) {
    text = "error " + std::to_string(err);
  }
  return text;
}

} // namespace

Error system_error(const std::string& what, int err, ErrorKind kind) {
  return Error{kind, what + ": " + error_text(static_cast<DWORD>(err))};
}

Error last_system_error(const std::string& what, ErrorKind kind) {
  return system_error(what, static_cast<int>(::GetLastError()), kind);
}

} // namespace buildlock::os

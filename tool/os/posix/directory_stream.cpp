#include "os/posix/directory_stream.h"

#include <cerrno>
#include <charconv>
#include <string_view>
#include <system_error>

namespace buildlock::os {

DirectoryStream::DirectoryStream(const std::string& path)
    : directory_(::opendir(path.c_str())), open_error_(directory_ == nullptr ? errno : 0) {}

DirectoryStream::~DirectoryStream() {
  if (directory_ != nullptr) {
    ::closedir(directory_);
  }
}

std::optional<std::string> DirectoryStream::next() {
  if (directory_ == nullptr) {
    return std::nullopt;
  }
  // readdir() returns null both at the end and on an error; only an error sets errno.
  errno = 0;
  while (const dirent* entry = ::readdir(directory_)) {
    const std::string_view name = entry->d_name;
    if (name != "." && name != "..") {
      return std::string(name);
    }
  }
  read_error_ = errno;
  return std::nullopt;
}

std::optional<std::int64_t> ProcessDirectory::next_pid() {
  while (const auto name = proc_.next()) {
    // Only digits: /proc's other entries (self, sys, meminfo...) are not processes.
    std::int64_t pid = 0;
    const char* end = name->data() + name->size();
    const auto [stop, error] = std::from_chars(name->data(), end, pid);
    if (error == std::errc{} && stop == end && pid > 0) {
      return pid;
    }
  }
  return std::nullopt;
}

} // namespace buildlock::os

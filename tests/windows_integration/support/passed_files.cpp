#include "support/passed_files.h"

#include "os/filesystem.h"

#include <fstream>
#include <windows.h>

namespace buildlock::windows_test {

bool file_exists(const std::string& path) {
  return GetFileAttributesA(path.c_str()) != INVALID_FILE_ATTRIBUTES;
}

void write_file(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".tmp";
  std::ofstream(temporary, std::ios::binary) << text;
  MoveFileExA(temporary.c_str(), path.c_str(), MOVEFILE_REPLACE_EXISTING);
}

std::string read_file(const std::string& path) {
  const auto file = os::open_regular_file(path);
  if (!file) {
    return {};
  }
  bool truncated = false;
  const auto text = os::read_prefix(file.value(), std::size_t{1} << 20, truncated);
  return text ? text.value() : std::string{};
}

} // namespace buildlock::windows_test

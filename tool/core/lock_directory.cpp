#include "core/lock_directory.h"

#include "os/filesystem.h"

#include <cstdlib>

namespace buildlock::core {
namespace {

const char* non_empty_env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : nullptr;
}

} // namespace

Result<std::string> resolve_lock_directory(const std::optional<std::string>& from_option) {
  if (from_option) {
    if (from_option->empty()) {
      return Error{ErrorKind::usage, "--dir: empty directory name"};
    }
    return *from_option;
  }
  if (const char* dir = non_empty_env("BUILDLOCK_DIR")) {
    return std::string(dir);
  }
  auto cache = os::user_cache_directory();
  if (!cache) {
    return Error{ErrorKind::usage, "no lock directory: pass --dir or set BUILDLOCK_DIR (" +
                                       cache.error().message + ")"};
  }
  return os::join_path(*cache, "buildlock");
}

Error lock_directory_error(const std::string& directory, Error cause) {
  return Error{ErrorKind::lock_directory, "lock directory `" + directory + "`: " + cause.message +
                                              " (use another with --dir or BUILDLOCK_DIR)"};
}

Status prepare_lock_directory(const std::string& directory, const Messages& messages) {
  if (auto made = os::make_directories(directory); !made) {
    return lock_directory_error(directory, std::move(made.error()));
  }
  auto info = os::stat_entry(directory);
  if (!info) {
    return lock_directory_error(directory, std::move(info.error()));
  }
  constexpr std::uint32_t world_writable = 0002;
  constexpr std::uint32_t sticky = 01000;
  if ((info->mode & world_writable) != 0 && (info->mode & sticky) == 0) {
    messages.warning("lock directory `" + directory +
                     "` is world-writable without the sticky bit: any user can remove its locks "
                     "(chmod +t it)");
  }
  return ok_status();
}

std::uint32_t permissions_for_directory_users(std::uint32_t directory_mode) {
  constexpr std::uint32_t sticky = 01000;
  if ((directory_mode & sticky) != 0) {
    return 0;
  }
  std::uint32_t bits = 0;
  if ((directory_mode & 0020) != 0) {
    bits |= 0060;
  }
  if ((directory_mode & 0002) != 0) {
    bits |= 0006;
  }
  return bits;
}

} // namespace buildlock::core

#include "proc_locks.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sys/stat.h>
#include <sys/sysmacros.h>

namespace buildlock::bench {
namespace {

// One blocked request of /proc/locks, e.g. "1: -> FLOCK  ADVISORY  WRITE 12709 fe:00:10952833 0
// EOF".
struct BlockedRequest {
  pid_t pid = 0;
  FileKey file;
};

// Plain stdio, no iostreams: bench_stamp uses this while it holds a lock under measurement.
std::optional<BlockedRequest> parse_blocked(const char* line) {
  char kind[16] = {};
  long pid = 0;
  unsigned major_number = 0, minor_number = 0;
  unsigned long long inode = 0;
  if (std::sscanf(line, "%*s -> %15s %*s %*s %ld %x:%x:%llu", kind, &pid, &major_number,
                  &minor_number, &inode) != 5 ||
      std::strcmp(kind, "FLOCK") != 0) {
    return std::nullopt;
  }
  return BlockedRequest{static_cast<pid_t>(pid), FileKey{major_number, minor_number, inode}};
}

// One granted lock, e.g. "1: FLOCK  ADVISORY  READ 12709 fe:00:10952833 0 EOF".
std::optional<FileKey> parse_held_flock(const char* line) {
  char kind[16] = {};
  unsigned major_number = 0, minor_number = 0;
  unsigned long long inode = 0;
  if (std::strstr(line, "->") != nullptr ||
      std::sscanf(line, "%*s %15s %*s %*s %*d %x:%x:%llu", kind, &major_number, &minor_number,
                  &inode) != 4 ||
      std::strcmp(kind, "FLOCK") != 0) {
    return std::nullopt;
  }
  return FileKey{major_number, minor_number, inode};
}

template <typename Visit> void for_each_line(Visit visit) {
  std::FILE* locks = std::fopen("/proc/locks", "re");
  if (locks == nullptr) {
    return;
  }
  char* line = nullptr;
  std::size_t capacity = 0;
  while (::getline(&line, &capacity, locks) > 0) {
    visit(line);
  }
  std::free(line);
  std::fclose(locks);
}

template <typename Visit> void for_each_blocked(Visit visit) {
  for_each_line([&](const char* line) {
    if (auto request = parse_blocked(line)) {
      visit(*request);
    }
  });
}

} // namespace

std::optional<FileKey> file_key(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    return std::nullopt;
  }
  return FileKey{major(info.st_dev), minor(info.st_dev), std::uint64_t(info.st_ino)};
}

int count_blocked_waiters(const FileKey& file) {
  int count = 0;
  for_each_blocked([&](const BlockedRequest& request) { count += request.file == file ? 1 : 0; });
  return count;
}

int count_holders(const FileKey& file) {
  int count = 0;
  for_each_line([&](const char* line) {
    const auto held = parse_held_flock(line);
    count += held && *held == file ? 1 : 0;
  });
  return count;
}

bool is_blocked_in_flock(pid_t pid) {
  bool found = false;
  for_each_blocked([&](const BlockedRequest& request) { found = found || request.pid == pid; });
  return found;
}

} // namespace buildlock::bench

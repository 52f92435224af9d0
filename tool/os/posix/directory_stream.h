// DirectoryStream: sole owner of one open directory (opendir), closed when destroyed, that yields
// the names of its entries. ProcessDirectory: the same over /proc, yielding only the entries that
// are processes, as pids. POSIX only: what the posix/ files that scan a directory share.
#pragma once

#include <cstdint>
#include <dirent.h>
#include <optional>
#include <string>

namespace buildlock::os {

class DirectoryStream {
public:
  // Opens `path`; whether that worked is is_open(), and why not open_error().
  explicit DirectoryStream(const std::string& path);
  ~DirectoryStream();
  DirectoryStream(const DirectoryStream&) = delete;
  DirectoryStream& operator=(const DirectoryStream&) = delete;

  bool is_open() const { return directory_ != nullptr; }
  // The errno of the failed opendir() (ENOENT, EACCES...); 0 when open.
  int open_error() const { return open_error_; }

  // The next entry's name, "." and ".." left out; nullopt at the end, when the directory is not
  // open, or when reading failed (then read_error() says why).
  std::optional<std::string> next();
  // The errno of the readdir() that failed; 0 while none has.
  int read_error() const { return read_error_; }

private:
  DIR* directory_;
  int open_error_ = 0;
  int read_error_ = 0;
};

// The processes listed in /proc: its numeric entries. A process that ends during the scan may
// still be yielded, and one that starts during it may be missed: callers that read a process's
// files take ENOENT as "gone meanwhile".
class ProcessDirectory {
public:
  // `proc`: another directory laid out like /proc, for tests.
  explicit ProcessDirectory(const std::string& proc = "/proc") : proc_(proc) {}

  // false without a readable /proc (not Linux, or not mounted).
  bool is_open() const { return proc_.is_open(); }
  // The next process's pid (always > 0); nullopt at the end.
  std::optional<std::int64_t> next_pid();

private:
  DirectoryStream proc_;
};

} // namespace buildlock::os

// The filesystem calls buildlock needs, each refusing to follow symbolic links where a lock
// entry is concerned: a lock directory may be shared with other users (`/tmp`-like), so nothing
// there is trusted to point where it claims.
#pragma once

#include "os/fd.h"
#include "os/result.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace buildlock::os {

enum class EntryType { missing, regular, directory, symlink, fifo, socket, device, other };

// Name of an EntryType for messages: "a symbolic link", "a FIFO", ...
const char* describe(EntryType type);

struct FileIdentity {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  friend bool operator==(const FileIdentity&, const FileIdentity&) = default;
};

struct EntryInfo {
  EntryType type = EntryType::missing;
  FileIdentity identity;
  std::int64_t size = 0;
  std::int64_t mtime_ns = 0; // modification time on the filesystem's own clock
  std::int64_t ctime_ns = 0; // status change time (link, unlink, rename, utimes), same clock
  std::int64_t owner_uid = -1;
  std::uint32_t mode = 0; // permission bits, including sticky
};

// lstat(): never follows a final symbolic link. A missing entry is not an error.
Result<EntryInfo> lstat_entry(const std::string& path);
// stat(): follows links (for the lock directory itself, which users may point anywhere).
Result<EntryInfo> stat_entry(const std::string& path);
Result<EntryInfo> fstat_entry(const Fd& fd);
// The same for a descriptor this process does not own (an inherited one).
Result<EntryInfo> fstat_entry(NativeHandle fd);

// mkdir -p with mode 0777 & ~umask.
Status make_directories(const std::string& path);

// Creates a new regular file (O_EXCL, never through a link), open read-write.
Result<Fd> create_new_file(const std::string& path);
// The same, but a name that exists already is an outcome, not an error: nullopt.
Result<std::optional<Fd>> create_new_file_unless_taken(const std::string& path);

// Adds the permission bits `bits` (0060: group read and write, 0006: others') to a file we own.
// POSIX: fchmod. Windows: nothing to do (a file gets its directory's inherited access list, and
// nothing restricts hard links by owner there).
Status add_permissions(const Fd& fd, std::uint32_t bits);

// What an opened file is for. `locking`: to take its kernel lock, which on NFS needs the file open
// for writing for an exclusive lock (flock is emulated with byte-range locks there), so the file
// is opened read-write where we may write it and read-only otherwise (someone else's file, a
// read-only mount). Nothing is ever written through it: the file and its modification time stay
// as they are (opening does not change them, on NFS either).
enum class OpenFor { reading, locking };

// Opens an existing regular file without following links or blocking on FIFOs, never creating or
// truncating it. Fails with ErrorKind::lock_directory if the entry is not a regular file.
Result<Fd> open_regular_file(const std::string& path, OpenFor purpose = OpenFor::reading);
// The same, but a name that does not exist (any more) is not an error: nullopt.
Result<std::optional<Fd>> open_regular_file_if_present(const std::string& path,
                                                       OpenFor purpose = OpenFor::reading);

Status write_all(const Fd& fd, const std::string& data);

// Up to `limit` bytes from offset 0; sets `truncated` when the file holds more.
Result<std::string> read_prefix(const Fd& fd, std::size_t limit, bool& truncated);

// Gives the complete file `from` the new name `to` unless that name exists: true when `to` was
// created, false when it already existed (never replaced). POSIX: link(), and `from` stays;
// Windows: MoveFileExW without MOVEFILE_REPLACE_EXISTING, and `from` is gone. Callers remove
// `from` afterwards either way.
Result<bool> link_new_name(const std::string& from, const std::string& to);

// A second name (a hard link: link(), CreateHardLinkW) of an existing file: `from` gone is an
// outcome, not an error, and so is `refused`: the kernel will not make that link for us (Linux's
// fs.protected_hardlinks refuses a link to another user's file that we may not both read and
// write: EPERM; so does a filesystem without hard links).
enum class LinkOutcome { linked, name_taken, source_gone, refused };
Result<LinkOutcome> link_unless_taken(const std::string& from, const std::string& to);

// unlink(): true when removed, false when it was already gone. On Windows with POSIX delete
// semantics where the filesystem has them (the name is free at once, even while the file is
// open), else the classic delete, whose name lingers until the last handle is closed.
Result<bool> remove_file(const std::string& path);

// Sets the file's modification time to "now" as the filesystem sees it.
Status touch(const Fd& fd);

// Names in a directory, without "." and "..".
Result<std::vector<std::string>> list_directory(const std::string& path);

// `directory` + separator + `name` ("/", or "\\" on Windows, where paths may use either).
std::string join_path(const std::string& directory, const std::string& name);

// The directory part and the last name of `path` ("." when it has no directory part), split at
// the last separator: "/a/b" -> {"/a", "b"}, "/b" -> {"/", "b"}; Windows also "C:\\a\\b" ->
// {"C:\\a", "b"} and "C:\\b" -> {"C:\\", "b"}.
std::pair<std::string, std::string> split_path(const std::string& path);

// Where per-user caches go: $XDG_CACHE_HOME, else $HOME/.cache; on Windows %LOCALAPPDATA%.
// Errors (ErrorKind::usage) name what is missing: "HOME is not set".
Result<std::string> user_cache_directory();

} // namespace buildlock::os

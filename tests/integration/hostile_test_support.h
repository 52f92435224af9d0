// What the hostile-input tests (issue 8) share: sentinels next to the lock directory and a record
// of everything outside it, to prove that whatever a hostile input makes buildlock do, it changes
// nothing there; and the check of the one `buildlock: error:` line every refusal prints.
#pragma once

#include "manage_test_support.h"
#include "support/waiting.h"

#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <map>
#include <memory>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace buildlock::test {

// One entry as lstat() and its content show it. Access times are left out: reading is allowed
// (and relatime makes them unreliable); everything that a write, chmod, chown, link, rename or
// utimes would change is in.
struct EntryRecord {
  mode_t mode = 0; // type and permission bits
  uid_t uid = 0;
  gid_t gid = 0;
  nlink_t links = 0;
  off_t size = 0;
  std::int64_t mtime_ns = 0;
  std::int64_t ctime_ns = 0;
  std::string content; // a regular file's bytes (up to 1 MiB), or a symbolic link's target

  friend bool operator==(const EntryRecord&, const EntryRecord&) = default;
};

inline std::string describe(const EntryRecord& entry) {
  std::ostringstream out;
  out << "mode " << std::oct << entry.mode << std::dec << ", uid " << entry.uid << ", gid "
      << entry.gid << ", links " << entry.links << ", size " << entry.size << ", mtime "
      << entry.mtime_ns << ", ctime " << entry.ctime_ns << ", content `"
      << entry.content.substr(0, 60) << "`";
  return out.str();
}

using TreeRecord = std::map<std::string, EntryRecord>;

// Larger files (a 100 MB lock file) are compared by size and times only.
constexpr off_t max_recorded_content = 1024 * 1024;

inline std::int64_t nanoseconds(const timespec& time) {
  return std::int64_t{time.tv_sec} * 1'000'000'000 + time.tv_nsec;
}

// Every entry below `root` (not `root` itself), by path relative to it, except the subtrees in
// `excluded` (absolute paths), which are not entered and not recorded.
inline void record_tree(const std::string& root, const std::string& relative,
                        const std::vector<std::string>& excluded, TreeRecord& record) {
  const std::string directory = relative.empty() ? root : root + "/" + relative;
  for (const std::string& name : directory_entries(directory)) {
    const std::string path = directory + "/" + name;
    if (std::find(excluded.begin(), excluded.end(), path) != excluded.end()) {
      continue;
    }
    struct stat info {};
    if (::lstat(path.c_str(), &info) != 0) {
      ADD_FAILURE() << "lstat " << path << ": " << std::strerror(errno);
      continue;
    }
    EntryRecord entry{info.st_mode,
                      info.st_uid,
                      info.st_gid,
                      info.st_nlink,
                      info.st_size,
                      nanoseconds(info.st_mtim),
                      nanoseconds(info.st_ctim),
                      {}};
    if (S_ISREG(info.st_mode) && info.st_size <= max_recorded_content) {
      entry.content = read_file(path);
    } else if (S_ISLNK(info.st_mode)) {
      char target[4096];
      const ssize_t n = ::readlink(path.c_str(), target, sizeof target);
      entry.content.assign(target, n < 0 ? 0 : static_cast<std::size_t>(n));
    }
    const std::string key = relative.empty() ? name : relative + "/" + name;
    record[key] = entry;
    if (S_ISDIR(info.st_mode)) {
      record_tree(root, key, excluded, record);
    }
  }
}

inline TreeRecord record_tree(const std::string& root, const std::vector<std::string>& excluded) {
  TreeRecord record;
  record_tree(root, "", excluded, record);
  return record;
}

// Success when both records are equal; otherwise every added, removed and changed entry.
inline ::testing::AssertionResult same_tree(const TreeRecord& before, const TreeRecord& after) {
  std::ostringstream differences;
  for (const auto& [path, entry] : before) {
    auto found = after.find(path);
    if (found == after.end()) {
      differences << "\n  removed: " << path;
    } else if (!(found->second == entry)) {
      differences << "\n  changed: " << path << "\n    before: " << describe(entry)
                  << "\n    after:  " << describe(found->second);
    }
  }
  for (const auto& [path, entry] : after) {
    if (before.count(path) == 0) {
      differences << "\n  added: " << path << " (" << describe(entry) << ")";
    }
  }
  if (differences.str().empty()) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << differences.str();
}

// True when `text` holds no control character other than line ends.
inline bool free_of_control_characters(const std::string& text) {
  return std::none_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return (byte < 0x20 && byte != '\n') || byte == 0x7f;
  });
}

// Exactly one line on stderr, `buildlock: error: <start>...`, without control characters.
inline ::testing::AssertionResult is_one_error_line(const std::string& err,
                                                    const std::string& start = "") {
  const std::string prefix = "buildlock: error: " + start;
  if (lines_of(err).size() != 1 || !err.starts_with(prefix) || err.back() != '\n' ||
      !free_of_control_characters(err)) {
    return ::testing::AssertionFailure() << "stderr is not one line starting `" << prefix << "`:\n"
                                         << err;
  }
  return ::testing::AssertionSuccess();
}

class HostileInputTest : public ManageLocksTest {
protected:
  // What a hostile input would damage if buildlock strayed out of the lock directory: a file and
  // a directory next to it, and a stale lock file one level up, where a name with `..` leads.
  void SetUp() override {
    write_file(sentinel_file, "sentinel\n");
    ASSERT_EQ(::chmod(sentinel_file.c_str(), 0640), 0);
    set_mtime(sentinel_file, WallClock::now() - std::chrono::hours(1));
    ASSERT_EQ(::mkdir((temp / "sentinel-dir").c_str(), 0750), 0);
    write_file(temp / "sentinel-dir/inside.txt", "inside\n");
    write_lock_file(escaped_lock, to_json(dead_holder()), WallClock::now() - std::chrono::hours(1));
  }

  // Records everything outside `lock_directory` (and the processes' output files); TearDown
  // then fails the test if any of it changed.
  void freeze_outside(const std::string& lock_directory) {
    excluded_ = {lock_directory, temp / "output"};
    before_ = record_tree(temp.path(), excluded_);
    frozen_ = true;
  }
  void freeze_outside() { freeze_outside(lock_dir); }

  void TearDown() override {
    if (frozen_) {
      EXPECT_TRUE(same_tree(before_, record_tree(temp.path(), excluded_)))
          << "buildlock changed something outside the lock directory";
    }
  }

  // The lock directory, owned by the unprivileged user that as_unprivileged_user() runs
  // buildlock as (when the tests run as root), in a temp dir that user can enter.
  void give_lock_dir_to_unprivileged_user() {
    make_lock_dir();
    traversable_ = std::make_unique<ModeRestorer>(temp.path(), 0755);
    if (::geteuid() == 0) {
      ASSERT_EQ(::chown(lock_dir.c_str(), 65534, 65534), 0) << std::strerror(errno);
    }
  }
  void make_temp_dir_traversable() {
    traversable_ = std::make_unique<ModeRestorer>(temp.path(), 0755);
  }

  const std::string sentinel_file = temp / "sentinel.txt";
  const std::string escaped_lock = temp / "escape.lock";

private:
  std::vector<std::string> excluded_;
  TreeRecord before_;
  bool frozen_ = false;
  std::unique_ptr<ModeRestorer> traversable_;
};

} // namespace buildlock::test

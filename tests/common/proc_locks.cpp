#include "common/proc_locks.h"

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <sys/types.h>
#include <system_error>

namespace buildlock::test {
namespace {

// The line's words, split at spaces and tabs.
std::vector<std::string_view> words_of(std::string_view line) {
  std::vector<std::string_view> words;
  while (!line.empty()) {
    const auto start = line.find_first_not_of(" \t");
    if (start == std::string_view::npos) {
      break;
    }
    line.remove_prefix(start);
    const auto end = line.find_first_of(" \t");
    words.push_back(line.substr(0, end));
    line.remove_prefix(end == std::string_view::npos ? line.size() : end);
  }
  return words;
}

// The whole of `word` as a number in `base`.
template <typename Number> bool parse(std::string_view word, Number& number, int base = 10) {
  const char* end = word.data() + word.size();
  const auto [stop, error] = std::from_chars(word.data(), end, number, base);
  return !word.empty() && error == std::errc{} && stop == end;
}

ProcLockType type_named(std::string_view word) {
  if (word == "FLOCK") {
    return ProcLockType::flock;
  }
  if (word == "POSIX") {
    return ProcLockType::posix;
  }
  if (word == "OFDLCK") {
    return ProcLockType::ofd;
  }
  return ProcLockType::other;
}

ProcLockMode mode_named(std::string_view word) {
  if (word == "READ") {
    return ProcLockMode::read;
  }
  if (word == "WRITE") {
    return ProcLockMode::write;
  }
  return ProcLockMode::other;
}

// "fe:00:10952874": major and minor in hexadecimal, then the inode.
bool parse_file(std::string_view word, ProcLock& lock) {
  const auto first = word.find(':');
  const auto second = word.find(':', first == std::string_view::npos ? first : first + 1);
  return second != std::string_view::npos && parse(word.substr(0, first), lock.major, 16) &&
         parse(word.substr(first + 1, second - first - 1), lock.minor, 16) &&
         parse(word.substr(second + 1), lock.inode);
}

} // namespace

std::optional<ProcLock> parse_proc_lock(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
    line.remove_suffix(1);
  }
  std::vector<std::string_view> words = words_of(line);
  ProcLock lock;
  // "1:", then "->" when blocked (indented further behind another blocked request).
  if (words.empty() || !words[0].ends_with(':') ||
      !parse(words[0].substr(0, words[0].size() - 1), lock.id)) {
    return std::nullopt;
  }
  std::size_t at = 1;
  lock.blocked = words.size() > at && words[at] == "->";
  if (lock.blocked) {
    ++at;
  }
  // TYPE ADVISORY MODE PID MAJOR:MINOR:INODE START END (and whatever a later kernel may add)
  if (words.size() < at + 7) {
    return std::nullopt;
  }
  lock.type = type_named(words[at]);
  lock.mode = mode_named(words[at + 2]);
  if (!parse(words[at + 3], lock.pid) || !parse_file(words[at + 4], lock) ||
      !parse(words[at + 5], lock.start)) {
    return std::nullopt;
  }
  if (words[at + 6] != "EOF") {
    std::uint64_t end = 0;
    if (!parse(words[at + 6], end)) {
      return std::nullopt;
    }
    lock.end = end;
  }
  lock.line = std::string(line);
  return lock;
}

std::vector<ProcLock> read_proc_locks(const char* path) {
  std::vector<ProcLock> locks;
  std::FILE* file = std::fopen(path, "re");
  if (file == nullptr) {
    return locks;
  }
  char* line = nullptr;
  std::size_t capacity = 0;
  for (ssize_t length = 0; (length = ::getline(&line, &capacity, file)) > 0;) {
    if (auto lock = parse_proc_lock(std::string_view(line, static_cast<std::size_t>(length)))) {
      locks.push_back(std::move(*lock));
    }
  }
  std::free(line);
  std::fclose(file);
  return locks;
}

} // namespace buildlock::test

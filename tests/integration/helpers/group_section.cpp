// group_section KIND WORK_DIR LOG [LIMIT]: the COMMAND of the shared and slotted lock tests; it
// checks the lock's promise from inside instead of guessing it from timing.
//
// KIND is `reader` (run under --shared), `writer` (exclusive) or `slot` (run under --slots LIMIT).
// On entry it creates WORK_DIR/KIND.PID, then looks at every other marker whose process is still
// alive (a holder killed inside leaves its marker behind, but no longer holds anything):
//   writer: nobody else may be inside;   reader: no writer may be inside;
//   slot:   at most LIMIT slot holders, itself included.
// It appends "KIND PID ok, N inside with it" (N: the most other readers or slot holders it saw
// inside at once, so that a test can prove that holders did share the lock) or "KIND PID violation
// <what it saw>" to LOG (O_APPEND, one write), stays inside for a moment, looks again, and removes
// its marker. Exit 0 unless something fails
// (99): a violation is reported by the log, not by a lost run.
//
// With GROUP_SECTION_KILL_PERCENT=P in the environment, it then (with probability P%) logs
// "KIND PID killed inside" and kills its parent, the buildlock holding the lock, and itself with
// SIGKILL instead of leaving: a holder that dies inside its critical section, leaving its lock
// files for the next one to reclaim.
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <memory>
#include <random>
#include <string>
#include <time.h>
#include <unistd.h>

namespace {

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "group_section: %s: %s\n", what.c_str(), std::strerror(errno));
  ::_exit(99);
}

// Alive and not a zombie: a zombie holds no files (its descriptors are closed at exit).
bool alive(pid_t pid) {
  if (::kill(pid, 0) != 0 && errno == ESRCH) {
    return false;
  }
  // A process that ends while we read is simply not alive any more.
  const int fd = ::open(("/proc/" + std::to_string(pid) + "/stat").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  char buffer[512];
  const ssize_t length = ::read(fd, buffer, sizeof buffer);
  ::close(fd);
  if (length <= 0) {
    return false;
  }
  const std::string text(buffer, static_cast<std::size_t>(length));
  const auto paren = text.rfind(')');
  return paren == std::string::npos || paren + 2 >= text.size() || text[paren + 2] != 'Z';
}

struct Inside {
  int writers = 0;
  int others = 0; // readers or slot holders
};

Inside count_inside(const std::string& work_dir, pid_t self) {
  Inside inside;
  // Closed when the count is done; a helper that must not throw, so no std::filesystem.
  const std::unique_ptr<DIR, int (*)(DIR*)> directory(::opendir(work_dir.c_str()), ::closedir);
  if (directory == nullptr) {
    fail("list " + work_dir);
  }
  while (const dirent* entry = ::readdir(directory.get())) {
    const std::string name = entry->d_name;
    const auto dot = name.find('.');
    if (dot == std::string::npos || dot == 0) {
      continue;
    }
    const pid_t pid = static_cast<pid_t>(std::atol(name.c_str() + dot + 1));
    if (pid <= 0 || pid == self || !alive(pid)) {
      continue;
    }
    (name.compare(0, dot, "writer") == 0 ? inside.writers : inside.others)++;
  }
  return inside;
}

// Empty when the promise holds, else what was seen.
std::string violation(const std::string& kind, const Inside& inside, int limit) {
  if (kind == "writer" && (inside.writers > 0 || inside.others > 0)) {
    return "writer with " + std::to_string(inside.writers) + " writers and " +
           std::to_string(inside.others) + " readers inside";
  }
  if (kind == "reader" && inside.writers > 0) {
    return "reader with " + std::to_string(inside.writers) + " writers inside";
  }
  if (kind == "slot" && inside.others + 1 > limit) {
    return std::to_string(inside.others + 1) + " slot holders inside, limit " +
           std::to_string(limit);
  }
  return "";
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 4 || argc > 5) {
    std::fprintf(stderr, "usage: group_section reader|writer|slot WORK_DIR LOG [LIMIT]\n");
    return 99;
  }
  const std::string kind = argv[1];
  const std::string work_dir = argv[2];
  const int limit = argc == 5 ? std::atoi(argv[4]) : 1;
  const pid_t self = ::getpid();
  const std::string marker = work_dir + "/" + kind + "." + std::to_string(self);
  const int marker_fd = ::open(marker.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (marker_fd < 0) {
    fail("create " + marker);
  }
  ::close(marker_fd);

  const Inside first_look = count_inside(work_dir, self);
  std::string seen = violation(kind, first_look, limit);
  // Stay inside a little, then look again: a holder admitted too early is caught either way.
  const timespec inside_time{0, 300'000};
  ::nanosleep(&inside_time, nullptr);
  const Inside second_look = count_inside(work_dir, self);
  if (seen.empty()) {
    seen = violation(kind, second_look, limit);
  }
  const int most_others = std::max(first_look.others, second_look.others);

  const int log = ::open(argv[3], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) {
    fail(std::string("open ") + argv[3]);
  }
  const std::string line =
      kind + " " + std::to_string(self) +
      (seen.empty() ? " ok, " + std::to_string(most_others) + " inside with it\n"
                    : " violation " + seen + "\n");
  if (::write(log, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    fail(std::string("write ") + argv[3]);
  }
  ::close(log);

  // The marker goes before any death: a dying process has already dropped its locks while it
  // still looks alive, and a leftover marker's pid may be reused by an unrelated process. Either
  // would count someone inside who is not. (While we still hold the lock nobody can enter, so
  // nothing is missed.)
  if (::unlink(marker.c_str()) != 0) {
    fail("remove " + marker);
  }
  if (const char* percent = std::getenv("GROUP_SECTION_KILL_PERCENT")) {
    std::mt19937 random(static_cast<unsigned>(self) * 2654435761U);
    if (static_cast<int>(random() % 100) < std::atoi(percent)) {
      const std::string killing = kind + " " + std::to_string(self) + " killed inside\n";
      const int again = ::open(argv[3], O_WRONLY | O_APPEND | O_CLOEXEC);
      if (again < 0 || ::write(again, killing.data(), killing.size()) < 0) {
        fail(std::string("write ") + argv[3]);
      }
      ::kill(::getppid(), SIGKILL);
      ::raise(SIGKILL);
    }
  }
  return 0;
}

// timestamps: a COMMAND that says, through a file, when it ran, for the tests that prove two
// holders of a lock never ran at the same time even when the first one lost its lock (a
// partition): each writes its own times, so no test-side guess about when a process ended.
//
//   timestamps FILE first [AFTER_PIDFILE]   write "first NS" (CLOCK_MONOTONIC) and exit 0; with
//                                           AFTER_PIDFILE, first check that the process whose pid
//                                           it holds is gone (no /proc entry, or a zombie), and
//                                           write "overlap" into FILE.overlap when it is not. A
//                                           process with SIGKILL pending is written into
//                                           FILE.doomed instead: it runs no more instructions of
//                                           its own (the kernel acts on SIGKILL before any return
//                                           to user space), but on a loaded machine it can wait
//                                           for a CPU to exit on
//   timestamps FILE last [ignore-term]      forever: overwrite FILE with "last NS" every 200 us
//                                           (its last write is a lower bound of its end, within
//                                           200 us plus one write); with ignore-term SIGTERM is
//                                           ignored, so that only SIGKILL ends it
//
// Both write their pid to FILE.pid first.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <string>
#include <unistd.h>

namespace {

long long now_ns() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<long long>(now.tv_sec) * 1000000000LL + now.tv_nsec;
}

void write_file(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || ::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    std::fprintf(stderr, "timestamps: %s: %s\n", path.c_str(), std::strerror(errno));
    std::_Exit(99);
  }
  ::close(fd);
}

enum class Fate { gone, doomed, running };

// Whether SIGKILL is pending for `pid`, for the process (ShdPnd) or its main thread (SigPnd).
bool sigkill_pending(const std::string& pid) {
  FILE* status = std::fopen(("/proc/" + pid + "/status").c_str(), "re");
  if (status == nullptr) {
    return false;
  }
  unsigned long long pending = 0;
  char line[256];
  while (std::fgets(line, sizeof line, status) != nullptr) {
    unsigned long long mask = 0;
    if (std::sscanf(line, "SigPnd: %llx", &mask) == 1 ||
        std::sscanf(line, "ShdPnd: %llx", &mask) == 1) {
      pending |= mask;
    }
  }
  std::fclose(status);
  return ((pending >> (SIGKILL - 1)) & 1U) != 0;
}

// What became of `pid`: gone (no /proc entry, or a zombie or dead one), doomed (SIGKILL pending,
// not exited yet) or still running.
Fate fate_of(const std::string& pid) {
  FILE* stat = std::fopen(("/proc/" + pid + "/stat").c_str(), "re");
  if (stat == nullptr) {
    return Fate::gone;
  }
  char line[1024] = {};
  const bool read = std::fgets(line, sizeof line, stat) != nullptr;
  std::fclose(stat);
  const char* after_name = read ? std::strrchr(line, ')') : nullptr;
  if (after_name == nullptr || after_name[1] != ' ' || after_name[2] == 'Z' ||
      after_name[2] == 'X') {
    return Fate::gone;
  }
  return sigkill_pending(pid) ? Fate::doomed : Fate::running;
}

std::string read_first_line(const std::string& path) {
  FILE* file = std::fopen(path.c_str(), "re");
  char line[64] = {};
  if (file == nullptr || std::fgets(line, sizeof line, file) == nullptr) {
    if (file != nullptr) {
      std::fclose(file);
    }
    return "";
  }
  std::fclose(file);
  std::string text = line;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.pop_back();
  }
  return text;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: timestamps FILE first [AFTER_PIDFILE] | FILE last [ignore-term]\n");
    return 99;
  }
  const std::string file = argv[1];
  const std::string mode = argv[2];
  write_file(file + ".pid", std::to_string(::getpid()) + "\n");
  if (mode == "first") {
    if (argc > 3) {
      const std::string pid = read_first_line(argv[3]);
      const Fate fate = pid.empty() ? Fate::running : fate_of(pid);
      if (fate == Fate::running) {
        write_file(file + ".overlap", "overlap with pid " + pid + "\n");
      } else if (fate == Fate::doomed) {
        write_file(file + ".doomed", "pid " + pid + " had SIGKILL pending and had not exited\n");
      }
    }
    write_file(file, "first " + std::to_string(now_ns()) + "\n");
    return 0;
  }
  if (mode != "last") {
    return 99;
  }
  if (argc > 3 && std::strcmp(argv[3], "ignore-term") == 0) {
    std::signal(SIGTERM, SIG_IGN);
  }
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return 99;
  }
  for (;;) {
    char text[40];
    const int length = std::snprintf(text, sizeof text, "last %020lld\n", now_ns());
    if (::pwrite(fd, text, static_cast<std::size_t>(length), 0) != length) {
      return 99;
    }
    const timespec pause{0, 200000};
    ::nanosleep(&pause, nullptr);
  }
}

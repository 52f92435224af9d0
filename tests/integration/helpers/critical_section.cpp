// critical_section WORK_DIR LOG: the COMMAND of the contention test; counts overlaps instead of
// guessing them.
//
// On entry it creates WORK_DIR/inside with O_CREAT|O_EXCL. If that file exists, another
// critical section is running at the same moment: an overlap. It then appends one line,
// "<pid> alone" or "<pid> overlap", to LOG (O_APPEND, one write, so lines never mix), stays
// inside for a moment to widen any race, and removes the marker it created. Exit 0 unless
// something fails (then 99), so that an overlap is reported by the log, not by a lost run.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <time.h>
#include <unistd.h>

namespace {

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "critical_section: %s: %s\n", what.c_str(), std::strerror(errno));
  ::_exit(99);
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: critical_section WORK_DIR LOG\n");
    return 99;
  }
  const std::string marker = std::string(argv[1]) + "/inside";
  const int marker_fd = ::open(marker.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (marker_fd < 0 && errno != EEXIST) {
    fail("create " + marker);
  }
  const bool overlap = marker_fd < 0;

  const int log = ::open(argv[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) {
    fail(std::string("open ") + argv[2]);
  }
  const std::string line = std::to_string(::getpid()) + (overlap ? " overlap\n" : " alone\n");
  if (::write(log, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    fail(std::string("write ") + argv[2]);
  }
  ::close(log);

  // Stay inside a little: a second holder admitted too early would find the marker.
  const timespec inside{0, 200'000};
  ::nanosleep(&inside, nullptr);

  if (!overlap) {
    ::close(marker_fd);
    if (::unlink(marker.c_str()) != 0) {
      fail("remove " + marker);
    }
  }
  return 0;
}

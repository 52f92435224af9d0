#include "load_meter.h"

#include "bench_clock.h"

#include <cstdio>
#include <sys/resource.h>
#include <unistd.h>

namespace buildlock::bench {
namespace {

// user + nice + system + irq + softirq of the "cpu" line; idle, iowait and steal are not work
// done on this machine's CPUs by its processes.
double busy_seconds() {
  std::FILE* stat = std::fopen("/proc/stat", "re");
  if (stat == nullptr) {
    return 0;
  }
  unsigned long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0;
  const int read = std::fscanf(stat, "cpu %llu %llu %llu %llu %llu %llu %llu", &user, &nice,
                               &system, &idle, &iowait, &irq, &softirq);
  std::fclose(stat);
  if (read != 7) {
    return 0;
  }
  return double(user + nice + system + irq + softirq) / double(::sysconf(_SC_CLK_TCK));
}

double seconds(const timeval& time) {
  return double(time.tv_sec) + double(time.tv_usec) / 1e6;
}

double own_seconds() {
  rusage self{}, children{};
  ::getrusage(RUSAGE_SELF, &self);
  ::getrusage(RUSAGE_CHILDREN, &children);
  return seconds(self.ru_utime) + seconds(self.ru_stime) + seconds(children.ru_utime) +
         seconds(children.ru_stime);
}

} // namespace

LoadMeter::LoadMeter()
    : busy_seconds_(busy_seconds()), own_seconds_(own_seconds()), started_ns_(monotonic_ns()) {}

double LoadMeter::foreign_cpus() const {
  const double elapsed = double(monotonic_ns() - started_ns_) / 1e9;
  if (elapsed <= 0) {
    return 0;
  }
  const double foreign = (busy_seconds() - busy_seconds_) - (own_seconds() - own_seconds_);
  return foreign > 0 ? foreign / elapsed : 0;
}

} // namespace buildlock::bench

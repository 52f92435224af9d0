#include "load_meter.h"

#include "bench_clock.h"

#include <cstdio>
#include <sys/resource.h>
#include <unistd.h>

namespace buildlock::bench {
namespace {

struct CpuTimes {
  double busy = 0;  // user + nice + system + irq + softirq: work done by this machine's processes
  double steal = 0; // wanted, but given to other guests by the hypervisor
};

CpuTimes cpu_times() {
  std::FILE* stat = std::fopen("/proc/stat", "re");
  if (stat == nullptr) {
    return {};
  }
  unsigned long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0,
                     steal = 0;
  const int read = std::fscanf(stat, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice,
                               &system, &idle, &iowait, &irq, &softirq, &steal);
  std::fclose(stat);
  if (read < 7) {
    return {};
  }
  const double tick = double(::sysconf(_SC_CLK_TCK));
  return {double(user + nice + system + irq + softirq) / tick, double(steal) / tick};
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
    : busy_seconds_(cpu_times().busy), steal_seconds_(cpu_times().steal),
      own_seconds_(own_seconds()), started_ns_(monotonic_ns()) {}

double LoadMeter::foreign_cpus() const {
  const double elapsed = double(monotonic_ns() - started_ns_) / 1e9;
  if (elapsed <= 0) {
    return 0;
  }
  const double foreign = (cpu_times().busy - busy_seconds_) - (own_seconds() - own_seconds_);
  return foreign > 0 ? foreign / elapsed : 0;
}

double LoadMeter::stolen_cpus() const {
  const double elapsed = double(monotonic_ns() - started_ns_) / 1e9;
  return elapsed > 0 ? (cpu_times().steal - steal_seconds_) / elapsed : 0;
}

} // namespace buildlock::bench

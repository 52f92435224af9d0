// How busy the machine was with other work while the benchmark ran: the CPU time all processes
// used (/proc/stat) minus what the benchmark and the processes it reaped used (getrusage). The
// load average cannot tell, since the benchmark itself keeps up to P + 1 processes runnable.
#pragma once

#include <cstdint>

namespace buildlock::bench {

class LoadMeter {
public:
  LoadMeter(); // starts measuring
  // Average number of CPUs used by other processes since construction.
  double foreign_cpus() const;
  // Average number of CPUs the hypervisor gave to other guests while this one wanted them
  // ("steal" in /proc/stat): a virtual machine's noisy neighbours.
  double stolen_cpus() const;

private:
  double busy_seconds_ = 0;  // of all CPUs, from /proc/stat
  double steal_seconds_ = 0; // of all CPUs, from /proc/stat
  double own_seconds_ = 0;   // this process and its reaped descendants
  std::int64_t started_ns_ = 0;
};

} // namespace buildlock::bench

// Killer: between random pauses, sends a random signal (SIGKILL, SIGINT, SIGTERM or SIGSTOP) to a
// random target: the wrapper (`buildlock run`) of a random worker, its whole process group
// (wrapper and command), or a command (chaos_holder) of a worker that has one at that instant.
// Every SIGSTOPped process gets SIGCONT after a random 0..max_stop and at the latest when the
// killer stops, so a stop delays the run but never wedges it.
//
// Every signal goes through a pidfd or to the group of an unreaped wrapper, never to a bare pid
// number that might have been reused by another program on the machine.
#pragma once

#include "options.h"
#include "processes.h"
#include "worker.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace buildlock::chaos {

enum class Target { wrapper, command, group };
std::string to_string(Target target);

struct KillReport {
  // (signal, target) -> signals delivered to a live process.
  std::map<std::pair<int, Target>, int> delivered;
  int missed = 0;  // the target was not there (no wrapper running, no command anywhere, gone)
  int resumed = 0; // SIGCONTs sent to processes stopped earlier (each stop gets one per process)
};

class Killer {
public:
  Killer(std::vector<std::unique_ptr<Worker>>& workers, const Options& options, std::uint64_t seed);

  // Kills until stop() is called, then resumes every process it stopped. On its own thread.
  void run();
  void stop();

  const KillReport& report() const { return report_; }

private:
  using Clock = std::chrono::steady_clock;
  struct Stopped {
    Clock::time_point resume_at;
    std::vector<Fd> processes;
  };

  void strike_until_stopped();
  void strike();
  // True when the signal reached a live process of that worker.
  bool strike_worker(Worker& worker, int signal, Target target, Clock::duration stop_for);
  void resume(Stopped& stopped);
  void resume_due(Clock::time_point now);
  void resume_all();

  std::vector<std::unique_ptr<Worker>>& workers_;
  const Options& options_;
  std::mt19937_64 random_;
  std::mutex mutex_; // guards stopping_; everything else is the killer thread's own
  std::condition_variable wake_;
  bool stopping_ = false;
  std::vector<Stopped> stopped_;
  KillReport report_;
};

} // namespace buildlock::chaos

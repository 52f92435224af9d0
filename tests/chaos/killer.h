// Killer: between random pauses, sends a random signal (SIGKILL, SIGINT, SIGTERM or SIGSTOP) to a
// random target of a worker's run:
//   wrapper        `buildlock run` alone;
//   command        the command's main process alone (the shell `sh -c`);
//   grandchild     a grandchild of the command's main process: chaos_holder's child in a session
//                  of its own, or any process of the tree once its shell is gone (an orphan).
//                  Not the shell's own child while the shell lives: its death makes the shell exit
//                  with a status, an ordinary exit for buildlock, and by the release rule whatever
//                  the dead child left running then counts as a daemon (docs/protocol.md).
//   wrapper group  buildlock's whole process group (what ninja's or a terminal's kill reaches);
//   command group  the command's process group, read from /proc/PID/stat of its main process
//                  (buildlock's own group unless buildlock gives the command one of its own).
// Every SIGSTOPped process gets SIGCONT after a random 0..max_stop and at the latest when the
// killer stops, so a stop delays the run but never wedges it.
//
// Paced by what the runs reach (issue 20): a strike waits until its target exists before it is
// sent, instead of being lost. Targets that exist only inside the critical section (the command,
// its group, a grandchild) are struck only once a run has entered it, and half of the strikes at
// wrappers and their groups wait for a wrapper whose run is inside too (that is what leaves locks
// to reclaim). So the killer never fires at a machine that is too slow to give it targets: on a
// loaded machine, or over etcd where an acquisition takes tens of milliseconds, it strikes less
// often, but each kind of strike still lands, and runs still get in between strikes. Only live
// processes count as hit (a zombie is not), so a killer that hits nothing counts nothing.
//
// A worker without kernel locks cannot protect a command whose buildlock died of SIGKILL: the lock
// names buildlock's pid, the next run reclaims it, and the command runs on beside the next holder
// (docs/shared-filesystems.md, "Kernel locks"). So a SIGKILL that would reach such a buildlock
// reaches its whole run: the killer stops buildlock and every descendant, then kills them all (as
// the OOM killer or a cgroup kill would), and the lock is left for the next run to reclaim.
//
// Every signal goes through a pidfd or to the group of an unreaped wrapper or of a live command,
// never to a bare pid number that might have been reused by another program on the machine.
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

enum class Target { wrapper, command, grandchild, wrapper_group, command_group };
inline constexpr Target all_targets[] = {Target::wrapper, Target::command, Target::grandchild,
                                         Target::wrapper_group, Target::command_group};
std::string to_string(Target target);

struct KillReport {
  // (signal, target) -> signals delivered to a live process.
  std::map<std::pair<int, Target>, int> delivered;
  // Looks that found no target yet (no wrapper running, no command anywhere, gone): the strike
  // waited for one.
  int missed = 0;
  // Command-group signals that reached buildlock too: the command was in buildlock's own group.
  int command_group_was_wrappers = 0;
  int resumed = 0; // SIGCONTs sent to processes stopped earlier (each stop gets one per process)
};

class Killer {
public:
  Killer(std::vector<std::unique_ptr<Worker>>& workers, const Options& options, std::uint64_t seed);

  // Kills until stop() is called, then resumes every process it stopped. On its own thread.
  void run();
  void stop();

  const KillReport& report() const { return report_; }
  // A copy taken while the killer runs (for the activity floors).
  KillReport snapshot();

private:
  using Clock = std::chrono::steady_clock;
  struct Stopped {
    Clock::time_point resume_at;
    std::vector<Fd> processes;
    // For a group's stop: the group, whose members are listed again at the resume (0: none).
    pid_t group = 0;
  };

  void strike_until_stopped();
  void strike();
  // True when the signal reached a live process of that worker. `inside_only`: only a run whose
  // command runs (the wrapper holds the lock).
  bool strike_worker(Worker& worker, int signal, Target target, Clock::duration stop_for,
                     bool inside_only);
  // For a worker without kernel locks: SIGKILL to the wrapper and every descendant, all stopped
  // first. True when any was alive to get it.
  bool kill_whole_run(pid_t wrapper);
  void resume(Stopped& stopped);
  void resume_due(Clock::time_point now);
  void resume_all();

  std::vector<std::unique_ptr<Worker>>& workers_;
  const Options& options_;
  std::mt19937_64 random_;
  std::mutex mutex_;        // guards stopping_; everything else is the killer thread's own
  std::mutex report_mutex_; // guards report_ between the killer thread and snapshot()
  std::condition_variable wake_;
  bool stopping_ = false;
  std::vector<Stopped> stopped_;
  KillReport report_;
};

} // namespace buildlock::chaos

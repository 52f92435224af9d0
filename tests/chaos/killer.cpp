#include "killer.h"

#include <algorithm>
#include <csignal>
#include <ctime>

namespace buildlock::chaos {
namespace {

// The command's main process: the shell the wrapper started (not an orphan re-parented to it).
const Descendant* main_process(const std::vector<Descendant>& tree, pid_t wrapper) {
  for (const Descendant& process : tree) {
    if (process.parent == wrapper && process.name == "sh") {
      return &process;
    }
  }
  return nullptr;
}

} // namespace

std::string to_string(Target target) {
  switch (target) {
  case Target::wrapper:
    return "wrapper";
  case Target::command:
    return "command";
  case Target::grandchild:
    return "grandchild";
  case Target::wrapper_group:
    return "wrapper group";
  case Target::command_group:
    return "command group";
  }
  return "?";
}

Killer::Killer(std::vector<std::unique_ptr<Worker>>& workers, const Options& options,
               std::uint64_t seed)
    : workers_(workers), options_(options), random_(seed) {}

void Killer::stop() {
  const std::lock_guard lock(mutex_);
  stopping_ = true;
  wake_.notify_all();
}

KillReport Killer::snapshot() {
  const std::lock_guard lock(report_mutex_);
  return report_;
}

void Killer::resume(Stopped& stopped) {
  if (stopped.group != 0) {
    // A child forked while killpg() delivered the stop gets the signal too (the kernel hands a
    // group's signals that arrive during fork() to the new child, its "multiprocess signals",
    // instead of restarting the fork), but it can enter /proc only after the members were listed:
    // it then stays stopped unless it is found now. The group's id names no stranger while a listed
    // member lives (a process group's id is not reused while the group has a member), so the
    // members found are kept only if one listed before is alive after the listing.
    std::vector<Fd> now = members_of_group(stopped.group);
    if (std::any_of(stopped.processes.begin(), stopped.processes.end(),
                    [](const Fd& process) { return process && is_alive(process); })) {
      for (Fd& process : now) {
        stopped.processes.push_back(std::move(process));
      }
    }
    stopped.group = 0;
  }
  for (const Fd& process : stopped.processes) {
    if (send_signal(process, SIGCONT)) {
      const std::lock_guard lock(report_mutex_);
      ++report_.resumed;
    }
  }
  stopped.processes.clear();
}

void Killer::resume_due(Clock::time_point now) {
  for (Stopped& stopped : stopped_) {
    if (stopped.resume_at <= now) {
      resume(stopped);
    }
  }
  std::erase_if(stopped_, [](const Stopped& stopped) {
    return stopped.processes.empty() && stopped.group == 0;
  });
}

bool Killer::kill_whole_run(pid_t wrapper) {
  // Stop every process of the run, then kill them all: a stopped process starts nothing, so none
  // escapes. A stop takes effect when the process next leaves the kernel, so each is seen stopped
  // (or gone) before the run is listed again; repeat until the listing brings no one new.
  std::vector<std::pair<pid_t, Fd>> run;
  run.emplace_back(wrapper, pidfd_open(wrapper));
  const auto give_up_at = Clock::now() + std::chrono::seconds(1);
  for (std::size_t stopped = 0;;) {
    for (; stopped < run.size(); ++stopped) {
      if (run[stopped].second) {
        send_signal(run[stopped].second, SIGSTOP);
      }
    }
    for (const auto& [pid, pidfd] : run) {
      char state = state_of(pid);
      while (pidfd && is_alive(pidfd) && state != 'T' && state != 'Z' && state != '?' &&
             Clock::now() < give_up_at) {
        const timespec pause{0, 100'000};
        ::nanosleep(&pause, nullptr);
        state = state_of(pid);
      }
    }
    bool someone_new = false;
    for (Descendant& process : descendants_of(wrapper)) {
      const bool known = std::any_of(run.begin(), run.end(),
                                     [&](const auto& entry) { return entry.first == process.pid; });
      if (!known) {
        run.emplace_back(process.pid, std::move(process.pidfd));
        someone_new = true;
      }
    }
    if (!someone_new || Clock::now() >= give_up_at) {
      break;
    }
  }
  bool killed = false;
  for (const auto& entry : run) {
    killed = (entry.second && send_signal(entry.second, SIGKILL)) || killed;
  }
  return killed;
}

bool Killer::strike_worker(Worker& worker, int signal, Target target, Clock::duration stop_for,
                           bool inside_only) {
  bool delivered = false;
  worker.with_wrapper([&](pid_t wrapper) {
    // A wrapper that has exited but is not reaped yet is a zombie: a signal to it hits nothing.
    Fd wrapper_fd = pidfd_open(wrapper);
    if (!wrapper_fd || !is_alive(wrapper_fd)) {
      return;
    }
    std::vector<Descendant> tree = descendants_of(wrapper);
    const Descendant* main = main_process(tree, wrapper);
    // The command's main process runs: the wrapper holds the lock, the run is inside.
    if (inside_only && (main == nullptr || !is_alive(main->pidfd))) {
      return;
    }
    const bool unprotected = worker.kernel_locks_off() && signal == SIGKILL;
    std::vector<Fd> hit; // processes sent the signal one by one
    switch (target) {
    case Target::wrapper:
      if (unprotected) {
        delivered = kill_whole_run(wrapper);
        return;
      }
      hit.push_back(std::move(wrapper_fd));
      break;
    case Target::command:
      if (main != nullptr) {
        hit.push_back(std::move(tree[static_cast<std::size_t>(main - tree.data())].pidfd));
      }
      break;
    case Target::grandchild: {
      std::vector<std::size_t> below;
      for (std::size_t i = 0; i < tree.size(); ++i) {
        if (&tree[i] != main && (main == nullptr || tree[i].parent != main->pid)) {
          below.push_back(i);
        }
      }
      if (!below.empty()) {
        const std::size_t pick =
            below[std::uniform_int_distribution<std::size_t>(0, below.size() - 1)(random_)];
        hit.push_back(std::move(tree[pick].pidfd));
      }
      break;
    }
    case Target::wrapper_group:
    case Target::command_group: {
      pid_t group = wrapper; // the group of an unreaped leader: certainly ours
      if (target == Target::command_group) {
        // The group of a live main process; read after its pidfd was open, so its pid is its own.
        if (main == nullptr || !is_alive(main->pidfd)) {
          return;
        }
        group = main->process_group;
        if (group == wrapper) {
          const std::lock_guard lock(report_mutex_);
          ++report_.command_group_was_wrappers;
        }
      }
      if (unprotected && group == wrapper) {
        delivered = kill_whole_run(wrapper);
        return;
      }
      delivered = ::killpg(group, signal) == 0;
      if (delivered && signal == SIGSTOP) {
        // Every member must be resumed, including orphans of earlier commands that are no
        // longer in the wrapper's tree but still in its group, and a child whose fork raced
        // with the signal: listed again at the resume.
        stopped_.push_back({Clock::now() + stop_for, members_of_group(group), group});
      }
      return;
    }
    }
    for (const Fd& process : hit) {
      // Only a live process counts as hit: a zombie (a child of the tree that ended, not yet
      // reaped) takes the signal without effect.
      delivered = (process && is_alive(process) && send_signal(process, signal)) || delivered;
    }
    if (delivered && signal == SIGSTOP) {
      std::erase_if(hit, [](const Fd& process) { return !process; });
      stopped_.push_back({Clock::now() + stop_for, std::move(hit)});
    }
  });
  return delivered;
}

void Killer::strike() {
  static constexpr int signals[] = {SIGKILL, SIGINT, SIGTERM, SIGSTOP};
  const std::size_t first =
      std::uniform_int_distribution<std::size_t>(0, workers_.size() - 1)(random_);
  const int signal = signals[std::uniform_int_distribution<int>(0, 3)(random_)];
  const Target target = all_targets[std::uniform_int_distribution<int>(
      0, static_cast<int>(std::size(all_targets)) - 1)(random_)];
  const auto stop_for = std::chrono::milliseconds(
      std::uniform_int_distribution<int>(0, options_.max_stop_ms)(random_));
  // Wrappers: half of the strikes at runs inside their critical section (a holder killed there
  // leaves a lock to reclaim), half at any run (waiting, acquiring, releasing). The other targets
  // exist only inside.
  const bool at_wrapper = target == Target::wrapper || target == Target::wrapper_group;
  const bool inside_only = at_wrapper && std::uniform_int_distribution<int>(0, 1)(random_) == 0;

  // Wait until some worker's run has the target: a command runs only while its wrapper holds the
  // lock, so most workers have none at any instant; looking from a random worker on spreads the
  // strikes. Each look reads /proc; between looks the runs go on undisturbed.
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    for (std::size_t i = 0; i < workers_.size(); ++i) {
      if (strike_worker(*workers_[(first + i) % workers_.size()], signal, target, stop_for,
                        inside_only)) {
        const std::lock_guard report_lock(report_mutex_);
        ++report_.delivered[{signal, target}];
        return;
      }
    }
    lock.lock();
    {
      const std::lock_guard report_lock(report_mutex_);
      ++report_.missed;
    }
    resume_due(Clock::now());
    // How often to look again, not a synchronisation: a grandchild lives for its hold time
    // (0..--max-hold-us), so looks a millisecond apart find most of them.
    wake_.wait_for(lock, std::chrono::milliseconds(1), [this] { return stopping_; });
  }
}

void Killer::run() {
  try {
    strike_until_stopped();
  } catch (...) {
    resume_all(); // whatever went wrong, nothing stays stopped
    throw;
  }
  resume_all();
}

void Killer::resume_all() {
  for (Stopped& stopped : stopped_) {
    resume(stopped);
  }
  stopped_.clear();
}

void Killer::strike_until_stopped() {
  std::unique_lock lock(mutex_);
  auto next_strike = Clock::now();
  while (!stopping_) {
    const auto now = Clock::now();
    resume_due(now);
    if (now >= next_strike) {
      lock.unlock();
      strike();
      lock.lock();
      const auto pause = std::chrono::microseconds(
          std::uniform_int_distribution<int>(0, 2000 * options_.kill_interval_ms)(random_));
      next_strike = Clock::now() + pause;
    }
    auto wake_at = next_strike;
    for (const Stopped& stopped : stopped_) {
      wake_at = std::min(wake_at, stopped.resume_at);
    }
    // The pause between two signals is the workload's rhythm, not a synchronisation.
    wake_.wait_until(lock, wake_at, [this] { return stopping_; });
  }
}

} // namespace buildlock::chaos

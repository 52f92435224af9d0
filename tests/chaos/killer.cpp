#include "killer.h"

#include <algorithm>
#include <csignal>

namespace buildlock::chaos {

std::string to_string(Target target) {
  switch (target) {
  case Target::wrapper:
    return "wrapper";
  case Target::command:
    return "command";
  case Target::group:
    return "group";
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

void Killer::resume(Stopped& stopped) {
  for (const Fd& process : stopped.processes) {
    if (send_signal(process, SIGCONT)) {
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
  std::erase_if(stopped_, [](const Stopped& stopped) { return stopped.processes.empty(); });
}

bool Killer::strike_worker(Worker& worker, int signal, Target target, Clock::duration stop_for) {
  bool delivered = false;
  worker.with_wrapper([&](pid_t wrapper) {
    std::vector<Fd> hit;
    switch (target) {
    case Target::wrapper:
      hit.push_back(pidfd_open(wrapper));
      break;
    case Target::command:
      hit = pidfds_of_children_of(wrapper);
      break;
    case Target::group:
      // The wrapper is unreaped, so its group id is still its own. After the signal, because a
      // fork that races with a group signal is restarted by the kernel: the children listed now
      // are every member that got it.
      delivered = ::killpg(wrapper, signal) == 0;
      hit.push_back(pidfd_open(wrapper));
      for (Fd& child : pidfds_of_children_of(wrapper)) {
        hit.push_back(std::move(child));
      }
      break;
    }
    if (target != Target::group) {
      for (const Fd& process : hit) {
        delivered = (process && send_signal(process, signal)) || delivered;
      }
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
  static constexpr Target targets[] = {Target::wrapper, Target::command, Target::group};
  const std::size_t first =
      std::uniform_int_distribution<std::size_t>(0, workers_.size() - 1)(random_);
  const int signal = signals[std::uniform_int_distribution<int>(0, 3)(random_)];
  const Target target = targets[std::uniform_int_distribution<int>(0, 2)(random_)];
  const auto stop_for = std::chrono::milliseconds(
      std::uniform_int_distribution<int>(0, options_.max_stop_ms)(random_));

  // A command runs only while its wrapper holds the lock, so most workers have none at any
  // instant: look for one from a random worker on, or killing inside the critical section (the
  // case that matters most) would be rare. Wrappers and groups: the random worker's.
  const std::size_t tries = target == Target::command ? workers_.size() : 1;
  for (std::size_t i = 0; i < tries; ++i) {
    if (strike_worker(*workers_[(first + i) % workers_.size()], signal, target, stop_for)) {
      ++report_.delivered[{signal, target}];
      return;
    }
  }
  ++report_.missed;
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

#include "os/any_release.h"

#include "os/system_error.h"

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <memory>
#include <mutex>
#include <optional>
#include <pthread.h>
#include <sys/file.h>
#include <thread>

namespace buildlock::os {
namespace {

// Interrupts a watcher blocked in flock(). SIGURG is ignored by default and never sent by the
// kernel to a process without sockets, so borrowing it cannot disturb anything else; its handler
// is installed without SA_RESTART so that flock() returns EINTR.
constexpr int wake_signal = SIGURG;

extern "C" void on_wake_signal(int) {}

class WakeSignalHandler {
public:
  WakeSignalHandler() {
    struct sigaction action {};
    action.sa_handler = on_wake_signal;
    sigemptyset(&action.sa_mask);
    ::sigaction(wake_signal, &action, &saved_);
  }
  ~WakeSignalHandler() { ::sigaction(wake_signal, &saved_, nullptr); }
  WakeSignalHandler(const WakeSignalHandler&) = delete;
  WakeSignalHandler& operator=(const WakeSignalHandler&) = delete;

private:
  struct sigaction saved_ {};
};

struct Outcome {
  std::mutex mutex;
  std::condition_variable changed;
  bool released = false;
  std::optional<int> error;
};

class Watcher {
public:
  Watcher(int fd, Outcome& outcome) : thread_([this, fd, &outcome] { watch(fd, outcome); }) {}
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;

  // Asks the thread to stop and interrupts its flock(); the destructor makes sure it happened.
  // Asking every watcher first lets them all wind down at once instead of one after another.
  void request_stop() {
    stop_.store(true);
    ::pthread_kill(thread_.native_handle(), wake_signal);
  }

  // A signal sent just before the thread entered flock() is lost, so keep sending until it is
  // done, waiting for it in between rather than sleeping blindly.
  ~Watcher() {
    stop_.store(true);
    std::unique_lock guard(done_mutex_);
    while (!done_) {
      ::pthread_kill(thread_.native_handle(), wake_signal);
      done_changed_.wait_for(guard, std::chrono::microseconds(200));
    }
    guard.unlock();
    thread_.join();
  }

private:
  void watch(int fd, Outcome& outcome) {
    while (!stop_.load()) {
      if (::flock(fd, LOCK_EX) == 0) {
        ::flock(fd, LOCK_UN);
        std::lock_guard guard(outcome.mutex);
        outcome.released = true;
        outcome.changed.notify_all();
        break;
      }
      if (errno != EINTR) {
        std::lock_guard guard(outcome.mutex);
        outcome.error = errno;
        outcome.changed.notify_all();
        break;
      }
    }
    {
      std::lock_guard guard(done_mutex_);
      done_ = true;
    }
    done_changed_.notify_one();
  }

  std::atomic<bool> stop_{false};
  std::mutex done_mutex_;
  std::condition_variable done_changed_;
  bool done_ = false;
  std::thread thread_; // last: starts after the flags exist
};

} // namespace

Result<AnyRelease> wait_for_any_release(const std::vector<const Fd*>& files, TimePoint wake_at) {
  WakeSignalHandler handler;
  Outcome outcome;
  bool released = false;
  std::optional<int> error;
  {
    std::vector<std::unique_ptr<Watcher>> watchers;
    watchers.reserve(files.size());
    for (const Fd* file : files) {
      watchers.push_back(std::make_unique<Watcher>(file->get(), outcome));
    }
    std::unique_lock guard(outcome.mutex);
    outcome.changed.wait_until(guard, wake_at,
                               [&] { return outcome.released || outcome.error.has_value(); });
    released = outcome.released;
    error = outcome.error;
    guard.unlock();
    for (auto& watcher : watchers) {
      watcher->request_stop();
    }
    // Destroying the watchers stops and joins them; a watcher that got its lock meanwhile has
    // already dropped it.
  }
  if (released || outcome.released) {
    return AnyRelease::released;
  }
  if (error) {
    return system_error("flock", *error, ErrorKind::lock_directory);
  }
  return AnyRelease::deadline;
}

} // namespace buildlock::os

#include "os/signals.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

namespace buildlock::os {
namespace {

// State shared with the async handlers: only sig_atomic_t flags and a non-blocking pipe.
volatile sig_atomic_t g_die_on_termination = 1;
volatile sig_atomic_t g_alarm_ignored = 0; // SIGALRM was ignored when buildlock started
volatile sig_atomic_t g_alarm_armed = 0;
// While a command's child process runs between its start and its exec
// (os/posix/child_process.cpp): the pid of the process that starts it. That child shares this
// process's memory, so one of our handlers running in it (its pid differs) must neither write to
// the wake pipe nor touch any other state: it gives the signal its default action, as the command
// would have had it. In this process (another thread) the handlers work as ever.
volatile sig_atomic_t g_spawning_parent = 0;

bool in_spawned_child() {
  return g_spawning_parent != 0 && ::getpid() != g_spawning_parent;
}
int g_wake_pipe[2] = {-1, -1};

constexpr unsigned char sent_by_process_bit = 0x80;

struct SavedAction {
  int number;
  struct sigaction action;
};
std::vector<SavedAction> g_saved;

void restore_default_and_raise(int number) {
  struct sigaction action {};
  action.sa_handler = SIG_DFL;
  sigemptyset(&action.sa_mask);
  ::sigaction(number, &action, nullptr);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, number);
  ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
  ::raise(number);
}

bool sent_with_kill(const siginfo_t* info) {
  if (info == nullptr) {
    return false;
  }
#if defined(SI_TKILL)
  if (info->si_code == SI_TKILL) {
    return true;
  }
#endif
  return info->si_code == SI_USER || info->si_code == SI_QUEUE;
}

// The signals the kernel sends a whole process group on its own: a terminal's Ctrl+C, Ctrl+\ and
// hang-up, and SIGHUP to an orphaned process group. Kernel-made signals of other kinds (SIGXCPU
// past RLIMIT_CPU...) are aimed at this process alone.
bool group_wide(int number) {
  return number == SIGINT || number == SIGQUIT || number == SIGHUP;
}

void on_termination_signal(int number, siginfo_t* info, void*) {
  if (in_spawned_child()) {
    restore_default_and_raise(number);
    return;
  }
  const bool by_process = sent_with_kill(info);
  // A signal that one of our own system calls raised: SIGPIPE for a write to a pipe nobody reads
  // (a killed ninja's stderr), SIGXFSZ for a write past RLIMIT_FSIZE. The kernel sends them as
  // if this process had called kill() on itself, and the call fails with EPIPE or EFBIG, which
  // the error path reports: dying of them could leave a lock behind.
  if (by_process && info->si_pid == ::getpid() && (number == SIGPIPE || number == SIGXFSZ)) {
    return;
  }
  // SIGALRM from the kernel is arm_alarm()'s timer, there only to make a blocking call return
  // EINTR; one sent by a process (`timeout -s ALRM`) asks buildlock to stop, unless whoever
  // started it ignored SIGALRM.
  if (number == SIGALRM && (!by_process || g_alarm_ignored)) {
    return;
  }
  if (g_die_on_termination) {
    restore_default_and_raise(number);
    return;
  }
  const int saved_errno = errno;
  const bool reached_command = !by_process && group_wide(number);
  const auto byte =
      static_cast<unsigned char>(number | (reached_command ? 0 : sent_by_process_bit));
  [[maybe_unused]] const auto written = ::write(g_wake_pipe[1], &byte, 1);
  errno = saved_errno;
}

void on_child(int) {
  if (in_spawned_child()) {
    return; // the child has no children of its own: a SIGCHLD sent to it by hand
  }
  const int saved_errno = errno;
  const unsigned char byte = 0;
  [[maybe_unused]] const auto written = ::write(g_wake_pipe[1], &byte, 1);
  errno = saved_errno;
}

// The terminating signals that programs use for purposes of their own (profilers, event loops,
// real-time signals) are taken over only while they have their default action: one with a
// handler at start-up (a preloaded profiler's) is left alone.
bool taken_over_only_from_default(int number) {
  return number != SIGINT && number != SIGTERM && number != SIGHUP && number != SIGQUIT &&
         number != SIGUSR1 && number != SIGUSR2;
}

// Installs the handler and learns the previous action in one call; where buildlock must not take
// the signal over, the previous action goes back at once. The caller blocks the signal meanwhile,
// so that it is never handled in between: restoring SIG_IGN discards one that came.
void install(int number, void (*handler)(int, siginfo_t*, void*), void (*simple)(int)) {
  struct sigaction action {};
  sigemptyset(&action.sa_mask);
  // No SA_RESTART: a blocking flock() must return EINTR so deadlines and signals are seen.
  if (handler != nullptr) {
    action.sa_sigaction = handler;
    action.sa_flags = SA_SIGINFO;
  } else {
    action.sa_handler = simple;
    action.sa_flags = SA_NOCLDSTOP;
  }
  struct sigaction old {};
  ::sigaction(number, &action, &old);
  const bool plain = (old.sa_flags & SA_SIGINFO) == 0;
  const bool ignored = plain && old.sa_handler == SIG_IGN;
  bool keep = true;
  if (number == SIGCHLD || number == SIGALRM) {
    // Needed whatever they were: waitpid() must see the command end (an ignored SIGCHLD reaps
    // children unseen), and arm_alarm() interrupts blocking calls with SIGALRM.
    if (number == SIGALRM && ignored) {
      g_alarm_ignored = 1; // a SIGALRM that a process sends stays ignored
    }
  } else if (ignored) {
    keep = false; // ignored by whoever started us (e.g. `nohup`, `cmd &`): keep it ignored
  } else if (taken_over_only_from_default(number) && !(plain && old.sa_handler == SIG_DFL)) {
    keep = false;
  }
  if (!keep) {
    ::sigaction(number, &old, nullptr);
    return;
  }
  g_saved.push_back({number, old});
}

// The wake pipe: non-blocking (a handler never blocks on a full pipe, take_signals() never on an
// empty one) and not inherited by commands.
int open_wake_pipe(int fds[2]) {
#if defined(__linux__)
  return ::pipe2(fds, O_NONBLOCK | O_CLOEXEC); // one call instead of a pipe() and six fcntl()s
#else
  if (::pipe(fds) != 0) {
    return -1;
  }
  for (int i = 0; i < 2; ++i) {
    ::fcntl(fds[i], F_SETFL, ::fcntl(fds[i], F_GETFL) | O_NONBLOCK);
    ::fcntl(fds[i], F_SETFD, FD_CLOEXEC);
  }
  return 0;
#endif
}

void set_timer(std::chrono::nanoseconds first, std::chrono::nanoseconds interval) {
  auto to_timeval = [](std::chrono::nanoseconds ns) {
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(ns).count();
    return timeval{static_cast<time_t>(us / 1'000'000), static_cast<suseconds_t>(us % 1'000'000)};
  };
  itimerval timer{};
  timer.it_value = to_timeval(first);
  timer.it_interval = to_timeval(interval);
  ::setitimer(ITIMER_REAL, &timer, nullptr);
}

sigset_t forwarded_set() {
  sigset_t set;
  sigemptyset(&set);
  for (int number : forwarded_signals()) {
    sigaddset(&set, number);
  }
  return set;
}

} // namespace

int interrupt_signal() {
  return SIGINT;
}

int terminate_signal() {
  return SIGTERM;
}

int kill_signal() {
  return SIGKILL;
}

const char* kill_signal_name() {
  return "SIGKILL";
}

const char* own_stop_description() {
  return "SIGTERM, SIGKILL --kill-after later";
}

bool is_stop_signal(int signal) {
  // Of the signals that end a program by default, all but the crashes (never forwarded) and the
  // three that programs also use as messages: SIGUSR1, SIGUSR2 (dd prints its progress) and
  // SIGPIPE.
  return signal != SIGUSR1 && signal != SIGUSR2 && signal != SIGPIPE &&
         (signal == SIGKILL || std::find(forwarded_signals().begin(), forwarded_signals().end(),
                                         signal) != forwarded_signals().end());
}

const std::vector<int>& forwarded_signals() {
  // Every signal whose default action ends the process (docs/cli.md, "Signals"), except those
  // that cannot be caught (SIGKILL) and those the kernel sends a program that crashed (SIGSEGV,
  // SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS, SIGABRT from abort()): buildlock keeps their default
  // action, so that its own crash stays a crash, with a core dump or a sanitizer's report.
  static const std::vector<int> signals = [] {
    std::vector<int> list = {SIGINT,  SIGTERM, SIGHUP,  SIGQUIT, SIGUSR1,   SIGUSR2,
                             SIGALRM, SIGPIPE, SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF};
#if defined(SIGPWR)
    list.push_back(SIGPWR);
#endif
#if defined(SIGSTKFLT)
    list.push_back(SIGSTKFLT);
#endif
#if defined(SIGPOLL)
    list.push_back(SIGPOLL); // SIGIO on Linux
#endif
#if defined(SIGRTMIN) && defined(SIGRTMAX)
    for (int number = SIGRTMIN; number <= SIGRTMAX; ++number) {
      list.push_back(number); // what the C library reserves for itself lies below SIGRTMIN
    }
#endif
    return list;
  }();
  return signals;
}

namespace {
std::vector<int> g_default_in_command;
} // namespace

const std::vector<int>& signals_to_default_in_command() {
  return g_default_in_command;
}

SignalHandling::SignalHandling() {
  open_wake_pipe(g_wake_pipe);
  g_die_on_termination = 1;
  g_alarm_ignored = 0;
  sigset_t installing = forwarded_set();
  sigaddset(&installing, SIGCHLD);
  sigset_t previous;
  ::sigprocmask(SIG_BLOCK, &installing, &previous);
  for (int number : forwarded_signals()) {
    install(number, on_termination_signal, nullptr);
  }
  install(SIGCHLD, nullptr, on_child);
  ::sigprocmask(SIG_SETMASK, &previous, nullptr);
  for (const auto& saved : g_saved) {
    if (saved.number == SIGPIPE) {
      // The handler does not survive exec, but say so: COMMAND gets SIGPIPE's default action,
      // as it would without buildlock.
      g_default_in_command = {SIGPIPE};
    }
  }
}

SignalHandling::~SignalHandling() {
  disarm_alarm();
  for (const auto& saved : g_saved) {
    ::sigaction(saved.number, &saved.action, nullptr);
  }
  g_saved.clear();
  g_default_in_command.clear();
  ::close(g_wake_pipe[0]);
  ::close(g_wake_pipe[1]);
  g_wake_pipe[0] = g_wake_pipe[1] = -1;
}

void SignalHandling::set_mode(TerminationMode mode) {
  g_die_on_termination = mode == TerminationMode::die ? 1 : 0;
}

int SignalHandling::wake_fd() const {
  return g_wake_pipe[0];
}

void SignalHandling::wait_for_signal(TimePoint deadline) const {
  const auto remaining = deadline - monotonic_now();
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(remaining).count();
  pollfd entry{g_wake_pipe[0], POLLIN, 0};
  ::poll(&entry, 1, ms < 0 ? 0 : static_cast<int>(std::min<long long>(ms, 1 << 30)));
}

std::vector<ReceivedSignal> SignalHandling::take_signals() {
  std::vector<ReceivedSignal> received;
  std::array<unsigned char, 64> buffer{};
  for (;;) {
    const ssize_t n = ::read(g_wake_pipe[0], buffer.data(), buffer.size());
    if (n <= 0) {
      break;
    }
    for (ssize_t i = 0; i < n; ++i) {
      const unsigned char byte = buffer[static_cast<std::size_t>(i)];
      if (byte != 0) {
        received.push_back({byte & ~sent_by_process_bit, (byte & sent_by_process_bit) != 0});
      }
    }
  }
  return received;
}

void SignalHandling::arm_alarm(TimePoint first) {
  auto delay = std::chrono::duration_cast<std::chrono::nanoseconds>(first - monotonic_now());
  if (delay < std::chrono::microseconds(1)) {
    delay = std::chrono::microseconds(1); // zero would disarm the timer
  }
  set_timer(delay, std::chrono::milliseconds(100));
  g_alarm_armed = 1;
}

void SignalHandling::disarm_alarm() {
  if (g_alarm_armed) { // a run that never waited never armed it: no call for nothing
    set_timer({}, {});
    g_alarm_armed = 0;
  }
}

static_assert(sizeof(sigset_t) <= 128);
// A recorded signal is one byte on the wake pipe: its number, and sent_by_process_bit.
static_assert(NSIG <= sent_by_process_bit);

DeferSignals::DeferSignals() {
  const sigset_t set = forwarded_set();
  ::sigprocmask(SIG_BLOCK, &set, reinterpret_cast<sigset_t*>(previous_mask_));
}

DeferSignals::~DeferSignals() {
  ::sigprocmask(SIG_SETMASK, reinterpret_cast<const sigset_t*>(previous_mask_), nullptr);
}

void enter_spawned_child() {
  g_spawning_parent = static_cast<sig_atomic_t>(::getpid());
}

void leave_spawned_child() {
  g_spawning_parent = 0;
}

void die_by_signal(int signal) {
  // The command may have dumped core already; the wrapper's core would only add confusion.
  rlimit no_core{0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);
  std::fflush(nullptr);
  restore_default_and_raise(signal);
  std::_Exit(128 + signal);
}

} // namespace buildlock::os

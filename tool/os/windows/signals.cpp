// Signals on Windows: console control events, received by a handler that Windows runs on a thread
// of its own (SetConsoleCtrlHandler).
//
// The three promises of os/signals.h hold as on POSIX: while buildlock only waits, an event ends
// it at once; DeferSignals holds an event back until a file operation is complete; while it
// holds a lock, events are recorded for supervise(), which waits for the command's tree (which
// got the same event: it shares our process group and console) to end, stops what the command
// left running, releases, and exits with the command's status. Closing the console
// (CTRL_CLOSE_EVENT) ends the process when the handler returns, so the handler does not return: the
// main thread has the few seconds Windows grants to do all that and exit; if that is not enough,
// the Job object kills the tree with buildlock.
#include "os/signals.h"

#include "os/windows/command_job.h"
#include "os/windows/interruption.h"
#include "os/windows/native.h"
#include "os/windows/signal_numbers.h"

#include <algorithm>
#include <cstdio>
#include <mutex>

namespace buildlock::os {
namespace {

std::mutex g_mutex; // guards everything below; the handler runs on another thread
bool g_installed = false;
bool g_die_on_termination = true;
int g_defer_depth = 0;
std::vector<int> g_deferred;         // events that arrived under DeferSignals
std::vector<ReceivedSignal> g_queue; // recorded for take_signals()
HANDLE g_event = nullptr;
HANDLE g_alarm = nullptr; // a timer-queue timer; only the main thread arms and disarms it

int signal_of(DWORD control_type) {
  switch (control_type) {
  case CTRL_C_EVENT:
    return windows_signal::interrupt;
  case CTRL_BREAK_EVENT:
    return windows_signal::ctrl_break;
  default: // CTRL_CLOSE_EVENT, CTRL_LOGOFF_EVENT, CTRL_SHUTDOWN_EVENT
    return windows_signal::hangup;
  }
}

// With g_mutex held: what an event does now that it may act.
void deliver(int number, std::unique_lock<std::mutex>& held) {
  if (g_die_on_termination) {
    held.unlock();
    die_by_signal(number);
  }
  // An event reaches a whole process group or console: the command shares our group
  // (command_in_own_group()), so it got this one too.
  g_queue.push_back({number, false});
  SetEvent(g_event);
  interrupt_waits(); // a wait for a lock or a sleep ends early, as by EINTR
}

BOOL WINAPI on_control_event(DWORD control_type) {
  const int number = signal_of(control_type);
  {
    std::unique_lock held(g_mutex);
    if (g_defer_depth > 0) {
      g_deferred.push_back(number);
    } else {
      deliver(number, held);
    }
  }
  if (number == windows_signal::hangup) {
    // Returning lets Windows end the process at once: the main thread must finish first. It ends
    // the process (die_by_signal, or the exit with the command's status) while this sleeps.
    Sleep(INFINITE);
  }
  return TRUE; // handled: not the default handler, which would end the process now
}

void CALLBACK on_alarm(void*, BOOLEAN) {
  interrupt_waits();
}

} // namespace

int interrupt_signal() {
  return windows_signal::interrupt;
}

int terminate_signal() {
  return windows_signal::terminate;
}

int kill_signal() {
  return windows_signal::kill;
}

const char* kill_signal_name() {
  return "TerminateProcess";
}

const char* own_stop_description() {
  return "TerminateJobObject, at once"; // os/windows/child_process.cpp, send_signal(), says why
}

bool is_stop_signal(int signal) {
  return signal == windows_signal::interrupt || signal == windows_signal::ctrl_break ||
         signal == windows_signal::hangup || signal == windows_signal::terminate ||
         signal == windows_signal::kill;
}

const std::vector<int>& forwarded_signals() {
  static const std::vector<int> signals = {windows_signal::interrupt, windows_signal::ctrl_break,
                                           windows_signal::hangup};
  return signals;
}

const std::vector<int>& signals_to_default_in_command() {
  static const std::vector<int> none; // nothing is ignored for buildlock alone
  return none;
}

SignalHandling::SignalHandling() {
  std::lock_guard held(g_mutex);
  if (g_event == nullptr) {
    g_event = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  }
  g_die_on_termination = true;
  g_queue.clear();
  ResetEvent(g_event);
  // A process started with Ctrl+C disabled (CREATE_NEW_PROCESS_GROUP, or SetConsoleCtrlHandler
  // (nullptr, TRUE) by whoever started it) is not sent CTRL_C_EVENT: it stays ignored, for
  // buildlock and for its command, which inherits the setting.
  g_installed = SetConsoleCtrlHandler(on_control_event, TRUE) != FALSE;
}

SignalHandling::~SignalHandling() {
  disarm_alarm();
  std::lock_guard held(g_mutex);
  if (g_installed) {
    SetConsoleCtrlHandler(on_control_event, FALSE);
    g_installed = false;
  }
  g_queue.clear();
}

void SignalHandling::set_mode(TerminationMode mode) {
  std::lock_guard held(g_mutex);
  g_die_on_termination = mode == TerminationMode::die;
}

int SignalHandling::wake_fd() const {
  return -1;
}

void SignalHandling::wait_for_signal(TimePoint deadline) const {
  const auto remaining = deadline - monotonic_now();
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(remaining).count();
  // The command's process is waited for until ChildProcess::poll() has seen it exit (the
  // counterpart of SIGCHLD). Not merely while it runs: an exit between the caller's poll() and
  // this wait would then be slept through until the deadline, which can be a heartbeat away.
  HANDLE handles[2] = {g_event, running_process()};
  const DWORD count = handles[1] != nullptr ? 2 : 1;
  WaitForMultipleObjects(count, handles, FALSE,
                         ms <= 0 ? 0 : static_cast<DWORD>(std::min<long long>(ms, 1 << 30)));
}

std::vector<ReceivedSignal> SignalHandling::take_signals() {
  std::lock_guard held(g_mutex);
  std::vector<ReceivedSignal> received = std::move(g_queue);
  g_queue.clear();
  ResetEvent(g_event);
  return received;
}

void SignalHandling::arm_alarm(TimePoint first) {
  disarm_alarm();
  const auto delay = std::chrono::ceil<std::chrono::milliseconds>(first - monotonic_now()).count();
  // Then every 100 ms, in case a wait began just after the alarm went off (as on POSIX).
  CreateTimerQueueTimer(&g_alarm, nullptr, on_alarm, nullptr,
                        static_cast<DWORD>(std::clamp<long long>(delay, 0, 1 << 30)), 100,
                        WT_EXECUTEDEFAULT);
}

void SignalHandling::disarm_alarm() {
  if (g_alarm != nullptr) {
    DeleteTimerQueueTimer(nullptr, g_alarm, INVALID_HANDLE_VALUE); // waits for a running callback
    g_alarm = nullptr;
  }
}

DeferSignals::DeferSignals() {
  std::lock_guard held(g_mutex);
  ++g_defer_depth;
}

DeferSignals::~DeferSignals() {
  std::unique_lock held(g_mutex);
  if (--g_defer_depth == 0) {
    const std::vector<int> deferred = std::move(g_deferred);
    g_deferred.clear();
    for (const int number : deferred) {
      deliver(number, held); // as it would have been delivered now
    }
  }
}

void die_by_signal(int signal) {
  std::fflush(nullptr);
  // What a process ended by a console control event exits with, so that cmd.exe and ninja see
  // buildlock interrupted like its command; other signals as a POSIX shell reports them.
  const bool console_event = signal == windows_signal::interrupt ||
                             signal == windows_signal::ctrl_break ||
                             signal == windows_signal::hangup;
  ExitProcess(console_event ? static_cast<UINT>(windows_signal::control_c_exit)
                            : static_cast<UINT>(128 + signal));
}

} // namespace buildlock::os

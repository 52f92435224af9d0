// main_thread_exit: a process whose main thread ends with pthread_exit() while another thread
// runs on (issue 20, finding 3). /proc then shows the process as a zombie ('Z': its thread-group
// leader has exited), yet it runs, signals to its pid reach the other thread, and its parent
// cannot reap it before that thread ends.
//
// The other thread waits until /proc shows the main thread gone, then runs the steps:
//
//   trap SIG FD   from now on, on signal SIG (a number) write its number as a byte to FD and
//                 carry on
//   notify FD     write one byte to FD ("the main thread is gone, I run")
//   wait FD       block until one byte (or end-of-file) arrives on FD
//
// and returns: the process then exits with status 0. Bad steps exit 99.
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <pthread.h>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

int g_trap_fds[NSIG];

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr, "main_thread_exit: %s\n", why.c_str());
  std::exit(99);
}

int parse_int(const std::string& text) {
  char* end = nullptr;
  const long value = std::strtol(text.c_str(), &end, 10);
  if (end == text.c_str() || *end != '\0') {
    usage("not a number: " + text);
  }
  return static_cast<int>(value);
}

void on_trapped_signal(int number) {
  const int saved = errno;
  const auto byte = static_cast<unsigned char>(number);
  [[maybe_unused]] auto written = ::write(g_trap_fds[number], &byte, 1);
  errno = saved;
}

// The state letter of this process's thread-group leader.
char leader_state() {
  std::ifstream file("/proc/self/stat");
  std::string line;
  std::getline(file, line);
  const auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() ? line[close + 2] : '?';
}

void run_steps(const std::vector<std::string>& steps) {
  // Not a timed guess: the loop ends when the kernel shows the main thread gone.
  while (leader_state() != 'Z') {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const auto argument = [&](std::size_t offset) {
      if (i + offset >= steps.size()) {
        usage(steps[i] + ": missing argument");
      }
      return parse_int(steps[i + offset]);
    };
    if (steps[i] == "trap") {
      const int number = argument(1);
      if (number <= 0 || number >= NSIG) {
        usage("bad signal " + steps[i + 1]);
      }
      g_trap_fds[number] = argument(2);
      struct sigaction action {};
      action.sa_handler = on_trapped_signal;
      sigemptyset(&action.sa_mask);
      action.sa_flags = SA_RESTART;
      ::sigaction(number, &action, nullptr);
      i += 2;
    } else if (steps[i] == "notify") {
      const char byte = 1;
      if (::write(argument(1), &byte, 1) != 1) {
        usage("notify failed");
      }
      ++i;
    } else if (steps[i] == "wait") {
      char byte = 0;
      ssize_t n = 0;
      while ((n = ::read(argument(1), &byte, 1)) < 0 && errno == EINTR) {
      }
      ++i;
    } else {
      usage("unknown step " + steps[i]);
    }
  }
}

} // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> steps(argv + 1, argv + argc);
  std::thread(run_steps, steps).detach();
  // The process now lives on in the other thread; its exit status is 0 when that thread returns.
  pthread_exit(nullptr);
}

#include "support/process.h"

#include "support/temp_dir.h"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <poll.h>
#include <sstream>
#include <stdexcept>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace buildlock::test {
namespace {

// Descriptors are moved up here first, so that passing fd 3 as 4 and fd 4 as 3 cannot clobber.
constexpr int first_parking_fd = 200;
constexpr std::size_t max_passed_fds = 32;

std::string join(const std::vector<std::string>& words) {
  std::string text;
  for (const auto& word : words) {
    text += (text.empty() ? "" : " ") + word;
  }
  return text;
}

std::vector<std::string>
merged_environment(const std::vector<std::pair<std::string, std::optional<std::string>>>& changes) {
  std::vector<std::string> entries;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string text = *entry;
    bool changed = false;
    for (const auto& change : changes) {
      changed = changed || text.rfind(change.first + "=", 0) == 0;
    }
    if (!changed) {
      entries.push_back(text);
    }
  }
  // The last change of a variable wins (a test may override what IntegrationTest::program() set).
  for (std::size_t i = 0; i < changes.size(); ++i) {
    const auto& [name, value] = changes[i];
    bool changed_again = false;
    for (std::size_t later = i + 1; later < changes.size(); ++later) {
      changed_again = changed_again || changes[later].first == name;
    }
    if (value && !changed_again) {
      entries.push_back(name + "=" + *value);
    }
  }
  return entries;
}

std::vector<char*> pointers_to(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (auto& text : strings) {
    pointers.push_back(text.data());
  }
  pointers.push_back(nullptr);
  return pointers;
}

// Everything the child needs, computed before fork().
struct ChildPlan {
  std::vector<char*> argv;
  std::vector<char*> envp;
  std::vector<std::pair<int, int>> fds;
  bool own_process_group = false;
  const char* terminal_path = nullptr;
  const char* stdout_path = nullptr;
  const char* stderr_path = nullptr;
  const char* working_directory = nullptr;
  bool core_dumps = false;
};

[[noreturn]] void fail_in_child(int error_pipe) {
  const int error = errno;
  [[maybe_unused]] auto written = ::write(error_pipe, &error, sizeof error);
  ::_exit(127);
}

// After fork(): only async-signal-safe calls.
[[noreturn]] void become(const ChildPlan& plan, int error_pipe) {
  if (plan.terminal_path != nullptr) {
    const int terminal = ::setsid() < 0 ? -1 : ::open(plan.terminal_path, O_RDWR | O_CLOEXEC);
    if (terminal < 0 || ::ioctl(terminal, TIOCSCTTY, 0) != 0 || ::dup2(terminal, 0) < 0) {
      fail_in_child(error_pipe);
    }
  } else {
    if (plan.own_process_group && ::setpgid(0, 0) != 0) {
      fail_in_child(error_pipe);
    }
    const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null < 0 || ::dup2(null, 0) < 0) {
      fail_in_child(error_pipe);
    }
  }
  // Close-on-exec: only the dup2() copies (0, 1, 2) reach the program.
  const int flags = O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC;
  const int out = ::open(plan.stdout_path, flags, 0644);
  const int err = ::open(plan.stderr_path, flags, 0644);
  if (out < 0 || err < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) {
    fail_in_child(error_pipe);
  }
  int parked[max_passed_fds];
  for (std::size_t i = 0; i < plan.fds.size(); ++i) {
    parked[i] = ::fcntl(plan.fds[i].second, F_DUPFD_CLOEXEC, first_parking_fd);
    if (parked[i] < 0) {
      fail_in_child(error_pipe);
    }
  }
  for (std::size_t i = 0; i < plan.fds.size(); ++i) {
    if (::dup2(parked[i], plan.fds[i].first) < 0) { // dup2 clears close-on-exec on the copy
      fail_in_child(error_pipe);
    }
  }
  if (plan.working_directory != nullptr && ::chdir(plan.working_directory) != 0) {
    fail_in_child(error_pipe);
  }
  // Whatever ctest or the shell did to our signals, the program under test starts clean.
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int number = 1; number < NSIG; ++number) {
    ::signal(number, SIG_DFL);
  }
  rlimit core{0, 0};
  if (plan.core_dumps && ::getrlimit(RLIMIT_CORE, &core) == 0) {
    core.rlim_cur = core.rlim_max; // as large as this process may make it
  }
  ::setrlimit(RLIMIT_CORE, &core);
  ::execvpe(plan.argv[0], plan.argv.data(), plan.envp.data());
  fail_in_child(error_pipe);
}

int open_pidfd(pid_t pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
  (void)pid;
  return -1;
#endif
}

} // namespace

std::string describe(const ExitStatus& status) {
  if (status.timed_out) {
    return "still running at the deadline (killed by the test)";
  }
  if (status.signaled) {
    return "signal " + std::to_string(status.code) + " (" + ::strsignal(status.code) + ")";
  }
  return "exit " + std::to_string(status.code);
}

void PrintTo(const ExitStatus& status, std::ostream* out) {
  *out << describe(status);
}

Command::Command(std::vector<std::string> argv) : argv_(std::move(argv)) {
  if (argv_.empty()) {
    throw std::logic_error("Command with an empty argv");
  }
}

Command& Command::env(std::string name, std::string value) {
  environment_.emplace_back(std::move(name), std::move(value));
  return *this;
}

Command& Command::unset_env(std::string name) {
  environment_.emplace_back(std::move(name), std::nullopt);
  return *this;
}

Command& Command::preload(const std::string& library) {
  const char* inherited = std::getenv("ASAN_OPTIONS");
  std::string asan = inherited != nullptr ? inherited : "";
  asan += std::string(asan.empty() ? "" : ":") + "verify_asan_link_order=0";
  return env("LD_PRELOAD", library).env("ASAN_OPTIONS", asan);
}

Command& Command::stop_in_hook(const std::string& library, const std::string& prefix,
                               const std::string& where, const Pipe& stopped, const Pipe& resume) {
  return preload(library)
      .env(prefix + "_PAUSE", where)
      .env(prefix + "_NOTIFY_FD", "5")
      .env(prefix + "_RESUME_FD", "6")
      .pass_fd(5, stopped.write_fd())
      .pass_fd(6, resume.read_fd());
}

Command& Command::pass_fd(int child_fd, int parent_fd) {
  if (child_fd <= 2 || child_fd >= first_parking_fd || parent_fd < 0) {
    throw std::logic_error("pass_fd: child descriptors must be between 3 and " +
                           std::to_string(first_parking_fd - 1));
  }
  if (fds_.size() == max_passed_fds) {
    throw std::logic_error("pass_fd: too many descriptors");
  }
  fds_.emplace_back(child_fd, parent_fd);
  return *this;
}

Command& Command::own_process_group() {
  own_process_group_ = true;
  return *this;
}

Command& Command::controlling_terminal(std::string terminal_path) {
  terminal_path_ = std::move(terminal_path);
  return *this;
}

Command& Command::output_to(std::string prefix) {
  output_prefix_ = std::move(prefix);
  return *this;
}

Command& Command::allow_core_dumps() {
  core_dumps_ = true;
  return *this;
}

Command& Command::working_directory(std::string path) {
  working_directory_ = std::move(path);
  return *this;
}

Process Command::start() const {
  static int counter = 0;
  std::string prefix = output_prefix_;
  if (prefix.empty()) {
    const TempDir* dir = TempDir::current();
    if (dir == nullptr) {
      throw std::logic_error("Command::start: no output_to() and no TempDir in this test");
    }
    // Apart from the test's own entries, so that tests can assert what a program created.
    const std::string output_dir = *dir / "output";
    if (::mkdir(output_dir.c_str(), 0755) != 0 && errno != EEXIST) {
      throw std::runtime_error("mkdir " + output_dir + ": " + std::strerror(errno));
    }
    std::string base = argv_[0].substr(argv_[0].rfind('/') + 1);
    prefix = output_dir + "/" + std::to_string(++counter) + "-" + base;
  }
  Process process;
  process.stdout_path_ = prefix + ".out";
  process.stderr_path_ = prefix + ".err";
  process.description_ = join(argv_);
  process.has_group_ = own_process_group_ || !terminal_path_.empty();

  std::vector<std::string> arguments = argv_;
  std::vector<std::string> variables = merged_environment(environment_);
  ChildPlan plan;
  plan.argv = pointers_to(arguments);
  plan.envp = pointers_to(variables);
  plan.fds = fds_;
  plan.own_process_group = own_process_group_;
  plan.terminal_path = terminal_path_.empty() ? nullptr : terminal_path_.c_str();
  plan.stdout_path = process.stdout_path_.c_str();
  plan.stderr_path = process.stderr_path_.c_str();
  plan.working_directory = working_directory_.empty() ? nullptr : working_directory_.c_str();
  plan.core_dumps = core_dumps_;

  int error_pipe[2];
  if (::pipe2(error_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
  }
  process.started_at_ = Clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) {
    throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::close(error_pipe[0]);
    become(plan, error_pipe[1]);
  }
  process.pid_ = pid;
  if (own_process_group_) {
    ::setpgid(pid, pid); // also here, so that signal_group() works right after start()
  }
  ::close(error_pipe[1]);
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(error_pipe[0], &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  ::close(error_pipe[0]);
  process.pidfd_ = open_pidfd(pid);
  if (n > 0) {
    process.wait(10s);
    throw std::runtime_error("cannot start `" + process.description_ +
                             "`: " + std::strerror(child_errno));
  }
  return process;
}

Process::Process(Process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), pidfd_(std::exchange(other.pidfd_, -1)),
      has_group_(other.has_group_), dumped_core_(other.dumped_core_), status_(other.status_),
      started_at_(other.started_at_), ended_at_(other.ended_at_),
      stdout_path_(std::move(other.stdout_path_)), stderr_path_(std::move(other.stderr_path_)),
      description_(std::move(other.description_)) {}

Process::~Process() {
  if (pid_ > 0 && !status_) {
    if (has_group_) {
      ::kill(-pid_, SIGKILL);
    }
    ::kill(pid_, SIGKILL);
    int raw = 0;
    while (::waitpid(pid_, &raw, 0) < 0 && errno == EINTR) {
    }
  } else if (pid_ > 0 && has_group_) {
    ::kill(-pid_, SIGKILL); // descendants left in its group
  }
  if (pidfd_ >= 0) {
    ::close(pidfd_);
  }
}

milliseconds Process::run_time() const {
  return std::chrono::duration_cast<milliseconds>(ended_at_ - started_at_);
}

void Process::reap(int raw_status) {
  ended_at_ = Clock::now();
  if (WIFSIGNALED(raw_status)) {
    status_ = ExitStatus::killed_by(WTERMSIG(raw_status));
    dumped_core_ = WCOREDUMP(raw_status);
  } else {
    status_ = ExitStatus::exited(WEXITSTATUS(raw_status));
  }
}

// True when the process has ended (and was reaped) by `deadline`.
bool Process::wait_until(Clock::time_point deadline) {
  for (;;) {
    if (status_) {
      return true;
    }
    int raw = 0;
    const pid_t result = ::waitpid(pid_, &raw, WNOHANG);
    if (result == pid_) {
      reap(raw);
      return true;
    }
    if (result < 0 && errno != EINTR) {
      throw std::runtime_error(std::string("waitpid: ") + std::strerror(errno));
    }
    const auto now = Clock::now();
    if (now >= deadline) {
      return false;
    }
    if (pidfd_ >= 0) {
      // Readable the moment the process exits: no polling interval in latency measurements.
      const auto left = std::chrono::ceil<milliseconds>(deadline - now).count();
      pollfd entry{pidfd_, POLLIN, 0};
      ::poll(&entry, 1, static_cast<int>(left));
    } else {
      std::this_thread::sleep_for(1ms);
    }
  }
}

ExitStatus Process::wait(milliseconds timeout) {
  if (wait_until(Clock::now() + timeout)) {
    return *status_;
  }
  ADD_FAILURE() << "`" << description_ << "` (pid " << pid_ << ") still running after "
                << timeout.count() << " ms; killing it";
  if (has_group_) {
    ::kill(-pid_, SIGKILL);
  }
  ::kill(pid_, SIGKILL);
  wait_until(Clock::now() + 10s);
  ExitStatus status = status_.value_or(ExitStatus{});
  status.timed_out = true;
  return status;
}

bool Process::is_running() {
  return !wait_until(Clock::now());
}

void Process::send_signal(int signal) const {
  if (pid_ > 0 && !status_) {
    ::kill(pid_, signal);
  }
}

void Process::signal_group(int signal) const {
  if (!has_group_) {
    throw std::logic_error("signal_group: `" + description_ + "` has no process group of its own");
  }
  ::kill(-pid_, signal);
}

std::string Process::stdout_text() const {
  return read_file(stdout_path_);
}
std::string Process::stderr_text() const {
  return read_file(stderr_path_);
}

Finished run(const Command& command, milliseconds timeout) {
  Process process = command.start();
  Finished finished;
  finished.status = process.wait(timeout);
  finished.out = process.stdout_text();
  finished.err = process.stderr_text();
  finished.run_time = process.run_time();
  return finished;
}

std::string read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

std::optional<pid_t> child_of(pid_t parent) {
  // The error_code forms: /proc unreadable is "none found", a failed read ends the scan, and an
  // entry gone meanwhile just has no stat to read.
  std::error_code error;
  std::filesystem::directory_iterator proc("/proc", error);
  for (; !error && proc != std::filesystem::directory_iterator(); proc.increment(error)) {
    const std::string name = proc->path().filename().string();
    std::ifstream stat("/proc/" + name + "/stat");
    std::string line;
    if (!std::getline(stat, line) || line.rfind(')') == std::string::npos) {
      continue;
    }
    std::istringstream fields(line.substr(line.rfind(')') + 1));
    char state = 0;
    long ppid = 0;
    fields >> state >> ppid;
    if (ppid == parent && state != 'Z' && state != 'X') {
      return static_cast<pid_t>(std::stol(name));
    }
  }
  return std::nullopt;
}

void kill_job_with_sigkill(const Process& buildlock) {
  // buildlock first: killed second, it would see its command die and release in good order.
  const auto command = child_of(buildlock.pid());
  buildlock.signal_group(SIGKILL);
  if (!command) {
    ADD_FAILURE() << "buildlock " << buildlock.pid() << " runs no command";
  } else if (::kill(-*command, SIGKILL) != 0) {
    ADD_FAILURE() << "the command " << *command << " has no process group of its own";
  }
}

} // namespace buildlock::test

#include "worker.h"

#include "kernel_view.h"
#include "processes.h"
#include "roles.h"

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/wait.h>

namespace buildlock::chaos {
namespace {

bool killer_signal(int signal) {
  return signal == SIGKILL || signal == SIGINT || signal == SIGTERM;
}

// The signals the killer sends that end a wrapper: its run may end by them, or by its command's
// exit status 128 + N when a signal ended the shell's child (the shell reports it so). SIGSTOP
// never ends one (it is always followed by SIGCONT).
bool expected_ending(int status) {
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status) == 0 ||
           (WEXITSTATUS(status) > 128 && killer_signal(WEXITSTATUS(status) - 128));
  }
  return killer_signal(WTERMSIG(status));
}

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.rfind(prefix, 0) == 0;
}

std::string seconds_text(double seconds) {
  std::ostringstream text;
  text.precision(3);
  text << seconds << " s";
  return text.str();
}

} // namespace

Worker::Worker(int index, const Options& options, Variant variant, KernelLocks kernel_locks,
               const Arena& arena, std::uint64_t seed, std::function<std::string()> snapshot)
    : index_(index), options_(options), variant_(variant), kernel_locks_(kernel_locks),
      kernel_locks_off_(kernel_locks == KernelLocks::off ||
                        (kernel_locks == KernelLocks::mixed && index % 2 == 1)),
      arena_(arena), random_(seed), snapshot_(std::move(snapshot)) {}

std::vector<std::string> Worker::wrapper_argv(int run) {
  const Role role = choose_role(options_, variant_, random_);
  std::uniform_int_distribution<int> hold(0, options_.max_hold_us);
  const int hold_us = hold(random_);
  const int grandchild_hold_us = hold(random_);
  const bool ignore_term =
      std::uniform_int_distribution<int>(0, 99)(random_) < options_.ignore_term_percent;
  std::vector<std::string> argv = {options_.buildlock, "run", "--dir", arena_.lock_dir};
  if (options_.stale_after_s) {
    argv.insert(argv.end(), {"--stale-after", std::to_string(*options_.stale_after_s)});
  }
  if (options_.kill_after_s) {
    argv.insert(argv.end(), {"--kill-after", std::to_string(*options_.kill_after_s)});
  }
  if (kernel_locks_off_) {
    argv.insert(argv.end(), {"--kernel-locks", "off"});
  }
  argv.insert(argv.end(), role.buildlock_options.begin(), role.buildlock_options.end());
  const std::string lock =
      options_.sabotage ? arena_.lock_name + "-" + std::to_string(index_) : arena_.lock_name;
  // The shell forks for the first of two commands, so it stays the command's main process.
  argv.insert(argv.end(),
              {lock, "--", "sh", "-c", "\"$@\"; exit $?", "sh", options_.holder, arena_.log,
               arena_.detectors, role.holder_role, std::to_string(index_), std::to_string(run),
               std::to_string(hold_us), std::to_string(options_.slots),
               std::to_string(grandchild_hold_us), ignore_term ? "1" : "0"});
  return argv;
}

std::string Worker::stderr_since(std::uintmax_t offset) const {
  std::ifstream file(arena_.stderr_path(index_));
  file.seekg(static_cast<std::streamoff>(offset));
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

void Worker::run_once(int run) {
  const std::string stderr_path = arena_.stderr_path(index_);
  std::error_code ignored;
  const auto stderr_offset = std::filesystem::exists(stderr_path)
                                 ? std::filesystem::file_size(stderr_path, ignored)
                                 : std::uintmax_t{0};
  SpawnRequest request;
  request.argv = wrapper_argv(run);
  request.stdout_path = "/dev/null";
  request.stderr_path = stderr_path;
  request.descriptors = {{arena_.liveness_fd, 3}};
  request.own_process_group = true;
  if (!arena_.users.empty()) {
    const RunAs& user = arena_.users[static_cast<std::size_t>(index_) % arena_.users.size()];
    request.run_as = SpawnRequest::User{user.uid, user.gid};
  }
  const pid_t pid = spawn(request);
  const Fd pidfd = pidfd_open(pid); // our unreaped child: certainly this process
  {
    const std::lock_guard lock(mutex_);
    wrapper_ = pid;
  }

  const auto started = std::chrono::steady_clock::now();
  const auto deadline = started + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                      std::chrono::duration<double>(options_.run_deadline_s));
  if (!wait_for_end(pidfd, deadline)) {
    report_.violations.push_back(
        "hang: run " + std::to_string(run) + " of worker " + std::to_string(index_) + " (pid " +
        std::to_string(pid) + ") still running after " + seconds_text(options_.run_deadline_s) +
        "; its processes:\n" + describe_process_tree(pid) + "its stderr so far:\n" +
        stderr_since(stderr_offset) + "lock directory then:\n" + snapshot_());
    {
      const std::lock_guard lock(mutex_);
      ::killpg(pid, SIGKILL); // the group of an unreaped leader: certainly ours
    }
    wait_for_end(pidfd, std::chrono::steady_clock::time_point::max());
  }
  int status = 0;
  {
    const std::lock_guard lock(mutex_);
    wrapper_.reset();
    status = reap(pid);
  }
  ++report_.runs;
  ++report_.endings[describe_status(status)];
  if (!expected_ending(status) && !accept_refusal(status, stderr_offset)) {
    report_.violations.push_back("unexpected end: run " + std::to_string(run) + " of worker " +
                                 std::to_string(index_) + " (pid " + std::to_string(pid) +
                                 ") ended with " + describe_status(status) + "; its stderr:\n" +
                                 stderr_since(stderr_offset));
  }
}

bool Worker::accept_refusal(int status, std::uintmax_t stderr_offset) {
  if (kernel_locks_ != KernelLocks::mixed || !WIFEXITED(status) || WEXITSTATUS(status) != 65) {
    return false;
  }
  const std::string text = stderr_since(stderr_offset);
  if (text.empty() || text.back() != '\n' || text.find('\n') != text.size() - 1 ||
      !starts_with(text, "buildlock: error: ")) {
    return false;
  }
  std::filesystem::resize_file(arena_.stderr_path(index_), stderr_offset);
  const std::string line = text.substr(0, text.size() - 1);
  std::size_t end = 0;
  for (int words = 0; words < 5 && end != std::string::npos; ++words) {
    end = line.find(' ', end + 1);
  }
  ++report_.refusals[line.substr(0, end)];
  return true;
}

void Worker::run(std::optional<std::chrono::steady_clock::time_point> stop_at,
                 const std::function<bool()>& floors_met) {
  for (int run = 0;; ++run) {
    if (stop_at ? std::chrono::steady_clock::now() >= *stop_at
                : run >= options_.runs_per_worker &&
                      (run >= *options_.max_runs_per_worker || floors_met())) {
      return;
    }
    run_once(run);
  }
}

bool Worker::with_wrapper(const std::function<void(pid_t)>& action) {
  const std::lock_guard lock(mutex_);
  if (!wrapper_) {
    return false;
  }
  action(*wrapper_);
  return true;
}

} // namespace buildlock::chaos

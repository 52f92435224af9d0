#include "worker.h"

#include "processes.h"
#include "roles.h"

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/wait.h>

namespace buildlock::chaos {
namespace {

// The signals the killer sends that end a wrapper: its run may end by them. SIGSTOP never ends
// one (it is always followed by SIGCONT).
bool expected_ending(int status) {
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status) == 0;
  }
  const int signal = WTERMSIG(status);
  return signal == SIGKILL || signal == SIGINT || signal == SIGTERM;
}

std::string seconds_text(double seconds) {
  std::ostringstream text;
  text.precision(3);
  text << seconds << " s";
  return text.str();
}

} // namespace

Worker::Worker(int index, const Options& options, Variant variant, const Arena& arena,
               std::uint64_t seed, std::function<std::string()> snapshot)
    : index_(index), options_(options), variant_(variant), arena_(arena), random_(seed),
      snapshot_(std::move(snapshot)) {}

std::vector<std::string> Worker::wrapper_argv(int run) {
  const Role role = choose_role(options_, variant_, random_);
  const int hold_us = std::uniform_int_distribution<int>(0, options_.max_hold_us)(random_);
  std::vector<std::string> argv = {options_.buildlock, "run", "--dir", arena_.lock_dir};
  if (options_.stale_after_s) {
    argv.insert(argv.end(), {"--stale-after", std::to_string(*options_.stale_after_s)});
  }
  argv.insert(argv.end(), role.buildlock_options.begin(), role.buildlock_options.end());
  const std::string lock =
      options_.sabotage ? arena_.lock_name + "-" + std::to_string(index_) : arena_.lock_name;
  argv.insert(argv.end(),
              {lock, "--", options_.holder, arena_.log, arena_.detectors, role.holder_role,
               std::to_string(index_), std::to_string(run), std::to_string(hold_us)});
  if (role.holder_role == "slot") {
    argv.push_back(std::to_string(options_.slots));
  }
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
    report_.violations.push_back("hang: run " + std::to_string(run) + " of worker " +
                                 std::to_string(index_) + " (pid " + std::to_string(pid) +
                                 ") still running after " + seconds_text(options_.run_deadline_s) +
                                 "; lock directory then:\n" + snapshot_());
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
  if (!expected_ending(status)) {
    report_.violations.push_back("unexpected end: run " + std::to_string(run) + " of worker " +
                                 std::to_string(index_) + " (pid " + std::to_string(pid) +
                                 ") ended with " + describe_status(status) + "; its stderr:\n" +
                                 stderr_since(stderr_offset));
  }
}

void Worker::run(std::optional<std::chrono::steady_clock::time_point> stop_at) {
  for (int run = 0;; ++run) {
    if (stop_at ? std::chrono::steady_clock::now() >= *stop_at : run >= options_.runs_per_worker) {
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

// The processes of the chaos test: wrappers started in process groups of their own, and pidfds,
// which name one process for good (a pid number may be reused once its process is reaped; with
// the machine's pid_max of 32768 and thousands of runs it will be, and the killer must never
// signal a stranger).
#pragma once

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace buildlock::chaos {

struct ChaosError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// An owned descriptor (closed on destruction).
class Fd {
public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd();

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  void reset();

private:
  int fd_ = -1;
};

struct SpawnRequest {
  std::vector<std::string> argv;
  std::string stdout_path; // opened O_APPEND
  std::string stderr_path; // opened O_APPEND
  // (from, to): descriptor `from` of this process becomes `to` in the child.
  std::vector<std::pair<int, int>> descriptors;
  bool own_process_group = false; // the child leads a new group whose id is its pid
  // Run as this user, with this group as its only group and umask 022 (set between fork and
  // exec; argv[0] must then be a path, not looked up in PATH).
  struct User {
    uid_t uid = 0;
    gid_t gid = 0;
  };
  std::optional<User> run_as;
};

// Fields 3 to 6 of /proc/PID/stat.
struct ProcessStat {
  char state = '?';
  pid_t parent = 0;
  pid_t process_group = 0;
  pid_t session = 0;
};
// nullopt when the process is gone.
std::optional<ProcessStat> stat_of(pid_t pid);

// Starts argv[0] (looked up in PATH), or throws ChaosError.
pid_t spawn(const SpawnRequest& request);

// A pidfd for `pid`, or an empty Fd when there is no such process. Only safe for a pid that
// cannot have been reused: an unreaped child of ours, or see descendants_of().
Fd pidfd_open(pid_t pid);
// A process below a wrapper, named for good by its pidfd.
struct Descendant {
  Fd pidfd;
  pid_t pid = 0;
  pid_t parent = 0;
  pid_t process_group = 0;
  std::string name; // /proc/PID/comm: "sh" for the command's shell, "chaos_holder", ...
};
// Every live descendant of `wrapper` (an unreaped child of ours), children before grandchildren.
// A process is listed only if, after its pidfd was opened, its parent was still the listed
// process (or the wrapper) and that parent was still alive: so no pidfd names a stranger that
// merely reused a pid. Orphans re-parented to the wrapper (a child subreaper) are its children.
std::vector<Descendant> descendants_of(pid_t wrapper);
// Pidfds for every process in process group `group` (found through /proc; each one's group is
// checked again after its pidfd is open, so no pidfd names a stranger that reused a pid). Members
// that left their parent's tree, orphans among them, are found too.
std::vector<Fd> members_of_group(pid_t group);
// True while the process of `pidfd` has not ended.
bool is_alive(const Fd& pidfd);
// 'R', 'S', 'T' (stopped), 'Z', ... from /proc/PID/stat; '?' when it is gone.
char state_of(pid_t pid);
// False when the process has ended (ESRCH).
bool send_signal(const Fd& pidfd, int signal);

// Starts the request and waits for its end; nullopt (after killing it) when it is still running
// at the deadline. Otherwise its waitpid status.
std::optional<int> run_to_end(const SpawnRequest& request,
                              std::chrono::steady_clock::time_point deadline);

// Waits until the process of `pidfd` ends, without reaping it; false at the deadline.
bool wait_for_end(const Fd& pidfd, std::chrono::steady_clock::time_point deadline);
// Reaps the ended child `pid` and returns its waitpid status.
int reap(pid_t pid);

// "exit 0", "SIGKILL", ...
std::string describe_status(int status);
std::string signal_name(int signal);

// A pipe whose ends are close-on-exec here (a child gets one only through SpawnRequest).
struct PipeFds {
  Fd read_end;
  Fd write_end;
};
PipeFds make_pipe();
// True when every writer has closed its end before the deadline (data is read and dropped).
bool wait_for_end_of_file(const Fd& read_end, std::chrono::steady_clock::time_point deadline);

} // namespace buildlock::chaos

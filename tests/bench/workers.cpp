#include "workers.h"

#include "bench_clock.h"

#include <cerrno>
#include <cstdio>
#include <unistd.h>

namespace buildlock::bench {

pid_t fork_worker(Pipe& start, const std::function<int()>& body) {
  const pid_t pid = ::fork();
  if (pid < 0) {
    throw BenchError("fork failed");
  }
  if (pid == 0) {
    start.close_write_end();
    char byte = 0;
    while (::read(start.read_end(), &byte, 1) < 0 && errno == EINTR) {
    }
    int code = 1;
    try {
      code = body();
    } catch (const std::exception& error) {
      std::fprintf(stderr, "buildlock_bench: error: %s\n", error.what());
    }
    ::_exit(code);
  }
  return pid;
}

double run_workers(const Tool& tool, int processes, int runs, const std::string& what,
                   const std::function<std::vector<std::string>(int)>& argv_of) {
  const SpawnOptions options = tool.logged();
  Pipe start;
  std::vector<pid_t> workers;
  for (int worker = 0; worker < processes; ++worker) {
    const auto argv = argv_of(worker);
    workers.push_back(fork_worker(start, [&argv, &options, runs, &what] {
      for (int run = 0; run < runs; ++run) {
        expect_success(spawn(argv, options), what);
      }
      return 0;
    }));
  }
  const std::int64_t began = monotonic_ns();
  start.close_write_end();
  for (pid_t worker : workers) {
    expect_success(worker,
                   "a " + what + " worker (messages in " + options.stderr_path.value_or("") + ")");
  }
  return double(monotonic_ns() - began) / 1e6;
}

} // namespace buildlock::bench

// Forked workers that start together: the contending processes of the contention, shared,
// slotted and reader/writer scenarios. Each worker runs its commands one after the other, as a
// build's steps would, and all of a round's workers are released at the same instant.
#pragma once

#include "process.h"
#include "setup.h"

#include <functional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace buildlock::bench {

// Forks a worker that waits for the start signal (`start`'s write end closing), then runs `body`
// and exits with its result (1 if it throws, after printing the error).
pid_t fork_worker(Pipe& start, const std::function<int()>& body);

// Runs `argv_of(worker)` `runs` times in each of `processes` workers, every run expected to exit
// with 0; returns the wall time of the whole round in milliseconds.
double run_workers(const Tool& tool, int processes, int runs, const std::string& what,
                   const std::function<std::vector<std::string>(int)>& argv_of);

} // namespace buildlock::bench

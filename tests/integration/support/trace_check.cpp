#include "support/trace_check.h"

#include "support/process.h"

#include <algorithm>
#include <sstream>

namespace buildlock::test {
namespace {

using nlohmann::json;

const json* only_one(const std::vector<json>& events, std::int64_t tid, const char* what) {
  const json* found = nullptr;
  int count = 0;
  for (const json& event : events) {
    if (event.at("tid").get<std::int64_t>() == tid) {
      found = &event;
      ++count;
    }
  }
  if (count != 1) {
    ADD_FAILURE() << count << " " << what << " events of run " << tid << " (expected 1)";
    return nullptr;
  }
  return found;
}

std::int64_t end_of(const json& event) {
  return event.at("ts").get<std::int64_t>() + event.at("dur").get<std::int64_t>();
}

std::int64_t stamp_us(const std::string& path) {
  const std::string text = read_file(path);
  return std::stoll(text) / 1000;
}

} // namespace

const json* TraceFile::wait_of(std::int64_t tid) const {
  return only_one(waits, tid, "wait");
}

const json* TraceFile::hold_of(std::int64_t tid) const {
  return only_one(holds, tid, "hold");
}

TraceFile read_trace(const std::string& path) {
  TraceFile trace;
  std::istringstream lines(read_file(path));
  std::string line;
  int number = 0;
  while (std::getline(lines, line)) {
    ++number;
    if (number == 1) {
      EXPECT_EQ(line, "[") << path << ": the first line";
      continue;
    }
    if (line.empty() || line.back() != ',') {
      ADD_FAILURE() << path << ":" << number << ": not an event line: " << line;
      continue;
    }
    line.pop_back();
    json event;
    try {
      event = json::parse(line);
    } catch (const json::exception& error) {
      ADD_FAILURE() << path << ":" << number << ": " << error.what() << ": " << line;
      continue;
    }
    const std::string category = event.value("cat", "");
    if (category == "buildlock.wait") {
      trace.waits.push_back(std::move(event));
    } else if (category == "buildlock.hold") {
      trace.holds.push_back(std::move(event));
    } else if (category == "buildlock.lost") {
      trace.losts.push_back(std::move(event));
    } else {
      trace.others.push_back(std::move(event));
    }
  }
  EXPECT_GE(number, 1) << path << " is empty";
  return trace;
}

std::vector<std::string> stamped_command(const std::string& prefix, bool held) {
  // `date` and `head` are children of the shell: the command is a process tree.
  std::string script = "date +%s%N > \"$1.start\"; ";
  if (held) {
    script += "printf x >&3; head -c 1 <&4 >/dev/null; ";
  }
  script += "date +%s%N > \"$1.end\"";
  return {"/bin/sh", "-c", script, "stamped", prefix};
}

Stamps read_stamps(const std::string& prefix) {
  return Stamps{stamp_us(prefix + ".start"), stamp_us(prefix + ".end")};
}

::testing::AssertionResult wait_and_hold_match(const TraceFile& trace, std::int64_t tid,
                                               const Stamps& stamps) {
  const json* wait = trace.wait_of(tid);
  const json* hold = trace.hold_of(tid);
  if (wait == nullptr || hold == nullptr) {
    return ::testing::AssertionFailure() << "run " << tid << " lacks its wait or hold";
  }
  const std::int64_t hold_start = hold->at("ts").get<std::int64_t>();
  if (wait->at("args").at("outcome") != "acquired") {
    return ::testing::AssertionFailure() << "wait not acquired: " << wait->dump();
  }
  if (end_of(*wait) > hold_start) {
    return ::testing::AssertionFailure()
           << "the wait ends after the hold starts: " << wait->dump() << " / " << hold->dump();
  }
  if (hold_start > stamps.start_us || end_of(*hold) < stamps.end_us) {
    return ::testing::AssertionFailure()
           << "the hold [" << hold_start << ", " << end_of(*hold)
           << "] does not contain the command's own [" << stamps.start_us << ", " << stamps.end_us
           << "]: " << hold->dump();
  }
  if (hold->at("args").value("exit", -1) != 0) {
    return ::testing::AssertionFailure() << "exit status not 0: " << hold->dump();
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult holds_overlap_at_most(const TraceFile& trace, int at_most) {
  // +1 at a start, -1 at an end; at equal times ends first (a handoff at the same microsecond).
  std::vector<std::pair<std::int64_t, int>> edges;
  for (const json& hold : trace.holds) {
    edges.emplace_back(hold.at("ts").get<std::int64_t>(), 1);
    edges.emplace_back(end_of(hold), -1);
  }
  std::sort(edges.begin(), edges.end());
  int held = 0;
  for (const auto& [at, change] : edges) {
    held += change;
    if (held > at_most) {
      return ::testing::AssertionFailure()
             << held << " holds at once at " << at << " (at most " << at_most << ")";
    }
  }
  return ::testing::AssertionSuccess();
}

std::vector<std::int64_t> waited_behind(const TraceFile& trace, std::int64_t tid) {
  std::vector<std::int64_t> pids;
  if (const json* wait = trace.wait_of(tid)) {
    for (const json& blocker : wait->at("args").at("behind")) {
      if (blocker.contains("pid")) {
        pids.push_back(blocker.at("pid").get<std::int64_t>());
      }
    }
  }
  return pids;
}

std::unique_ptr<Holding> start_stamped_run(Command run, bool held) {
  auto holding = std::make_unique<Holding>();
  if (held) {
    run.pass_fd(3, holding->started.write_fd()).pass_fd(4, holding->release.read_fd());
  }
  holding->process.emplace(run.start());
  holding->started.close_write();
  holding->release.close_read();
  return holding;
}

bool contains(const std::vector<std::int64_t>& pids, std::int64_t pid) {
  return std::find(pids.begin(), pids.end(), pid) != pids.end();
}

} // namespace buildlock::test

#include "etcd/keeper.h"

#include "etcd/curl_api.h"
#include "etcd/holder_check.h"
#include "os/detached_process.h"
#include "os/process_identity.h"
#include "os/process_mark.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <sstream>
#include <thread>

namespace buildlock::etcd {
namespace {

struct KeeperArguments {
  Lease lease;
  std::int64_t create_revision = 0;
  std::chrono::nanoseconds last_renewal_sent{};
  std::string key;
};

// "hold LEASE TTL REVISION SENT KEY" (the key last: it may hold blanks).
std::optional<KeeperArguments> parse_hold(const std::string& line) {
  std::istringstream words(line.substr(5));
  KeeperArguments parsed;
  long long sent = 0;
  if (!(words >> parsed.lease.id >> parsed.lease.ttl >> parsed.create_revision >> sent)) {
    return std::nullopt;
  }
  parsed.last_renewal_sent = std::chrono::nanoseconds(sent);
  std::getline(words >> std::ws, parsed.key);
  return parsed.key.empty() ? std::nullopt : std::optional(parsed);
}

} // namespace

std::optional<os::Fd> start_keeper(const std::string& location, const std::string& name,
                                   const core::Messages& messages) {
  auto keeper = os::start_detached_self({keeper_argument, location, name});
  if (!keeper) {
    messages.explain("no lease keeper (" + keeper.error().message +
                     "): if buildlock is killed, its command keeps the lock only until the lease "
                     "runs out");
    return std::nullopt;
  }
  return std::move(*keeper);
}

void attach_keeper(EtcdHold& hold, os::Fd keeper) {
  // The send time of the holder's last successful renewal (or grant), which may be a while
  // ago: "now" would start the keeper's jeopardy late.
  const auto sent = hold.last_renewal_sent();
  if (os::write_without_blocking(
          keeper, "hold " + std::to_string(hold.lease().id) + " " + std::to_string(hold.ttl()) +
                      " " + std::to_string(hold.fencing_token()) + " " +
                      std::to_string(sent.count()) + " " + hold.key() + "\n")) {
    hold.attach_keeper(std::move(keeper));
  }
}

int run_keeper(const std::vector<std::string>& arguments) {
  if (arguments.size() != 2) {
    return 2;
  }
  // libcurl loaded now, not when every millisecond counts (it and its libraries take tens of
  // milliseconds to load, more on a loaded machine).
  if (!curl_api()) {
    return 74;
  }
  // While buildlock lives: only listen. The hold, its renewals' send times, "released", or the
  // end (before "hold": the run never held the lock, nothing to keep).
  std::optional<KeeperArguments> parsed;
  std::string input;
  while (auto chunk = os::read_input()) {
    input += *chunk;
    std::size_t newline = 0;
    while ((newline = input.find('\n')) != std::string::npos) {
      const std::string line = input.substr(0, newline);
      input.erase(0, newline + 1);
      if (line == "released") {
        return 0;
      }
      if (line.starts_with("hold ")) {
        parsed = parse_hold(line);
      } else if (line.starts_with("renewed ") && parsed) {
        parsed->last_renewal_sent = std::chrono::nanoseconds(std::stoll(line.substr(8)));
      }
    }
  }
  if (!parsed) {
    return 0;
  }
  const std::chrono::nanoseconds last_sent = parsed->last_renewal_sent;
  // The pipe ended without "released": buildlock is gone, its command may run on. Take over.
  auto location = parse_location(arguments[0]);
  if (!location) {
    return 2;
  }
  EtcdHold hold(std::make_unique<Client>(std::move(*location)), parsed->lease);
  hold.set_key(parsed->key, parsed->create_revision);
  hold.set_last_renewal_sent(last_sent);
  const std::int64_t uid = os::local_identity().uid;
  const os::ProcessMark mark = command_mark(parsed->lease.id);
  const auto interval =
      std::chrono::duration_cast<std::chrono::milliseconds>(hold.check_interval());

  // Two threads, so that the look at /proc (every process's environment: a second on a busy
  // machine) never delays a renewal, nor the stop at jeopardy. The renewer owns the hold; the
  // looker only says what it saw.
  std::mutex mutex;
  std::vector<std::int64_t> seen; // the command's processes at the last look
  std::atomic<bool> done{false};  // the last look found none: free the lock
  std::atomic<bool> lost{false};  // the hold is lost or in jeopardy
  std::thread renewer([&] {
    while (!done) {
      std::string why;
      if (!hold.keep(why, keeper_jeopardy_fraction)) {
        // What runs under the lease must end before etcd can end it: the processes seen last
        // at once (each checked again, against a pid used anew), then any that came since.
        std::vector<std::int64_t> known;
        {
          const std::lock_guard<std::mutex> lock(mutex);
          known = seen;
        }
        for (std::int64_t pid : known) {
          os::kill_if_marked(pid, mark);
        }
        lost = true;
        return;
      }
      std::this_thread::sleep_for(interval);
    }
  });
  for (bool first = true; !lost; first = false) {
    if (!first) {
      std::this_thread::sleep_for(interval);
    }
    // Only processes seen to carry the lease count: one that cannot be read (a non-dumpable
    // ssh-agent of the same user) would keep the lock for ever.
    std::vector<std::int64_t> now = os::marked_processes(mark, uid);
    const bool none = now.empty();
    {
      const std::lock_guard<std::mutex> lock(mutex);
      seen = std::move(now);
    }
    if (none) {
      done = true; // the command is done: free the lock now, not after a TTL
      break;
    }
  }
  renewer.join();
  if (lost) {
    for (int round = 0; round < 100; ++round) {
      const std::vector<std::int64_t> left = os::marked_processes(mark, uid);
      if (left.empty()) {
        break;
      }
      for (std::int64_t pid : left) {
        os::kill_if_marked(pid, mark);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  hold.release(nullptr);
  return 0;
}

} // namespace buildlock::etcd

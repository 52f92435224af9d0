#include "etcd/keeper.h"

#include "etcd/holder_check.h"
#include "os/detached_process.h"
#include "os/process_identity.h"
#include "os/process_tree.h"

#include <chrono>
#include <thread>

namespace buildlock::etcd {
namespace {

struct KeeperArguments {
  std::string location;
  Lease lease;
  std::string key;
  std::int64_t create_revision = 0;
  std::chrono::nanoseconds last_renewal_sent{};
};

std::optional<KeeperArguments> parse(const std::vector<std::string>& words) {
  if (words.size() != 6) {
    return std::nullopt;
  }
  try {
    return KeeperArguments{words[0], Lease{std::stoll(words[1]), std::stoll(words[2])}, words[3],
                           std::stoll(words[4]), std::chrono::nanoseconds(std::stoll(words[5]))};
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

} // namespace

void start_keeper(EtcdHold& hold, const std::string& location, const core::Messages& messages) {
  const auto sent = os::uptime(); // no later than the last successful renewal's real send time
  auto keeper = os::start_detached_self(
      {keeper_argument, location, std::to_string(hold.lease().id), std::to_string(hold.ttl()),
       hold.key(), std::to_string(hold.fencing_token()), std::to_string(sent.count())});
  if (!keeper) {
    messages.explain("no lease keeper (" + keeper.error().message +
                     "): if buildlock is killed, its command keeps the lock only until the lease "
                     "runs out");
    return;
  }
  hold.attach_keeper(std::move(*keeper));
}

int run_keeper(const std::vector<std::string>& arguments) {
  auto parsed = parse(arguments);
  if (!parsed) {
    return 2;
  }
  // While buildlock lives: only listen. Its renewals' send times, "released", or the end.
  std::chrono::nanoseconds last_sent = parsed->last_renewal_sent;
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
      if (line.starts_with("renewed ")) {
        last_sent = std::chrono::nanoseconds(std::stoll(line.substr(8)));
      }
    }
  }
  // The pipe ended without "released": buildlock is gone, its command may run on. Take over.
  auto location = parse_location(parsed->location);
  if (!location) {
    return 2;
  }
  EtcdHold hold(std::make_unique<Client>(std::move(*location)), parsed->lease);
  hold.set_key(parsed->key, parsed->create_revision);
  hold.set_last_renewal_sent(last_sent);
  const std::int64_t uid = os::local_identity().uid;
  const auto carries = [&](std::string_view value) {
    return names_lease(value, parsed->lease.id);
  };
  const auto interval =
      std::chrono::duration_cast<std::chrono::milliseconds>(hold.check_interval());
  for (;;) {
    // Only processes seen to carry the lease count: one that cannot be read (a non-dumpable
    // ssh-agent of the same user) would keep the lock for ever.
    if (os::find_process_by_environment(held_leases_variable, carries, uid) !=
        os::ProcessSearch::found) {
      break; // the command is done: free the lock now, not after a TTL
    }
    std::string why;
    if (!hold.keep(why)) {
      // The lease may end soon or has ended: what runs under it must end first.
      for (int round = 0;
           round < 100 && os::kill_processes_by_environment(held_leases_variable, carries, uid) > 0;
           ++round) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      break;
    }
    std::this_thread::sleep_for(interval);
  }
  hold.release(nullptr);
  return 0;
}

} // namespace buildlock::etcd

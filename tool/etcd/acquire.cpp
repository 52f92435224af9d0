#include "etcd/acquire.h"

#include "core/acquire_steps.h"
#include "etcd/holder_check.h"
#include "etcd/key_layout.h"
#include "etcd/kv.h"
#include "etcd/queue.h"
#include "etcd/watch.h"
#include "os/clock.h"

#include <algorithm>
#include <cmath>

namespace buildlock::etcd {
namespace {

using namespace std::chrono_literals;

// How often a waiter looks at the pids of holders on this machine: a dead one is seen within
// this (a kill(pid, 0) and a /proc read per look). A holder whose process is gone but whose
// command still runs is looked at less often: that look reads every process's environment.
constexpr auto local_pid_interval = 20ms;
constexpr auto command_tree_interval = 250ms;
// How often a waiter whose etcd does not answer tries again.
constexpr auto outage_retry_interval = 200ms;

[[noreturn]] void die_after_signal(int signal, EtcdHold& hold) {
  hold.release(nullptr);
  os::die_by_signal(signal);
}

// Any forwarded signal that arrived while waiting: nothing runs yet, so die by it, leaving the
// queue first.
void die_if_signalled(os::SignalHandling& signals, EtcdHold& hold) {
  for (const os::ReceivedSignal& received : signals.take_signals()) {
    die_after_signal(received.number, hold);
  }
}

// A waiter whose etcd does not answer (a member restarting, a short partition) keeps its place
// while its lease may still live: nothing runs yet, so waiting costs nothing. Pauses a little
// (dying by a signal that comes meanwhile) and says whether to try again; the caller's renewal
// gives up once a whole TTL passed without one (EtcdHold::renew).
bool outage_passes(const Error& error, os::SignalHandling& signals, EtcdHold& hold) {
  if (!no_endpoint_answered(error)) {
    return false; // an answer that refused: time will not change it
  }
  signals.wait_for_signal(os::monotonic_now() + outage_retry_interval);
  die_if_signalled(signals, hold);
  return true;
}

} // namespace

std::int64_t ttl_for(core::Seconds stale_after) {
  return std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(stale_after.count())));
}

core::LockMetadata key_metadata(const core::AcquireRequest& request) {
  core::LockMetadata metadata = core::my_metadata(
      request, request.mode, request.mode == core::LockMode::slots ? request.slots : 0);
  metadata.kernel_lock = false; // etcd has none: judged by pid, or by the lease
  return metadata;
}

Result<EtcdHold> acquire(const core::AcquireRequest& request, std::int64_t ttl,
                         os::SignalHandling& signals, const core::Messages& messages) {
  auto location = parse_location(request.directory);
  if (!location) {
    return location.error();
  }
  const std::string prefix = location->prefix;
  auto client = std::make_unique<Client>(std::move(*location));
  const core::Seconds timeout = request_timeout(ttl);
  // From here a signal is recorded, so that our key never outlives us by a signal.
  signals.set_mode(os::TerminationMode::record);
  // etcd starts the lease's TTL when it applies the grant, never before we sent it: jeopardy
  // counts from here, not from the answer, which a loaded etcd or machine may deliver a second
  // or more later (EtcdPartition.SlowGrantAnswerCountsFromItsSending).
  const std::chrono::nanoseconds grant_sent = os::uptime();
  auto lease = grant_lease(*client, ttl, timeout);
  if (!lease) {
    return lease.error();
  }
  EtcdHold hold(std::move(client), *lease);
  hold.set_last_renewal_sent(grant_sent);
  const std::string key = holder_key(prefix, request.name, lease->id);
  core::LockMetadata metadata = key_metadata(request);
  auto created =
      create_key(hold.client(), key, core::serialize_metadata(metadata), lease->id, timeout);
  if (!created) {
    return created.error();
  }
  hold.set_key(key, *created);
  messages.explain("queued for lock `" + request.name + "` as `" + key + "` (revision " +
                   std::to_string(*created) + ", lease TTL " + std::to_string(lease->ttl) + " s)");

  const std::string lock_prefix = lock_key_prefix(prefix, request.name);
  core::WaitBudget budget(request.timeout, messages.verbose, request.wait_record);
  bool waited = false;
  std::string lost;
  const auto take_hold = [&]() -> Result<EtcdHold> {
    // Held from now, not from the key's creation: written once the command runs (etcd/hold.h).
    metadata.acquired_at = os::utc_timestamp_now();
    // The command may start only with the lease safely ahead of jeopardy (etcd/hold.h).
    if (!hold.start_holding(lost)) {
      return Error{ErrorKind::lock_directory,
                   "lost lock `" + request.name + "` before its command started: " + lost};
    }
    if (waited) {
      // A run that held on its first read arrived when it took the lock, within one read: no
      // write for it.
      hold.set_acquired_value(core::serialize_metadata(metadata));
    }
    return std::move(hold);
  };
  while (true) {
    die_if_signalled(signals, hold);
    if (!hold.renew(false, lost)) {
      return Error{ErrorKind::lock_directory,
                   "lost our place in the queue of lock `" + request.name + "`: " + lost};
    }
    auto range = range_prefix(hold.client(), lock_prefix, timeout);
    if (!range) {
      if (!outage_passes(range.error(), signals, hold)) {
        return range.error();
      }
      continue;
    }
    std::vector<QueueEntry> entries = queue_entries(range->kvs);
    std::erase_if(entries, [&](const QueueEntry& entry) {
      return !is_holder_key(prefix, request.name, entry.key);
    });
    // Our own key must be in the range we judge by (etcd's Mutex.Lock checks the same): without
    // it we hold nothing, and everybody else decides without us.
    if (std::none_of(entries.begin(), entries.end(), [&](const QueueEntry& entry) {
          return entry.key == key && entry.create_revision == *created;
        })) {
      return Error{ErrorKind::lock_directory, "lost our place in the queue of lock `" +
                                                  request.name + "`: our key `" + key +
                                                  "` was deleted"};
    }
    const QueueDecision decision = decide(entries, *created, request.mode, request.slots);
    if (decision.state == QueueState::holds) {
      return take_hold();
    }
    if (decision.state == QueueState::conflict) {
      const QueueEntry& holder = entries[decision.conflicting];
      return Error{ErrorKind::mode_conflict,
                   "lock `" + request.name + "` is held " +
                       std::string(core::mode_name(mode_of(holder))) +
                       (mode_of(holder) == core::LockMode::slots
                            ? " with --slots " + std::to_string(holder.metadata->slots)
                            : "") +
                       " by " + describe_holder(holder) + "; this run asks for " +
                       std::string(core::mode_name(request.mode)) +
                       (request.mode == core::LockMode::slots
                            ? " with --slots " + std::to_string(request.slots)
                            : "") +
                       core::mode_conflict_rule};
    }
    // Reclaim on the spot what we can tell is dead: holders on this machine.
    bool reclaimed = false;
    std::vector<QueueEntry> local;
    bool trees_only = true; // every local holder is judged by its command tree
    std::string first_verdict;
    for (std::size_t index : decision.blockers) {
      const QueueEntry& blocker = entries[index];
      const core::Verdict verdict = judge_holder(blocker);
      if (first_verdict.empty()) {
        first_verdict = verdict.explanation + " [" + verdict.reason + "]";
      }
      if (verdict.state == core::LockState::stale) {
        if (auto revoked = revoke_lease(hold.client(), blocker.lease, timeout); !revoked) {
          return revoked.error();
        }
        messages.notice("reclaimed stale lock `" + request.name + "` of " +
                        describe_holder(blocker) + ": " + verdict.explanation + " [" +
                        verdict.reason + "] (revoked its lease " + lease_hex(blocker.lease) + ")");
        if (request.wait_record != nullptr) {
          request.wait_record->reclaimed("lock `" + request.name + "` of " +
                                         describe_holder(blocker) + " [" + verdict.reason + "]");
        }
        reclaimed = true;
      } else if (verdict.judged_by == "pid check") {
        local.push_back(blocker);
        trees_only = trees_only && verdict.reason == "command-alive";
      }
    }
    if (reclaimed) {
      continue;
    }
    const QueueEntry& first = entries[decision.blockers.front()];
    const std::string whom = "lock `" + request.name + "` held by " + describe_holder(first);
    if (auto checked = budget.check(os::monotonic_now(), whom, messages,
                                    first.metadata ? &*first.metadata : nullptr);
        !checked) {
      return checked.error();
    }
    if (messages.verbose) {
      std::string line = "waiting for " + whom;
      line += ": " + first_verdict + " (" + std::to_string(decision.blockers.size()) + " ahead)";
      messages.explain(line);
    }
    waited = true;
    // Every key of the lock, from the revision of the read that decided: no deletion after it is
    // missed, and the deletions alone say when this run holds, without reading the keys again
    // (new keys are younger than ours: they never keep us waiting).
    auto watch = Watch::start(hold.client(), lock_prefix, prefix_end(lock_prefix),
                              range->revision + 1, timeout);
    if (!watch) {
      if (!outage_passes(watch.error(), signals, hold)) {
        return watch.error();
      }
      continue;
    }
    // Until something was deleted, our lease is due, the deadline or a notice comes, or a local
    // holder's process is gone.
    const os::TimePoint renew_at =
        os::monotonic_now() +
        std::chrono::duration_cast<os::MonotonicClock::duration>(hold.renew_interval());
    while (true) {
      os::TimePoint until = std::min(renew_at, budget.wake_at());
      if (!local.empty()) {
        until =
            std::min(until, os::monotonic_now() +
                                (trees_only ? os::MonotonicClock::duration(command_tree_interval)
                                            : os::MonotonicClock::duration(local_pid_interval)));
      }
      if (watch->wait(until, signals.wake_fd())) {
        if (watch->lost_track()) {
          break; // read again
        }
        const std::vector<std::string> deleted = watch->take_deleted();
        const auto was_deleted = [&](const QueueEntry& entry) {
          return std::find(deleted.begin(), deleted.end(), entry.key) != deleted.end();
        };
        if (std::find(deleted.begin(), deleted.end(), key) != deleted.end()) {
          return Error{ErrorKind::lock_directory, "lost our place in the queue of lock `" +
                                                      request.name + "`: our key `" + key +
                                                      "` was deleted"};
        }
        std::erase_if(entries, was_deleted);
        std::erase_if(local, was_deleted);
        if (decide(entries, *created, request.mode, request.slots).state == QueueState::holds) {
          return take_hold();
        }
        continue; // still behind someone: the same watch goes on
      }
      die_if_signalled(signals, hold);
      const os::TimePoint now = os::monotonic_now();
      if (now >= renew_at || now >= budget.wake_at()) {
        break;
      }
      const bool local_gone = std::any_of(local.begin(), local.end(), [&](const QueueEntry& entry) {
        return judge_holder(entry).state == core::LockState::stale;
      });
      if (local_gone) {
        break;
      }
    }
  }
}

} // namespace buildlock::etcd

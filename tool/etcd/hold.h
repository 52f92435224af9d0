// EtcdHold: a key of ours in the lock's queue and the lease that keeps it, from the moment the
// lease is granted (waiting) until the release. Move-only; revokes the lease when destroyed, so
// that no error path leaves a key behind for others to wait out.
//
// Liveness is the lease. The hold is lost when etcd says the lease or the key is gone, or when no
// renewal succeeded for too long. "Too long" is counted on CLOCK_BOOTTIME (os::uptime(), which
// runs on during a suspend, unlike the monotonic clock) from the moment the last successful
// renewal was *sent*, which is never later than when etcd received it: etcd's leader cannot end
// the lease before one TTL after that moment. Waiters and holders count differently:
//
//   waiting  the place in the queue is lost after a whole TTL without a renewal (a short outage
//            costs nothing: nothing runs yet).
//   holding  jeopardy (Chubby's word) after a third of a TTL: the command must stop before etcd can
//   give
//            the lock to someone else (docs/protocol.md, "Stopping before the lease ends").
#pragma once

#include "core/messages.h"
#include "etcd/client.h"
#include "etcd/lease.h"
#include "os/clock.h"
#include "os/fd.h"

#include <memory>
#include <string>

namespace buildlock::etcd {

// How long one request may take: a third of the TTL (so that a waiter's renewal that fails
// leaves time for two more before the TTL runs out), at least 2 s and at most 5 s. A holder's
// renewals are limited further, to the time left before jeopardy.
core::Seconds request_timeout(std::int64_t ttl);

// The holder's schedule, in fractions of the TTL after the send time of the last successful
// renewal (docs/protocol.md, "Stopping before the lease ends", says why these numbers).
inline constexpr double holder_renew_fraction = 1.0 / 9;    // renew this often
inline constexpr double holder_check_fraction = 1.0 / 18;   // look at the lease this often
inline constexpr double holder_jeopardy_fraction = 1.0 / 3; // then stop the command (SIGTERM)
inline constexpr double holder_kill_fraction = 1.0 / 6;     // and SIGKILL this much later
// The lease keeper (etcd/keeper.h) stops a killed wrapper's command with SIGKILL at once, so it
// may wait until the moment a holder's SIGKILL comes: the same margin to the lease's end, and
// half as much time again for its first renewal on a loaded machine.
inline constexpr double keeper_jeopardy_fraction = holder_jeopardy_fraction + holder_kill_fraction;

class EtcdHold {
public:
  EtcdHold(std::unique_ptr<Client> client, Lease lease);
  EtcdHold(EtcdHold&&) noexcept = default;
  EtcdHold& operator=(EtcdHold&&) = delete;
  EtcdHold(const EtcdHold&) = delete;
  EtcdHold& operator=(const EtcdHold&) = delete;
  ~EtcdHold() { release(nullptr); }

  Client& client() { return *client_; }
  const Lease& lease() const { return lease_; }
  std::int64_t ttl() const { return lease_.ttl; }
  // How often a waiter renews its lease (TTL / 3, as etcd's own concurrency package does).
  core::Seconds renew_interval() const;
  // How often a holder's keep() should be called, and how long its command gets between the
  // stopping signal and SIGKILL once keep() said the hold is lost.
  core::Seconds check_interval() const;
  core::Seconds kill_window() const;

  // Our key, once created, and its create revision (the fencing token).
  void set_key(std::string key, std::int64_t create_revision);
  const std::string& key() const { return key_; }
  std::int64_t fencing_token() const { return create_revision_; }

  // For a waiter: renews the lease if renew_interval() has passed since the last renewal (or
  // `force`), and checks that our key still exists. False once the place is lost (a whole TTL
  // without a successful renewal, or etcd says the lease or key is gone); `why` says why.
  bool renew(bool force, std::string& why);

  // For a holder, every check_interval(): renews the lease every TTL / 9, each request limited
  // to the time left before jeopardy. False once the hold is lost or in jeopardy (a third of a TTL
  // without a successful renewal, or `jeopardy_fraction` of it); `why` says why. A renewal that
  // fails in any way (an error answer, an HTTP error, a timeout, an answer that cannot be read) is
  // only a failed renewal.
  bool keep(std::string& why, double jeopardy_fraction = holder_jeopardy_fraction);

  // For a waiter that got the lock: renews first if a holder would renew now (a waiter renews
  // only every TTL / 3, which is a holder's jeopardy), then keep(). False: the command must not
  // start; `why` says why.
  bool start_holding(std::string& why);

  // acquired_at (docs/protocol.md, "Keys and values"): the key was created on arrival with the
  // arrival time; once the hold starts, its value is rewritten with `value` (the same metadata,
  // acquired_at = when the hold started), so that `status` does not count the wait as holding.
  // Off the handoff's critical path: publish_acquisition() once the command started, and again
  // from keep() while it has not worked. Best effort: the value is for people, the queue order
  // and the fencing token are the key's create revision, which a rewrite leaves as it was.
  void set_acquired_value(std::string value) { acquired_value_ = std::move(value); }
  void publish_acquisition();

  // Revokes the lease (deleting our key) unless done already; warns through `messages` when
  // etcd cannot be told (the lease then runs out on its own).
  void release(const core::Messages* messages);

  // The lease keeper of this hold (etcd/keeper.h): told the send time of every successful
  // renewal, and told before the release that the command is done.
  void attach_keeper(os::Fd keeper) { keeper_ = std::move(keeper); }
  // The send time (os::uptime()) of the last successful renewal, or of the grant; the keeper and
  // the holder set it to what the holder reported, or to the grant's send time.
  std::chrono::nanoseconds last_renewal_sent() const { return last_renewal_sent_; }
  void set_last_renewal_sent(std::chrono::nanoseconds sent) {
    last_renewal_sent_ = sent;
    last_attempt_ = sent; // a renewal is due as if this one had been ours
  }

private:
  enum class Attempt { renewed, gone, failed };
  // One renewal and the look at our key, each request limited to `timeout`.
  Attempt attempt(core::Seconds timeout, std::string& why);
  core::Seconds since_last_renewal() const;

  std::unique_ptr<Client> client_;
  Lease lease_;
  std::string key_;
  std::int64_t create_revision_ = 0;
  std::chrono::nanoseconds last_renewal_sent_; // os::uptime()
  std::chrono::nanoseconds last_attempt_;      // os::uptime()
  std::string last_failure_;                   // why the last renewal failed
  std::string acquired_value_;                 // still to be written: not empty
  int publish_attempts_ = 0;
  bool released_ = false;
  os::Fd keeper_;
};

} // namespace buildlock::etcd

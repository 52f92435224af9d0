// EtcdHold: a key of ours in the lock's queue and the lease that keeps it, from the moment the
// lease is granted (waiting) until the release. Move-only; revokes the lease when destroyed, so
// that no error path leaves a key behind for others to wait out.
//
// Liveness is the lease: renew() keeps it, every TTL / 3 (as etcd's own concurrency package does).
// The hold is lost when etcd says the lease or the key is gone, or when no renewal succeeded for
// a whole TTL: etcd may then have ended the lease, and someone else may hold the lock. The latter
// is judged on our monotonic clock from the moment the last successful renewal was *sent*, which
// is never later than when etcd received it, so we never think ourselves holders longer than etcd
// does.
#pragma once

#include "core/messages.h"
#include "etcd/client.h"
#include "etcd/lease.h"
#include "os/clock.h"

#include <memory>
#include <string>

namespace buildlock::etcd {

// How long one request may take: a third of the TTL (so that a renewal that fails leaves time
// for two more before the TTL runs out), at least 0.3 s and at most 5 s.
core::Seconds request_timeout(std::int64_t ttl);

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
  core::Seconds renew_interval() const;

  // Our key, once created, and its create revision (the fencing token).
  void set_key(std::string key, std::int64_t create_revision);
  const std::string& key() const { return key_; }
  std::int64_t fencing_token() const { return create_revision_; }

  // Renews the lease if renew_interval() has passed since the last renewal (or `force`), and
  // checks that our key still exists. False once the hold is lost (see above); `why` says why.
  bool renew(bool force, std::string& why);

  // Revokes the lease (deleting our key) unless done already; warns through `messages` when
  // etcd cannot be told (the lease then runs out on its own).
  void release(const core::Messages* messages);

private:
  std::unique_ptr<Client> client_;
  Lease lease_;
  std::string key_;
  std::int64_t create_revision_ = 0;
  os::TimePoint last_renewal_sent_;
  bool released_ = false;
};

} // namespace buildlock::etcd

// etcd leases: a TTL that the holder keeps renewing; when renewals stop, etcd deletes every key
// attached to the lease once the TTL has passed (on the etcd leader's clock, not ours).
#pragma once

#include "etcd/client.h"

#include <cstdint>
#include <string>

namespace buildlock::etcd {

struct Lease {
  std::int64_t id = 0;
  std::int64_t ttl = 0; // seconds, as granted (etcd raises a TTL below its minimum)
};

Result<Lease> grant_lease(Client& client, std::int64_t ttl, core::Seconds timeout);

// Renews the lease once; returns the TTL it now has, 0 when the lease no longer exists (expired
// or revoked: whatever it held is gone).
Result<std::int64_t> keep_alive(Client& client, std::int64_t id, core::Seconds timeout);

// Revokes the lease, deleting its keys. A lease that is gone already is no error.
Status revoke_lease(Client& client, std::int64_t id, core::Seconds timeout);

// The lease id as etcdctl prints it: 16 lowercase hex digits.
std::string lease_hex(std::int64_t id);

} // namespace buildlock::etcd

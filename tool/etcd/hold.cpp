#include "etcd/hold.h"

#include "etcd/base64.h"
#include "etcd/json_fields.h"

#include <algorithm>

namespace buildlock::etcd {

core::Seconds request_timeout(std::int64_t ttl) {
  return std::clamp(core::Seconds(static_cast<double>(ttl) / 3.0), core::Seconds(0.3),
                    core::Seconds(5.0));
}

EtcdHold::EtcdHold(std::unique_ptr<Client> client, Lease lease)
    : client_(std::move(client)), lease_(lease), last_renewal_sent_(os::monotonic_now()) {}

core::Seconds EtcdHold::renew_interval() const {
  return core::Seconds(static_cast<double>(lease_.ttl) / 3.0);
}

void EtcdHold::set_key(std::string key, std::int64_t create_revision) {
  key_ = std::move(key);
  create_revision_ = create_revision;
}

bool EtcdHold::renew(bool force, std::string& why) {
  const os::TimePoint now = os::monotonic_now();
  if (!force && now - last_renewal_sent_ < renew_interval()) {
    return true;
  }
  const core::Seconds timeout = request_timeout(lease_.ttl);
  auto renewed = keep_alive(*client_, lease_.id, timeout);
  if (renewed && *renewed == 0) {
    why = "etcd says its lease " + lease_hex(lease_.id) + " has expired or was revoked";
    return false;
  }
  if (renewed && !key_.empty()) {
    // The lease alone is not the hold: `break` may have deleted only the key.
    auto answer =
        client_->call("/v3/kv/range", {{"key", base64_encode(key_)}, {"keys_only", true}}, timeout);
    if (answer && integer_field(*answer, "count") == 0) {
      why = "its key `" + key_ + "` was deleted";
      return false;
    }
  }
  if (renewed) {
    last_renewal_sent_ = now;
    return true;
  }
  if (os::monotonic_now() - last_renewal_sent_ >= core::Seconds(static_cast<double>(lease_.ttl))) {
    why = "no renewal of its lease succeeded for its whole TTL of " + std::to_string(lease_.ttl) +
          " s (" + renewed.error().message + ")";
    return false;
  }
  return true; // not yet lost: try again at the next renewal
}

void EtcdHold::release(const core::Messages* messages) {
  if (released_ || client_ == nullptr) {
    return;
  }
  released_ = true;
  if (auto revoked = revoke_lease(*client_, lease_.id, request_timeout(lease_.ttl));
      !revoked && messages != nullptr) {
    messages->warning(revoked.error().message + "; the lock is free once the lease's TTL of " +
                      std::to_string(lease_.ttl) + " s runs out");
  }
}

} // namespace buildlock::etcd

#include "etcd/lease.h"

#include "etcd/json_fields.h"

#include <array>
#include <cstdio>

namespace buildlock::etcd {

Result<Lease> grant_lease(Client& client, std::int64_t ttl, core::Seconds timeout) {
  auto answer = client.call("/v3/lease/grant", {{"TTL", std::to_string(ttl)}}, timeout);
  if (!answer) {
    return std::move(answer.error()).with("granting a lease");
  }
  Lease lease{integer_field(*answer, "ID"), integer_field(*answer, "TTL")};
  if (lease.id == 0) {
    return Error{ErrorKind::lock_directory,
                 "granting a lease: " + string_field(*answer, "error") + " (no lease id)"};
  }
  return lease;
}

Result<std::int64_t> keep_alive(Client& client, std::int64_t id, core::Seconds timeout) {
  // The gateway maps the keepalive stream to one request per call: one renewal per request
  // (etcd #8237), answered inside {"result": ...}.
  auto answer = client.call("/v3/lease/keepalive", {{"ID", std::to_string(id)}}, timeout);
  if (!answer) {
    return std::move(answer.error()).with("renewing lease " + lease_hex(id));
  }
  const auto result = answer->find("result");
  if (result == answer->end() || !result->is_object()) {
    // Not an answer about the lease at all: a failed renewal, never a verdict on the lease.
    return Error{ErrorKind::lock_directory,
                 "renewing lease " + lease_hex(id) + ": an answer without a result"};
  }
  // A missing TTL is TTL 0: the lease does not exist any more.
  return integer_field(*result, "TTL");
}

Status revoke_lease(Client& client, std::int64_t id, core::Seconds timeout) {
  auto answer = client.call("/v3/lease/revoke", {{"ID", std::to_string(id)}}, timeout);
  if (!answer) {
    if (answer.error().message.find("lease not found") != std::string::npos) {
      return ok_status();
    }
    return std::move(answer.error()).with("revoking lease " + lease_hex(id));
  }
  return ok_status();
}

std::string lease_hex(std::int64_t id) {
  std::array<char, 17> text{};
  std::snprintf(text.data(), text.size(), "%016llx",
                static_cast<unsigned long long>(static_cast<std::uint64_t>(id)));
  return text.data();
}

} // namespace buildlock::etcd

#include "etcd/kv.h"

#include "etcd/base64.h"
#include "etcd/json_fields.h"

namespace buildlock::etcd {
namespace {

KeyValue key_value_of(const json& item) {
  KeyValue kv;
  kv.key = base64_decode(string_field(item, "key")).value_or("");
  kv.value = base64_decode(string_field(item, "value")).value_or("");
  kv.create_revision = integer_field(item, "create_revision");
  kv.mod_revision = integer_field(item, "mod_revision");
  kv.lease = integer_field(item, "lease");
  return kv;
}

json unchanged_since_creation(const std::string& key, std::int64_t create_revision) {
  // CREATE is the compare target 1; EQUAL (0), like every zero value, may be left out.
  json compare = {{"key", base64_encode(key)}, {"target", "CREATE"}};
  compare["create_revision"] = std::to_string(create_revision);
  return compare;
}

} // namespace

std::string prefix_end(std::string prefix) {
  while (!prefix.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(prefix.back());
    if (last < 0xff) {
      ++last;
      return prefix;
    }
    prefix.pop_back();
  }
  return std::string(1, '\0'); // every key
}

Result<Range> range_prefix(Client& client, const std::string& prefix, core::Seconds timeout) {
  const json body = {{"key", base64_encode(prefix)},
                     {"range_end", base64_encode(prefix_end(prefix))},
                     {"sort_order", "ASCEND"},
                     {"sort_target", "CREATE"}};
  auto answer = client.call("/v3/kv/range", body, timeout);
  if (!answer) {
    return std::move(answer.error()).with("reading `" + prefix + "`");
  }
  Range range;
  range.revision = integer_field(answer->value("header", json::object()), "revision");
  if (const auto kvs = answer->find("kvs"); kvs != answer->end() && kvs->is_array()) {
    for (const json& item : *kvs) {
      range.kvs.push_back(key_value_of(item));
    }
  }
  return range;
}

Result<std::int64_t> create_key(Client& client, const std::string& key, const std::string& value,
                                std::int64_t lease, core::Seconds timeout) {
  json put = {{"key", base64_encode(key)}, {"value", base64_encode(value)}};
  put["lease"] = std::to_string(lease);
  const json body = {{"compare", json::array({unchanged_since_creation(key, 0)})},
                     {"success", json::array({{{"request_put", put}}})}};
  auto answer = client.call("/v3/kv/txn", body, timeout);
  if (!answer) {
    return std::move(answer.error()).with("creating `" + key + "`");
  }
  if (!answer->value("succeeded", false)) {
    return Error{ErrorKind::lock_directory, "creating `" + key + "`: it exists already"};
  }
  // The transaction's revision is the one at which the key was created.
  return integer_field(answer->value("header", json::object()), "revision");
}

Result<bool> replace_value(Client& client, const std::string& key, std::int64_t create_revision,
                           const std::string& value, std::int64_t lease, core::Seconds timeout) {
  // The lease again: a put without one would detach the key from it, and the key would outlive
  // its holder.
  json put = {{"key", base64_encode(key)}, {"value", base64_encode(value)}};
  put["lease"] = std::to_string(lease);
  const json body = {{"compare", json::array({unchanged_since_creation(key, create_revision)})},
                     {"success", json::array({{{"request_put", put}}})}};
  auto answer = client.call("/v3/kv/txn", body, timeout);
  if (!answer) {
    return std::move(answer.error()).with("rewriting `" + key + "`");
  }
  return answer->value("succeeded", false);
}

Result<bool> delete_key(Client& client, const std::string& key, std::int64_t create_revision,
                        core::Seconds timeout) {
  const json remove = {{"key", base64_encode(key)}};
  const json body = {{"compare", json::array({unchanged_since_creation(key, create_revision)})},
                     {"success", json::array({{{"request_delete_range", remove}}})}};
  auto answer = client.call("/v3/kv/txn", body, timeout);
  if (!answer) {
    return std::move(answer.error()).with("deleting `" + key + "`");
  }
  return answer->value("succeeded", false);
}

} // namespace buildlock::etcd

// Where a lock lives when --dir (or $BUILDLOCK_DIR) is an etcd URL:
//
//   etcd://HOST:PORT[,HOST:PORT...]/PREFIX     plain HTTP
//   etcds://HOST:PORT[,HOST:PORT...]/PREFIX    HTTPS (TLS)
//
// and how to authenticate, from the environment, named like etcdctl's own variables:
// BUILDLOCK_ETCD_CACERT, BUILDLOCK_ETCD_CERT, BUILDLOCK_ETCD_KEY (TLS files),
// BUILDLOCK_ETCD_USER ("NAME:PASSWORD", etcd's user authentication).
#pragma once

#include "os/result.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace buildlock::etcd {

struct Credentials {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  std::string user;
  std::string password;
};

struct Location {
  std::vector<std::string> endpoints; // "http://HOST:PORT", in the order given
  std::string prefix;                 // "/PREFIX": every key of buildlock's starts with it
  Credentials credentials;
};

// True for a --dir value that names an etcd location (etcd:// or etcds://).
bool is_etcd_location(std::string_view dir);

// Why `dir`, which is not an etcd location, must be a mistyped one rather than a directory
// (`ETCD://...`, `etcd:/h:p/t`, `etcd:h:p/t`, ` etcd://...`, `http://...`): a typo must not
// become a local directory with no cross-host exclusion at all. nullopt for anything else.
std::optional<std::string> mistyped_location(std::string_view dir);

// Errors: ErrorKind::usage, naming what is wrong with the URL or a variable.
Result<Location> parse_location(std::string_view url);

} // namespace buildlock::etcd

#include "etcd/location.h"

#include <cstdlib>

namespace buildlock::etcd {
namespace {

constexpr std::string_view plain_scheme = "etcd://";
constexpr std::string_view tls_scheme = "etcds://";

Error bad(std::string_view url, const std::string& why) {
  return Error{ErrorKind::usage, "etcd location `" + std::string(url.substr(0, 200)) + "`: " + why +
                                     " (expected etcd://HOST:PORT[,HOST:PORT...]/PREFIX)"};
}

// HOST:PORT with a numeric port; HOST a name, an IPv4 address or a bracketed IPv6 address.
bool valid_host_port(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size() ||
      text.size() - colon > 6) {
    return false;
  }
  for (char c : text.substr(colon + 1)) {
    if (c < '0' || c > '9') {
      return false;
    }
  }
  for (char c : text.substr(0, colon)) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == '_' || c == '[' || c == ']' || c == ':';
    if (!ok) {
      return false;
    }
  }
  return true;
}

std::string variable(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

} // namespace

bool is_etcd_location(std::string_view dir) {
  return dir.starts_with(plain_scheme) || dir.starts_with(tls_scheme);
}

Result<Location> parse_location(std::string_view url) {
  const bool tls = url.starts_with(tls_scheme);
  std::string_view rest = url.substr(tls ? tls_scheme.size() : plain_scheme.size());
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos || slash + 1 == rest.size()) {
    return bad(url, "no PREFIX after the endpoints");
  }
  Location location;
  location.prefix = std::string(rest.substr(slash));
  while (location.prefix.size() > 1 && location.prefix.back() == '/') {
    location.prefix.pop_back();
  }
  for (char c : location.prefix) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return bad(url, "PREFIX holds a control character");
    }
  }
  std::string_view hosts = rest.substr(0, slash);
  for (bool more = !hosts.empty(); more;) {
    const auto comma = hosts.find(',');
    const std::string_view one = hosts.substr(0, comma);
    if (!valid_host_port(one)) {
      return bad(url, "`" + std::string(one.substr(0, 100)) + "` is not HOST:PORT");
    }
    location.endpoints.push_back(std::string(tls ? "https://" : "http://") + std::string(one));
    more = comma != std::string_view::npos;
    hosts = more ? hosts.substr(comma + 1) : std::string_view{};
  }
  if (location.endpoints.empty()) {
    return bad(url, "no endpoint");
  }
  Credentials& credentials = location.credentials;
  credentials.ca_file = variable("BUILDLOCK_ETCD_CACERT");
  credentials.cert_file = variable("BUILDLOCK_ETCD_CERT");
  credentials.key_file = variable("BUILDLOCK_ETCD_KEY");
  if (const std::string user = variable("BUILDLOCK_ETCD_USER"); !user.empty()) {
    const auto colon = user.find(':');
    if (colon == std::string::npos || colon == 0) {
      return Error{ErrorKind::usage, "$BUILDLOCK_ETCD_USER must be NAME:PASSWORD"};
    }
    credentials.user = user.substr(0, colon);
    credentials.password = user.substr(colon + 1);
  }
  return location;
}

} // namespace buildlock::etcd

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

// Why `text` is not HOST:PORT (a name, an IPv4 address or a bracketed IPv6 address, and a port
// from 1 to 65535), or "" when it is.
std::string host_port_problem(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) {
    return "`" + std::string(text.substr(0, 100)) + "` is not HOST:PORT";
  }
  const std::string_view host = text.substr(0, colon);
  const std::string_view port = text.substr(colon + 1);
  long number = 0;
  for (char c : port) {
    if (c < '0' || c > '9' || (number = number * 10 + (c - '0')) > 65535) {
      return "`" + std::string(port.substr(0, 20)) + "` is not a port (1 to 65535)";
    }
  }
  if (number == 0) {
    return "port 0 is not a port (1 to 65535)";
  }
  const bool bracketed = host.size() > 2 && host.front() == '[' && host.back() == ']';
  if (!bracketed && host.find(':') != std::string_view::npos) {
    return "`" + std::string(host.substr(0, 100)) +
           "`: an IPv6 address goes in brackets ([::1]:2379)";
  }
  const std::string_view inside = bracketed ? host.substr(1, host.size() - 2) : host;
  for (char c : inside) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == '_' || (bracketed && c == ':');
    if (!ok) {
      return "`" + std::string(host.substr(0, 100)) + "` is not a host name or address";
    }
  }
  return "";
}

std::string variable(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

} // namespace

bool is_etcd_location(std::string_view dir) {
  return dir.starts_with(plain_scheme) || dir.starts_with(tls_scheme);
}

std::optional<std::string> mistyped_location(std::string_view dir) {
  if (is_etcd_location(dir)) {
    return std::nullopt;
  }
  const auto first = dir.find_first_not_of(" \t\r\n");
  const std::string_view trimmed = first == std::string_view::npos ? "" : dir.substr(first);
  std::string lower;
  for (char c : trimmed.substr(0, 8)) {
    lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  const std::string quoted = "`" + std::string(dir.substr(0, 200)) + "`";
  const std::string expected = " (an etcd location is etcd://HOST:PORT[,HOST:PORT...]/PREFIX, or "
                               "etcds:// for TLS; a lock directory is a path)";
  if (lower.starts_with("etcd:") || lower.starts_with("etcds:")) {
    return quoted + (first != 0 ? " starts with a blank" : " is not spelled etcd:// or etcds://") +
           expected;
  }
  // SCHEME:// with a scheme of two letters or more (C:/ is a Windows drive, not a URL).
  std::size_t end = 0;
  while (end < trimmed.size() &&
         ((trimmed[end] >= 'a' && trimmed[end] <= 'z') ||
          (trimmed[end] >= 'A' && trimmed[end] <= 'Z') ||
          (end > 0 && ((trimmed[end] >= '0' && trimmed[end] <= '9') || trimmed[end] == '+' ||
                       trimmed[end] == '.' || trimmed[end] == '-')))) {
    ++end;
  }
  if (end >= 2 && trimmed.substr(end).starts_with("://")) {
    return quoted + " is a URL that buildlock does not know" + expected;
  }
  return std::nullopt;
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
    if (c == '?' || c == '#') {
      // Not a query or a fragment here: it would silently become part of every key.
      return bad(url, c == '?' ? "PREFIX holds `?`" : "PREFIX holds `#`");
    }
  }
  std::string_view hosts = rest.substr(0, slash);
  for (bool more = !hosts.empty(); more;) {
    const auto comma = hosts.find(',');
    const std::string_view one = hosts.substr(0, comma);
    if (const std::string problem = host_port_problem(one); !problem.empty()) {
      return bad(url, problem);
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

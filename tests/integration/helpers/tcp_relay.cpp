// tcp_relay: a fault-injecting TCP relay in front of an etcd client port, for the tests of locks
// held in etcd when the network fails (support/tcp_relay.h drives it).
//
//   tcp_relay TARGET_PORT
//
// Listens on 127.0.0.1 (a port the kernel picks: no race with other tests), prints "port N" on
// stdout, and forwards every connection to 127.0.0.1:TARGET_PORT. Each HTTP request seen is
// printed as "request PATH" (what a client asked, in order: the tests see a watch being made);
// one to /v3/lease/... that is passed on also as "forwarding PATH at NS" (CLOCK_MONOTONIC).
// Commands arrive as lines on fd 3; each is acknowledged on stdout as "ack N" (N counts them):
//
//   freeze     forward nothing any more, in either direction; connections stay open (a partition
//              that TCP does not notice: the peer's packets are simply never answered)
//   thaw       forward again
//   drop       close every connection (a member that restarted, a broken link)
//   error N    answer the next N requests to /v3/lease/keepalive with the JSON gateway's error
//              object for streams ({"error": {...}}, HTTP 200) instead of forwarding them
//   hold-grant MS  forward the next request to /v3/lease/grant, but hold etcd's answers on its
//              connection for MS milliseconds from then (a slow answer: the lease's TTL runs on
//              etcd while the client waits for it)
//
// Single-threaded (poll), so that a command takes effect between two reads, never during one.
#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <list>
#include <netinet/in.h>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace {

struct Connection {
  int client = -1;
  int upstream = -1;
  std::string request;   // bytes from the client not yet judged (an incomplete request)
  std::string to_up;     // judged, to forward upstream
  std::string to_client; // from upstream or injected
  bool closing = false;  // close once to_client is written
  std::chrono::steady_clock::time_point held_until{}; // to_client is held back until then
};

const char* error_object = R"({"error":{"grpc_code":14,"http_code":503,)"
                           R"("message":"etcdserver: injected by the test relay",)"
                           R"("http_status":"Service Unavailable","details":[]}})";

void say(const std::string& line) {
  std::fputs((line + "\n").c_str(), stdout);
  std::fflush(stdout);
}

[[noreturn]] void fail(const std::string& why) {
  std::fprintf(stderr, "tcp_relay: %s: %s\n", why.c_str(), std::strerror(errno));
  std::exit(99);
}

int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    if (fd >= 0) {
      ::close(fd);
    }
    return -1;
  }
  return fd;
}

std::size_t content_length(const std::string& head) {
  std::string lower = head;
  for (char& c : lower) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  const auto at = lower.find("\r\ncontent-length:");
  return at == std::string::npos ? 0 : std::strtoul(lower.c_str() + at + 17, nullptr, 10);
}

// Moves the complete requests in `c.request` to `c.to_up`, or answers them itself.
void judge_requests(Connection& c, int& keepalive_errors, int& hold_grant_ms) {
  for (;;) {
    const auto end_of_head = c.request.find("\r\n\r\n");
    if (end_of_head == std::string::npos) {
      return;
    }
    const std::size_t total = end_of_head + 4 + content_length(c.request.substr(0, end_of_head));
    if (c.request.size() < total) {
      return;
    }
    const std::string one = c.request.substr(0, total);
    c.request.erase(0, total);
    const auto space = one.find(' ');
    const std::string path = one.substr(space + 1, one.find(' ', space + 1) - space - 1);
    say("request " + path);
    if (keepalive_errors > 0 && path == "/v3/lease/keepalive") {
      --keepalive_errors;
      c.to_client += "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                     std::to_string(std::strlen(error_object)) + "\r\n\r\n" + error_object;
      say("injected keepalive error");
      continue;
    }
    if (hold_grant_ms > 0 && path == "/v3/lease/grant") {
      c.held_until = std::chrono::steady_clock::now() + std::chrono::milliseconds(hold_grant_ms);
      hold_grant_ms = 0;
      say("holding the answer to " + path);
    }
    if (path.rfind("/v3/lease/", 0) == 0) {
      // Before etcd can have it: the earliest moment etcd may count the lease's TTL from.
      say("forwarding " + path + " at " +
          std::to_string(std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::steady_clock::now().time_since_epoch())
                             .count()));
    }
    c.to_up += one;
  }
}

// Reads what `from` has into `into`; false at end-of-file or error.
bool read_into(int from, std::string& into) {
  char buffer[65536];
  const ssize_t n = ::read(from, buffer, sizeof buffer);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
    return true;
  }
  if (n <= 0) {
    return false;
  }
  into.append(buffer, static_cast<std::size_t>(n));
  return true;
}

bool write_from(int to, std::string& from) {
  const ssize_t n = ::send(to, from.data(), from.size(), MSG_NOSIGNAL);
  if (n < 0) {
    return errno == EINTR || errno == EAGAIN;
  }
  from.erase(0, static_cast<std::size_t>(n));
  return true;
}

void close_connection(Connection& c) {
  ::close(c.client);
  if (c.upstream >= 0) {
    ::close(c.upstream);
  }
  c.client = c.upstream = -1;
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: tcp_relay TARGET_PORT (commands on fd 3)\n");
    return 99;
  }
  std::signal(SIGPIPE, SIG_IGN);
  const int target = std::atoi(argv[1]);
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
      ::listen(listener, 64) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    fail("listen");
  }
  say("port " + std::to_string(ntohs(address.sin_port)));

  std::list<Connection> connections;
  std::string commands;
  bool frozen = false;
  int keepalive_errors = 0;
  int hold_grant_ms = 0;
  int acknowledged = 0;
  for (;;) {
    std::vector<pollfd> fds{{listener, POLLIN, 0}, {3, POLLIN, 0}};
    std::vector<std::pair<Connection*, bool>> owners; // (connection, is the client side)
    int timeout_ms = -1;                              // until the first held answer is due
    if (!frozen) {
      const auto now = std::chrono::steady_clock::now();
      for (Connection& c : connections) {
        const bool held = now < c.held_until;
        if (held) {
          const auto left =
              std::chrono::ceil<std::chrono::milliseconds>(c.held_until - now).count();
          timeout_ms = timeout_ms < 0 ? static_cast<int>(left)
                                      : std::min(timeout_ms, static_cast<int>(left));
        }
        const short client_events = static_cast<short>((c.closing ? 0 : POLLIN) |
                                                       (c.to_client.empty() || held ? 0 : POLLOUT));
        fds.push_back({c.client, client_events, 0});
        owners.emplace_back(&c, true);
        if (c.upstream >= 0) {
          fds.push_back(
              {c.upstream, static_cast<short>(POLLIN | (c.to_up.empty() ? 0 : POLLOUT)), 0});
          owners.emplace_back(&c, false);
        }
      }
    }
    if (::poll(fds.data(), fds.size(), timeout_ms) < 0) {
      if (errno == EINTR) {
        continue;
      }
      fail("poll");
    }
    if ((fds[1].revents & (POLLIN | POLLHUP)) != 0) {
      if (!read_into(3, commands)) {
        return 0; // the test is gone
      }
      std::size_t newline = 0;
      while ((newline = commands.find('\n')) != std::string::npos) {
        const std::string command = commands.substr(0, newline);
        commands.erase(0, newline + 1);
        if (command == "freeze") {
          frozen = true;
        } else if (command == "thaw") {
          frozen = false;
        } else if (command == "drop") {
          for (Connection& c : connections) {
            close_connection(c);
          }
          connections.clear();
        } else if (command.rfind("hold-grant ", 0) == 0) {
          hold_grant_ms = std::atoi(command.c_str() + 11);
        } else if (command.rfind("error ", 0) == 0) {
          keepalive_errors = std::atoi(command.c_str() + 6);
        } else {
          std::fprintf(stderr, "tcp_relay: unknown command `%s`\n", command.c_str());
          return 99;
        }
        say("ack " + std::to_string(++acknowledged));
      }
      continue; // the connections may have changed: poll them again
    }
    if ((fds[0].revents & POLLIN) != 0) {
      const int client = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (client >= 0) {
        Connection c;
        c.client = client;
        c.upstream = connect_to(target);
        if (c.upstream < 0) {
          ::close(client); // etcd is down: the client sees the connection refused, as it would
        } else {
          connections.push_back(std::move(c));
        }
      }
    }
    for (std::size_t i = 0; i < owners.size(); ++i) {
      auto [c, client_side] = owners[i];
      const short events = fds[i + 2].revents;
      if (c->client < 0 || events == 0) {
        continue;
      }
      bool ok = true;
      if (client_side) {
        if ((events & POLLOUT) != 0) {
          ok = write_from(c->client, c->to_client);
        }
        if (ok && (events & (POLLIN | POLLHUP | POLLERR)) != 0 && !c->closing) {
          ok = read_into(c->client, c->request);
          judge_requests(*c, keepalive_errors, hold_grant_ms);
        }
        if (c->closing && c->to_client.empty()) {
          ok = false;
        }
      } else {
        if ((events & POLLOUT) != 0) {
          ok = write_from(c->upstream, c->to_up);
        }
        if (ok && (events & (POLLIN | POLLHUP | POLLERR)) != 0 &&
            !read_into(c->upstream, c->to_client)) {
          // Upstream closed: pass on what it sent, then close the client too.
          ::close(c->upstream);
          c->upstream = -1;
          c->closing = true;
          ok = !c->to_client.empty();
        }
      }
      if (!ok) {
        close_connection(*c);
      }
    }
    connections.remove_if([](const Connection& c) { return c.client < 0; });
  }
}

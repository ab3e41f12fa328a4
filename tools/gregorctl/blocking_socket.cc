// Non-blocking sockets driven by poll(2) so that connect, send and receive all honour a deadline.
#include "tools/gregorctl/blocking_socket.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace gregor::tools {

std::string HostPort::to_string() const {
  if (host.find(':') != std::string::npos) return absl::StrCat("[", host, "]:", port);
  return absl::StrCat(host, ":", port);
}

absl::StatusOr<HostPort> parse_host_port(std::string_view s) {
  std::string_view host;
  std::string_view port;
  if (!s.empty() && s.front() == '[') {
    size_t close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':') {
      return absl::InvalidArgumentError(absl::StrCat("bad server address '", std::string(s), "'"));
    }
    host = s.substr(1, close - 1);
    port = s.substr(close + 2);
  } else {
    size_t colon = s.rfind(':');
    if (colon == std::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad server address '", std::string(s), "': expected host:port"));
    }
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("bad server address '", std::string(s),
                                                     "': write IPv6 addresses as [addr]:port"));
    }
  }
  int value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (host.empty() || port.empty() || ec != std::errc() || end != port.data() + port.size() ||
      value < 1 || value > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("bad server address '", std::string(s), "'"));
  }
  return HostPort{std::string(host), static_cast<uint16_t>(value)};
}

absl::StatusOr<std::vector<HostPort>> parse_bootstrap_servers(std::string_view s) {
  std::vector<HostPort> out;
  while (!s.empty()) {
    size_t comma = s.find(',');
    std::string_view part = s.substr(0, comma);
    s = comma == std::string_view::npos ? std::string_view() : s.substr(comma + 1);
    while (!part.empty() && std::isspace(static_cast<unsigned char>(part.front()))) {
      part.remove_prefix(1);
    }
    while (!part.empty() && std::isspace(static_cast<unsigned char>(part.back()))) {
      part.remove_suffix(1);
    }
    if (part.empty()) continue;
    absl::StatusOr<HostPort> hp = parse_host_port(part);
    if (!hp.ok()) return hp.status();
    out.push_back(*std::move(hp));
  }
  if (out.empty()) return absl::InvalidArgumentError("no bootstrap server given");
  return out;
}

namespace {

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (left.count() <= 0) return 0;
  return left.count() > 1'000'000'000 ? 1'000'000'000 : static_cast<int>(left.count());
}

absl::Status errno_status(const char* what, int err) {
  return absl::UnavailableError(absl::StrCat(what, ": ", std::strerror(err)));
}

}  // namespace

absl::StatusOr<BlockingSocket> BlockingSocket::connect(const HostPort& to,
                                                       Clock::time_point deadline) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  std::string port = std::to_string(to.port);
  // getaddrinfo has no timeout of its own; name lookups for a CLI are accepted as they are.
  int rc = getaddrinfo(to.host.c_str(), port.c_str(), &hints, &found);
  if (rc != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot resolve '", to.host, "': ", gai_strerror(rc)));
  }
  absl::Status last = absl::UnavailableError("no address");
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    int fd =
        ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last = errno_status("socket", errno);
      continue;
    }
    BlockingSocket sock(fd);
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      if (errno != EINPROGRESS) {
        last = errno_status("connect", errno);
        continue;
      }
      last = sock.wait(POLLOUT, deadline);
      if (!last.ok()) continue;
      int err = 0;
      socklen_t len = sizeof(err);
      if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
      if (err != 0) {
        last = errno_status("connect", err);
        continue;
      }
    }
    freeaddrinfo(found);
    return sock;
  }
  freeaddrinfo(found);
  return last;
}

BlockingSocket::BlockingSocket(BlockingSocket&& other) noexcept : fd_(other.fd_) {
  other.fd_ = -1;
}

BlockingSocket& BlockingSocket::operator=(BlockingSocket&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

BlockingSocket::~BlockingSocket() {
  if (fd_ >= 0) ::close(fd_);
}

absl::Status BlockingSocket::wait(short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd_, events, 0};
    int rc = ::poll(&p, 1, remaining_ms(deadline));
    if (rc > 0) return absl::OkStatus();
    if (rc == 0) return absl::DeadlineExceededError("timed out");
    if (errno != EINTR) return errno_status("poll", errno);
  }
}

absl::Status BlockingSocket::write_all(std::string_view data, Clock::time_point deadline) {
  while (!data.empty()) {
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      absl::Status s = wait(POLLOUT, deadline);
      if (!s.ok()) return s;
      continue;
    }
    return errno_status("send", errno);
  }
  return absl::OkStatus();
}

absl::Status BlockingSocket::read_exact(char* out, size_t n, Clock::time_point deadline) {
  while (n > 0) {
    ssize_t got = ::recv(fd_, out, n, 0);
    if (got > 0) {
      out += got;
      n -= static_cast<size_t>(got);
      continue;
    }
    if (got == 0) return absl::UnavailableError("connection closed by the broker");
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      absl::Status s = wait(POLLIN, deadline);
      if (!s.ok()) return s;
      continue;
    }
    return errno_status("recv", errno);
  }
  return absl::OkStatus();
}

}  // namespace gregor::tools

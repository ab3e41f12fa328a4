// A TCP connection whose every operation has a deadline, and the parsing of "host:port" lists.
// gregorctl sends one request at a time, so plain blocking-style I/O with poll(2) is enough.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace gregor::tools {

using Clock = std::chrono::steady_clock;

struct HostPort {
  std::string host;
  uint16_t port = 0;

  std::string to_string() const;
};

// Parses "host:port", "[v6addr]:port". The port must be 1..65535.
absl::StatusOr<HostPort> parse_host_port(std::string_view s);
// Parses a comma-separated list of host:port entries (blanks around entries are ignored).
absl::StatusOr<std::vector<HostPort>> parse_bootstrap_servers(std::string_view s);

// Owns one connected socket descriptor. Not thread-safe; one user at a time.
class BlockingSocket {
 public:
  // Resolves `to` and tries each address until one connects before `deadline`.
  static absl::StatusOr<BlockingSocket> connect(const HostPort& to, Clock::time_point deadline);

  BlockingSocket(BlockingSocket&& other) noexcept;
  BlockingSocket& operator=(BlockingSocket&& other) noexcept;
  BlockingSocket(const BlockingSocket&) = delete;
  BlockingSocket& operator=(const BlockingSocket&) = delete;
  ~BlockingSocket();

  // Errors: DeadlineExceeded on timeout, Unavailable when the peer closed or the socket failed.
  absl::Status write_all(std::string_view data, Clock::time_point deadline);
  absl::Status read_exact(char* out, size_t n, Clock::time_point deadline);

 private:
  explicit BlockingSocket(int fd) : fd_(fd) {}
  // Waits until `events` are ready on the socket or the deadline passes.
  absl::Status wait(short events, Clock::time_point deadline);

  int fd_ = -1;
};

}  // namespace gregor::tools

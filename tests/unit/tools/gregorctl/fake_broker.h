// A loopback fake Kafka broker for gregorctl's client tests: accepts connections on a thread,
// decodes request headers and lets each test answer (or not answer) with its own bytes.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "protocol/messages/api_table.h"
#include "protocol/wire.h"

namespace gregor::tools::testing {

struct FakeRequest {
  int16_t api_key = 0;
  int16_t api_version = 0;
  int32_t correlation_id = 0;
  std::string client_id;
  std::string body;
};

struct FakeReply {
  FakeReply() = default;
  FakeReply(std::string b) : body(std::move(b)) {}  // NOLINT: implicit on purpose

  std::string body;
  bool respond = true;                    // false: swallow the request (timeout tests)
  std::optional<int32_t> correlation_id;  // overrides the request's
  std::optional<std::string> raw;         // sent as is instead of a framed response
};

// Encodes a generated response message at `version`.
template <typename Message>
std::string encode_body(const Message& m, int16_t version) {
  protocol::OutputBuffer out;
  protocol::Writer w(out);
  m.encode(w, version);
  return out.flatten();
}

template <typename Message>
Message decode_body(const std::string& body, int16_t version) {
  protocol::Reader r(body);
  Message m;
  m.decode(r, version);
  return m;
}

class FakeBroker {
 public:
  using Handler = std::function<FakeReply(const FakeRequest&)>;

  explicit FakeBroker(Handler handler) : handler_(std::move(handler)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::listen(listen_fd_, 8);
    socklen_t len = sizeof(addr);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }

  ~FakeBroker() {
    stop_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (conn_fd_ >= 0) ::shutdown(conn_fd_, SHUT_RDWR);
    }
    thread_.join();
    ::close(listen_fd_);
  }

  std::string bootstrap() const { return "127.0.0.1:" + std::to_string(port_); }

  std::vector<FakeRequest> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  static bool read_exact(int fd, char* p, size_t n) {
    while (n > 0) {
      ssize_t got = ::recv(fd, p, n, 0);
      if (got <= 0) return false;
      p += got;
      n -= static_cast<size_t>(got);
    }
    return true;
  }

  void serve() {
    while (!stop_) {
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      {
        std::lock_guard<std::mutex> lock(mu_);
        conn_fd_ = fd;
      }
      serve_connection(fd);
      {
        std::lock_guard<std::mutex> lock(mu_);
        conn_fd_ = -1;
      }
      ::close(fd);
    }
  }

  void serve_connection(int fd) {
    for (;;) {
      char prefix[4];
      if (!read_exact(fd, prefix, 4)) return;
      protocol::Reader size_reader(std::string_view(prefix, 4));
      int32_t size = size_reader.int32();
      if (size < 0 || size > (1 << 24)) return;
      std::string frame(static_cast<size_t>(size), '\0');
      if (!read_exact(fd, frame.data(), frame.size())) return;
      protocol::Reader r(frame);
      FakeRequest req;
      req.api_key = r.int16();
      req.api_version = r.int16();
      req.correlation_id = r.int32();
      req.client_id = r.nullable_string(false).value_or("");
      if (protocol::request_header_version(req.api_key, req.api_version) >= 2) {
        r.skip_tagged_fields();
      }
      if (!r.ok()) return;
      req.body = std::string(r.position(), r.remaining());
      {
        std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back(req);
      }
      FakeReply reply = handler_(req);
      if (!reply.respond) continue;
      std::string out;
      if (reply.raw) {
        out = *reply.raw;
      } else {
        protocol::OutputBuffer buf;
        protocol::Writer w(buf);
        w.int32(0);
        w.int32(reply.correlation_id.value_or(req.correlation_id));
        if (protocol::response_header_version(req.api_key, req.api_version) >= 1) {
          w.empty_tagged_fields();
        }
        w.raw(reply.body);
        out = buf.flatten();
        uint32_t n = static_cast<uint32_t>(out.size() - 4);
        for (int i = 0; i < 4; ++i)
          out[static_cast<size_t>(i)] = static_cast<char>(n >> (24 - 8 * i));
      }
      if (::send(fd, out.data(), out.size(), MSG_NOSIGNAL) < 0) return;
    }
  }

  Handler handler_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;  // guards conn_fd_ and requests_
  int conn_fd_ = -1;
  std::vector<FakeRequest> requests_;
};

}  // namespace gregor::tools::testing

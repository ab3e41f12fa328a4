// One client connection: a reader coroutine that reads size-framed requests and starts a
// handler for each, and a writer coroutine that sends the responses in request order.
// Runs entirely on one reactor thread (its socket's executor), so its state needs no lock;
// other threads reach it only through asio::post.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <deque>
#include <memory>
#include <string>

#include "broker/async_event.h"
#include "broker/handlers/handler.h"
#include "broker/read_buffer.h"
#include "broker/request_frame.h"

namespace gregor::broker {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // Requests read but not yet answered, by count and by frame bytes; the reader stops reading
  // at either bound, so one client cannot make the broker buffer without limit. The count is
  // high because a producer with linger.ms=0 pipelines many small acks=all requests, and all
  // of them must be in hand to share one fdatasync.
  static constexpr size_t kMaxInFlight = 1024;
  static constexpr size_t kMaxInFlightBytes = 64 << 20;

  Connection(Broker& broker, asio::ip::tcp::socket socket, int32_t max_request_bytes);

  // Runs until the peer closes, a malformed frame arrives, or shutdown() is called.
  asio::awaitable<void> run();
  // Stops reading new requests; responses already owed are still written. Any thread.
  void shutdown();

 private:
  struct Pending {
    bool ready = false;
    Response response;
    size_t request_bytes = 0;
    int32_t correlation_id = 0;
    int16_t response_header_version = 0;
  };

  asio::awaitable<void> read_loop();
  // Reads into read_buffer_ until it holds at least n bytes; false on EOF or a socket error.
  // REQUIRES: n <= read_buffer_.capacity().
  asio::awaitable<bool> buffer_at_least(size_t n);
  // Reads the `size` bytes of a frame, first from read_buffer_ and then from the socket.
  asio::awaitable<bool> read_frame(RequestFrame& frame, size_t size);
  asio::awaitable<void> write_loop();
  asio::awaitable<void> handle(RequestFrame frame, std::shared_ptr<Pending> slot);
  asio::awaitable<bool> write_response(Pending& p);
  asio::awaitable<bool> send_file(const protocol::FileSlice& slice);
  void close();

  Broker& broker_;
  asio::ip::tcp::socket socket_;
  int32_t max_request_bytes_;
  std::string peer_;
  ReadBuffer read_buffer_;
  std::deque<std::shared_ptr<Pending>> pending_;
  size_t pending_bytes_ = 0;  // request frame bytes of pending_
  std::shared_ptr<AsyncEvent> writer_wake_;
  std::shared_ptr<AsyncEvent> reader_wake_;
  bool reading_done_ = false;
  bool closed_ = false;
};

}  // namespace gregor::broker

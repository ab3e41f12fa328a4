// Connection: request framing, dispatch to handlers, in-order responses, sendfile for
// record bytes.
#include "broker/connection.h"

#include <sys/sendfile.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>

#include "protocol/messages/api_table.h"
#include "spdlog/spdlog.h"

namespace gregor::broker {
namespace {

constexpr int16_t kApiVersionsKey = 18;
// api_key + api_version + correlation_id: the part of every request header version.
constexpr int32_t kMinRequestSize = 8;
// Frames are read in steps of at most this, so a size prefix that lies about a huge frame
// costs memory only for the bytes that really arrive.
constexpr size_t kReadStep = 1 << 20;
// Room for reading ahead: most requests other than produce fit whole, with their neighbours.
constexpr size_t kReadBufferBytes = 16 << 10;

}  // namespace

Connection::Connection(Broker& broker, asio::ip::tcp::socket socket, int32_t max_request_bytes)
    : broker_(broker),
      socket_(std::move(socket)),
      max_request_bytes_(max_request_bytes),
      read_buffer_(kReadBufferBytes),
      writer_wake_(std::make_shared<AsyncEvent>(socket_.get_executor())),
      reader_wake_(std::make_shared<AsyncEvent>(socket_.get_executor())) {
  boost::system::error_code ec;
  asio::ip::tcp::endpoint ep = socket_.remote_endpoint(ec);
  peer_ = ec ? "unknown" : ep.address().to_string() + ":" + std::to_string(ep.port());
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  // send_file calls sendfile(2) itself and must never block the reactor. Set once here: each
  // native_non_blocking(true) call is an ioctl.
  socket_.native_non_blocking(true, ec);
}

asio::awaitable<void> Connection::run() {
  auto self = shared_from_this();
  asio::co_spawn(
      socket_.get_executor(), [self]() { return self->write_loop(); }, asio::detached);
  co_await read_loop();
}

void Connection::shutdown() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    boost::system::error_code ec;
    // Ends the read loop with EOF-like error while the writer keeps sending what is owed.
    self->socket_.shutdown(asio::ip::tcp::socket::shutdown_receive, ec);
    self->reading_done_ = true;
    self->reader_wake_->notify();
    self->writer_wake_->notify();
  });
}

void Connection::close() {
  if (closed_) return;
  closed_ = true;
  reading_done_ = true;
  boost::system::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  reader_wake_->notify();
  writer_wake_->notify();
}

asio::awaitable<void> Connection::read_loop() {
  auto self = shared_from_this();
  while (!reading_done_) {
    while ((pending_.size() >= kMaxInFlight || pending_bytes_ >= kMaxInFlightBytes) &&
           !reading_done_) {
      co_await reader_wake_->wait();
    }
    if (reading_done_) break;

    if (!co_await buffer_at_least(4)) break;
    const auto* size_bytes = reinterpret_cast<const unsigned char*>(read_buffer_.data().data());
    int32_t size =
        static_cast<int32_t>((uint32_t{size_bytes[0]} << 24) | (uint32_t{size_bytes[1]} << 16) |
                             (uint32_t{size_bytes[2]} << 8) | uint32_t{size_bytes[3]});
    read_buffer_.consume(4);
    if (size < kMinRequestSize || size > max_request_bytes_) {
      spdlog::warn(
          "closing connection from {}: request size {} outside [{}, {}] "
          "(socket.request.max.bytes)",
          peer_, size, kMinRequestSize, max_request_bytes_);
      break;
    }
    RequestFrame frame;
    if (!co_await read_frame(frame, static_cast<size_t>(size))) break;
    auto slot = std::make_shared<Pending>();
    slot->request_bytes = frame.size();
    pending_bytes_ += frame.size();
    pending_.push_back(slot);
    asio::co_spawn(
        socket_.get_executor(),
        [self, f = std::move(frame), slot]() mutable { return self->handle(std::move(f), slot); },
        asio::detached);
  }
  reading_done_ = true;
  writer_wake_->notify();
}

asio::awaitable<bool> Connection::buffer_at_least(size_t n) {
  while (read_buffer_.data().size() < n) {
    std::span<char> room = read_buffer_.room();
    boost::system::error_code ec;
    size_t got = co_await socket_.async_read_some(asio::buffer(room.data(), room.size()),
                                                  asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return false;
    read_buffer_.commit(got);
  }
  co_return true;
}

asio::awaitable<bool> Connection::read_frame(RequestFrame& frame, size_t size) {
  while (frame.size() < size) {
    const size_t need = size - frame.size();
    const size_t at = frame.size();
    if (read_buffer_.data().empty() && need > read_buffer_.capacity()) {
      // A large frame: straight into the frame, exactly its bytes.
      size_t step = std::min(kReadStep, need);
      frame.resize(at + step, size);
      boost::system::error_code ec;
      co_await asio::async_read(socket_, asio::buffer(frame.data() + at, step),
                                asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return false;
      continue;
    }
    if (!co_await buffer_at_least(1)) co_return false;
    size_t take = std::min(need, read_buffer_.data().size());
    frame.resize(at + take, size);
    std::memcpy(frame.data() + at, read_buffer_.data().data(), take);
    read_buffer_.consume(take);
  }
  co_return true;
}

asio::awaitable<void> Connection::handle(RequestFrame frame, std::shared_ptr<Pending> slot) {
  auto self = shared_from_this();
  protocol::Reader r(frame.view());
  protocol::RequestHeader header;
  protocol::decode_request_header_prefix(r, header);
  slot->correlation_id = header.correlation_id;
  try {
    const ApiEntry* api = find_api(header.api_key);
    if (api == nullptr) {
      spdlog::warn("closing connection from {}: unknown API key {}", peer_, header.api_key);
      slot->response = Response::close_connection();
    } else if (header.api_version < api->min_version || header.api_version > api->max_version) {
      if (header.api_key == kApiVersionsKey && header.api_version > api->max_version) {
        // KIP-511: a client newer than us gets a v0 answer listing what we support.
        slot->response = unsupported_api_versions_response();
        slot->response_header_version = 0;
      } else {
        spdlog::warn("closing connection from {}: {} v{} is not supported (supported {}-{})", peer_,
                     protocol::api_name(header.api_key), header.api_version, api->min_version,
                     api->max_version);
        slot->response = Response::close_connection();
      }
    } else {
      protocol::decode_request_header_rest(
          r, protocol::request_header_version(header.api_key, header.api_version), header);
      if (!r.ok()) {
        spdlog::warn("closing connection from {}: malformed request header", peer_);
        slot->response = Response::close_connection();
      } else {
        RequestContext ctx{std::move(header),
                           protocol::Reader(r.position(), r.remaining()),
                           broker_,
                           socket_.get_executor(),
                           peer_,
                           frame.span()};
        slot->response = co_await api->handler(ctx);
        slot->response_header_version =
            protocol::response_header_version(ctx.header.api_key, ctx.header.api_version);
      }
    }
  } catch (const std::exception& e) {
    spdlog::error("closing connection from {}: request failed: {}", peer_, e.what());
    slot->response = Response::close_connection();
  }
  slot->ready = true;
  writer_wake_->notify();
}

asio::awaitable<void> Connection::write_loop() {
  auto self = shared_from_this();
  while (!closed_) {
    while (!pending_.empty() && pending_.front()->ready) {
      std::shared_ptr<Pending> p = std::move(pending_.front());
      pending_.pop_front();
      pending_bytes_ -= p->request_bytes;
      reader_wake_->notify();
      if (p->response.close) {
        close();
        co_return;
      }
      if (p->response.send && !co_await write_response(*p)) {
        close();
        co_return;
      }
    }
    if (reading_done_ && pending_.empty()) {
      close();
      co_return;
    }
    co_await writer_wake_->wait();
  }
}

asio::awaitable<bool> Connection::write_response(Pending& p) {
  protocol::OutputBuffer head;
  protocol::Writer w(head);
  w.int32(0);  // size, patched below
  protocol::encode_response_header(w, p.correlation_id, p.response_header_version);
  std::string& h = head.tail();
  int64_t total = static_cast<int64_t>(h.size()) - 4 + p.response.body.size();
  for (int i = 0; i < 4; ++i) h[static_cast<size_t>(i)] = static_cast<char>(total >> (24 - 8 * i));

  std::vector<asio::const_buffer> buffers{asio::buffer(h)};
  boost::system::error_code ec;
  for (const protocol::OutputBuffer::Part& part : p.response.body.parts()) {
    if (part.file.fd < 0) {
      buffers.push_back(asio::buffer(part.memory));
      continue;
    }
    co_await asio::async_write(socket_, buffers, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return false;
    buffers.clear();
    if (!co_await send_file(part.file)) co_return false;
  }
  if (!buffers.empty()) {
    co_await asio::async_write(socket_, buffers, asio::redirect_error(asio::use_awaitable, ec));
  }
  co_return !ec;
}

asio::awaitable<bool> Connection::send_file(const protocol::FileSlice& slice) {
  off_t offset = slice.position;
  int64_t left = slice.size;
  while (left > 0) {
    ssize_t n = ::sendfile(socket_.native_handle(), slice.fd, &offset, static_cast<size_t>(left));
    if (n > 0) {
      left -= n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      boost::system::error_code ec;
      co_await socket_.async_wait(asio::ip::tcp::socket::wait_write,
                                  asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return false;
      continue;
    }
    // The file ended before the slice did: the response size is already on the wire, so the
    // only honest way out is to drop the connection.
    spdlog::error("sendfile to {} failed after {} of {} bytes", peer_, slice.size - left,
                  slice.size);
    co_return false;
  }
  co_return true;
}

}  // namespace gregor::broker

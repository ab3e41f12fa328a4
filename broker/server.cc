// Server: reactor threads (one io_context each), listeners, and connection bookkeeping for a
// graceful shutdown.
#include "broker/server.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "broker/connection.h"
#include "spdlog/spdlog.h"

namespace gregor::broker {

using asio::ip::tcp;

struct Server::Impl {
  Broker& broker;
  const BrokerConfig& config;
  // One io_context per thread: a connection lives on one reactor for its whole life, so its
  // state needs no locks (thread-per-core, as Redpanda/Seastar do).
  std::vector<std::unique_ptr<asio::io_context>> reactors;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  // One far-off timer per reactor (see keep_timeouts_quiet).
  std::vector<std::unique_ptr<asio::steady_timer>> sentinels;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::vector<int> ports;
  size_t next_reactor = 0;

  std::mutex connections_mu;  // guards connections
  std::vector<std::weak_ptr<Connection>> connections;

  Impl(Broker& b, const BrokerConfig& c) : broker(b), config(c) {}

  asio::awaitable<void> accept_loop(tcp::acceptor& acceptor) {
    for (;;) {
      asio::io_context& target = *reactors[next_reactor++ % reactors.size()];
      boost::system::error_code ec;
      tcp::socket socket =
          co_await acceptor.async_accept(target, asio::redirect_error(asio::use_awaitable, ec));
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      if (ec) {
        // Out of descriptors and similar: keep serving existing clients, retry shortly.
        spdlog::warn("accept failed: {}", ec.message());
        asio::steady_timer t(acceptor.get_executor(), std::chrono::milliseconds(100));
        co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        continue;
      }
      auto conn =
          std::make_shared<Connection>(broker, std::move(socket), config.socket_request_max_bytes);
      {
        std::lock_guard lock(connections_mu);
        std::erase_if(connections, [](const auto& w) { return w.expired(); });
        connections.push_back(conn);
      }
      asio::co_spawn(
          target, [conn]() { return conn->run(); }, asio::detached);
    }
  }

  // Asio's reactor rearms its timerfd (a syscall, ~1 us on these VMs) whenever a timer
  // becomes its earliest. Every connection waits for its next response on a timer that never
  // expires (AsyncEvent), and with no earlier timer that wait was the earliest each time: one
  // timerfd_settime per request. A timer that is always earlier than those, re-armed when it
  // fires once an hour, keeps them from ever being the earliest; real timeouts (fetch waits)
  // still rearm the timerfd as they must.
  static void keep_timeouts_quiet(asio::steady_timer& sentinel) {
    sentinel.expires_after(std::chrono::hours(1));
    sentinel.async_wait([&sentinel](const boost::system::error_code& ec) {
      if (!ec) keep_timeouts_quiet(sentinel);
    });
  }

  size_t live_connections() {
    std::lock_guard lock(connections_mu);
    std::erase_if(connections, [](const auto& w) { return w.expired(); });
    return connections.size();
  }
};

Server::Server(Broker& broker, const BrokerConfig& config)
    : impl_(std::make_unique<Impl>(broker, config)) {}

Server::~Server() {
  stop();
}

absl::Status Server::start() {
  unsigned n = impl_->config.io_threads > 0 ? static_cast<unsigned>(impl_->config.io_threads)
                                            : std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < n; ++i) {
    impl_->reactors.push_back(std::make_unique<asio::io_context>(1));
    impl_->work.push_back(asio::make_work_guard(*impl_->reactors.back()));
    impl_->sentinels.push_back(std::make_unique<asio::steady_timer>(*impl_->reactors.back()));
    Impl::keep_timeouts_quiet(*impl_->sentinels.back());
  }
  asio::io_context& accept_ctx = *impl_->reactors[0];
  for (const Listener& l : impl_->config.listeners) {
    boost::system::error_code ec;
    tcp::resolver resolver(accept_ctx);
    std::string host = l.host.empty() ? "0.0.0.0" : l.host;
    auto results = resolver.resolve(host, std::to_string(l.port), ec);
    if (ec || results.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("listeners: cannot resolve host '", host, "': ", ec.message()));
    }
    tcp::endpoint ep = results.begin()->endpoint();
    auto acceptor = std::make_unique<tcp::acceptor>(accept_ctx);
    acceptor->open(ep.protocol(), ec);
    if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor->bind(ep, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return absl::UnavailableError(
          absl::StrCat("listeners: cannot listen on ", host, ":", l.port, ": ", ec.message()));
    }
    impl_->ports.push_back(acceptor->local_endpoint().port());
    spdlog::info("listening on {}:{} ({})", host, impl_->ports.back(), l.name);
    impl_->acceptors.push_back(std::move(acceptor));
  }
  for (auto& acceptor : impl_->acceptors) {
    asio::co_spawn(accept_ctx, impl_->accept_loop(*acceptor), asio::detached);
  }
  for (auto& reactor : impl_->reactors) {
    impl_->threads.emplace_back([ctx = reactor.get()] { ctx->run(); });
  }
  spdlog::info("started {} reactor threads", n);
  return absl::OkStatus();
}

void Server::stop() {
  if (impl_->threads.empty()) return;
  for (auto& acceptor : impl_->acceptors) {
    asio::post(acceptor->get_executor(), [a = acceptor.get()] {
      boost::system::error_code ec;
      a->close(ec);
    });
  }
  std::vector<std::shared_ptr<Connection>> live;
  {
    std::lock_guard lock(impl_->connections_mu);
    for (auto& w : impl_->connections) {
      if (auto c = w.lock()) live.push_back(std::move(c));
    }
  }
  for (auto& c : live) c->shutdown();
  live.clear();
  // In-flight requests finish (a parked fetch within its max_wait_ms) and their responses
  // are written; a grace period bounds how long a stuck client can delay shutdown.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (impl_->live_connections() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  impl_->work.clear();
  for (auto& reactor : impl_->reactors) reactor->stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
  // The io_contexts stay until the Server is destroyed: other threads may still post to them.
}

std::vector<int> Server::bound_ports() const {
  return impl_->ports;
}

}  // namespace gregor::broker

// A one-shot-at-a-time event for coroutines on one executor: wait() suspends until notify().
// notify() must run on the event's executor; from other threads use notify_from_any_thread().
// Built on a steady_timer that never expires by itself, the usual Asio idiom.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>
#include <mutex>
#include <optional>

namespace gregor::broker {

namespace asio = boost::asio;

class AsyncEvent : public std::enable_shared_from_this<AsyncEvent> {
 public:
  explicit AsyncEvent(const asio::any_io_executor& ex) : timer_(ex) {}

  // Returns true if notified, false if `timeout` passed first.
  asio::awaitable<bool> wait(
      asio::steady_timer::duration timeout = asio::steady_timer::duration::max()) {
    if (timeout == asio::steady_timer::duration::max()) {
      timer_.expires_at(asio::steady_timer::time_point::max());
    } else {
      timer_.expires_after(timeout);
    }
    while (!set_) {
      boost::system::error_code ec;
      co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (!ec) break;  // expired: timed out
    }
    bool was_set = set_;
    set_ = false;
    co_return was_set;
  }

  void notify() {
    set_ = true;
    timer_.cancel();
  }

  void notify_from_any_thread() {
    asio::post(timer_.get_executor(), [self = shared_from_this()] { self->notify(); });
  }

  const asio::any_io_executor& executor() { return timer_.get_executor(); }

 private:
  asio::steady_timer timer_;
  bool set_ = false;
};

}  // namespace gregor::broker

namespace gregor::broker {

// Starts an operation that reports its result through a callback (possibly on another thread,
// possibly before start returns) and suspends the coroutine until the result is there.
// `start` is called with a callback taking T.
template <typename T, typename Start>
asio::awaitable<T> await_callback(const asio::any_io_executor& ex, Start start) {
  struct State {
    std::mutex mu;  // guards value: the callback may run on any thread
    std::optional<T> value;
  };
  auto state = std::make_shared<State>();
  auto event = std::make_shared<AsyncEvent>(ex);
  start([state, event](T result) {
    {
      std::lock_guard lock(state->mu);
      state->value = std::move(result);
    }
    event->notify_from_any_thread();
  });
  for (;;) {
    {
      std::lock_guard lock(state->mu);
      if (state->value) co_return std::move(*state->value);
    }
    co_await event->wait();
  }
}

}  // namespace gregor::broker

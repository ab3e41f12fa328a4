// The network side: one io_context per reactor thread (one per core by default), acceptors for
// every listener, connections handed to the reactors round-robin. Asio stays in server.cc.
#pragma once

#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "broker/broker_config.h"

namespace gregor::broker {

class Broker;

class Server {
 public:
  Server(Broker& broker, const BrokerConfig& config);
  ~Server();

  // Binds the listeners (resolving port 0 to the bound port) and starts the threads.
  absl::Status start();
  // Stops accepting, lets connections finish the requests they have read (bounded by a
  // grace period), then stops the reactors and joins their threads.
  void stop();
  // Ports actually bound, in listener order.
  std::vector<int> bound_ports() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gregor::broker

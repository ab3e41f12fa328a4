// The connections one gregorctl command holds: the bootstrap connection plus one per other
// broker it must reach (a group's coordinator, a partition's leader), opened on first use and
// kept until the command ends. Owned by one thread; not thread-safe.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "tools/gregorctl/blocking_socket.h"
#include "tools/gregorctl/kafka_client.h"

namespace gregor::tools {

class BrokerConnections {
 public:
  // REQUIRES: bootstrap != nullptr.
  BrokerConnections(std::unique_ptr<KafkaClient> bootstrap, ClientOptions options);

  KafkaClient& bootstrap() { return *bootstrap_; }

  // The connection to `address`: the bootstrap one when it is the same host:port (a one-broker
  // cluster needs no second connection), else a new or earlier opened one. Errors as
  // KafkaClient::connect.
  absl::StatusOr<KafkaClient*> to(const HostPort& address);

 private:
  std::unique_ptr<KafkaClient> bootstrap_;
  ClientOptions options_;
  std::map<std::string, std::unique_ptr<KafkaClient>> others_;  // by "host:port"
};

}  // namespace gregor::tools

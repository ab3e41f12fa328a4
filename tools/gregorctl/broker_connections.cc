// Opens and reuses the per-broker connections of one gregorctl command.
#include "tools/gregorctl/broker_connections.h"

#include <cassert>
#include <utility>

namespace gregor::tools {

BrokerConnections::BrokerConnections(std::unique_ptr<KafkaClient> bootstrap, ClientOptions options)
    : bootstrap_(std::move(bootstrap)), options_(std::move(options)) {
  assert(bootstrap_ != nullptr);
}

absl::StatusOr<KafkaClient*> BrokerConnections::to(const HostPort& address) {
  std::string key = address.to_string();
  if (key == bootstrap_->server().to_string()) return bootstrap_.get();
  auto it = others_.find(key);
  if (it != others_.end()) return it->second.get();
  absl::StatusOr<std::unique_ptr<KafkaClient>> client = KafkaClient::connect(key, options_);
  if (!client.ok()) return client.status();
  KafkaClient* raw = client->get();
  others_.emplace(key, *std::move(client));
  return raw;
}

}  // namespace gregor::tools

// The broker: owns storage, cluster metadata, the partitions it leads and the network server.
// Lifecycle: open() recovers state, start() binds listeners and runs the reactor threads,
// stop() shuts down cleanly (stop accepting, finish in-flight requests, flush, close segments).
// Thread-safety: accessors may be used from any reactor thread; the objects they return are
// themselves thread-safe.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "broker/broker_config.h"
#include "coordinator/cluster_metadata.h"

namespace gregor::storage {
class LogManager;
}

namespace gregor::broker {

class PartitionManager;
class Server;

class Broker {
 public:
  static absl::StatusOr<std::unique_ptr<Broker>> open(BrokerConfig config);
  ~Broker();

  // Binds every listener and starts the reactor threads.
  absl::Status start();
  // Graceful shutdown; call from one thread (main, after a signal). Idempotent.
  void stop();

  const BrokerConfig& config() const { return config_; }
  coordinator::ClusterMetadata& metadata() { return *metadata_; }
  PartitionManager& partitions() { return *partitions_; }
  storage::LogManager& logs() { return *logs_; }
  // The first advertised listener, with the bound port when the configured port was 0.
  Listener advertised_listener() const;

  // Creates the topic in the metadata log and its partition logs. AlreadyExists if taken.
  // REQUIRES: name and configs validated (coordinator/topic_rules.h).
  absl::StatusOr<coordinator::TopicInfo> create_topic(
      const std::string& name, int32_t partitions, const std::map<std::string, std::string>& configs);
  // NotFound if there is no such topic.
  absl::Status delete_topic(const std::string& name);
  // The topic, created with num.partitions first if it is missing and
  // auto.create.topics.enable allows it. NotFound if missing and not created;
  // InvalidArgument if the name is not a legal topic name.
  absl::StatusOr<coordinator::TopicInfo> get_or_auto_create_topic(const std::string& name);

 private:
  explicit Broker(BrokerConfig config);
  absl::Status load_partitions();
  absl::Status open_partition_logs(const coordinator::TopicInfo& topic);

  BrokerConfig config_;
  std::unique_ptr<storage::LogManager> logs_;
  std::unique_ptr<coordinator::ClusterMetadata> metadata_;
  std::unique_ptr<PartitionManager> partitions_;
  std::unique_ptr<Server> server_;
};

}  // namespace gregor::broker

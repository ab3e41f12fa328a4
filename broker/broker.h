// The broker: owns storage, cluster metadata, the partitions it leads and the network server.
// Lifecycle: open() recovers state, start() binds listeners and runs the reactor threads,
// stop() shuts down cleanly (stop accepting, finish in-flight requests, flush, close segments).
// Thread-safety: accessors may be used from any reactor thread; the objects they return are
// themselves thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "broker/broker_config.h"
#include "coordinator/cluster_metadata.h"

namespace gregor::storage {
class LogManager;
}
namespace gregor::coordinator {
class GroupCoordinator;
}

namespace gregor::broker {

class OffsetsTopic;
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
  coordinator::GroupCoordinator& groups() { return *groups_; }
  // The first advertised listener, with the bound port when the configured port was 0.
  Listener advertised_listener() const;

  // Creates the topic in the metadata log and its partition logs. AlreadyExists if taken.
  // REQUIRES: name and configs validated (coordinator/topic_rules.h).
  absl::StatusOr<coordinator::TopicInfo> create_topic(
      const std::string& name, int32_t partitions,
      const std::map<std::string, std::string>& configs);
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
  // Creates __consumer_offsets if missing, replays it into the group coordinator and starts
  // the thread that runs the coordinator's timers.
  absl::Status start_group_coordinator();
  void run_group_timers();

  BrokerConfig config_;
  std::unique_ptr<storage::LogManager> logs_;
  std::unique_ptr<coordinator::ClusterMetadata> metadata_;
  std::unique_ptr<PartitionManager> partitions_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<OffsetsTopic> offsets_topic_;
  std::unique_ptr<coordinator::GroupCoordinator> groups_;
  std::thread group_timer_thread_;
  std::mutex group_timer_mu_;  // guards stopping_ for group_timer_cv_
  std::condition_variable group_timer_cv_;
  bool stopping_ = false;
};

}  // namespace gregor::broker

// The broker: owns storage, cluster metadata, the partitions it leads and the network server.
// Lifecycle: open() recovers state, start() binds listeners and runs the reactor threads,
// stop() shuts down cleanly (stop accepting, finish in-flight requests, flush, close segments).
// Thread-safety: accessors may be used from any reactor thread; the objects they return are
// themselves thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "broker/broker_config.h"
#include "coordinator/cluster_metadata.h"
#include "storage/txn_verifier.h"

namespace gregor::storage {
class LogManager;
}
namespace gregor::coordinator {
class GroupCoordinator;
class ProducerIdManager;
class TxnCoordinator;
}  // namespace gregor::coordinator

namespace gregor::broker {

class OffsetsTopic;
class Partition;
class PartitionManager;
class Server;
class TxnMarkers;
class TxnStateTopic;

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
  coordinator::TxnCoordinator& transactions() { return *txns_; }
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

  // What a partition log asks before a transactional batch of `transactional_id`'s producer
  // opens a transaction in topic-partition: the transaction coordinator must hold the
  // partition in that producer's ongoing transaction (Kafka's verification, KIP-890), else the
  // batch is refused (PRODUCER_FENCED becomes INVALID_PRODUCER_EPOCH, as Kafka answers
  // producers). Without a transactional id transactional records are refused with
  // TRANSACTIONAL_ID_AUTHORIZATION_FAILED, as Kafka refuses them. Empty (no check) with
  // transaction.partition.verification.enable=false.
  storage::TxnVerifier txn_verifier(std::optional<std::string> transactional_id, std::string topic,
                                    int32_t partition);

  // Calls `done` once the partition's log holds `offset` durably: after the grouped fdatasync,
  // or at once with gregor.acks.all.fsync=false (Kafka's acks=all on a single node). `done`
  // may run on the flusher's thread or inside this call.
  void when_durable(const std::shared_ptr<Partition>& partition, int64_t offset,
                    std::function<void(absl::Status)> done);

  // Writes a transaction marker (control batch) for the producer to the partition and calls
  // `done` once it is durable; for a __consumer_offsets partition the group coordinator then
  // commits or drops the producer's pending offsets. NotFound if the partition does not exist;
  // the log's errors (INVALID_PRODUCER_EPOCH for an epoch older than the producer's,
  // TRANSACTION_COORDINATOR_FENCED) otherwise.
  void write_txn_marker(const std::string& topic, int32_t partition, int64_t producer_id,
                        int16_t producer_epoch, bool commit, int32_t coordinator_epoch,
                        std::function<void(absl::Status)> done);

 private:
  explicit Broker(BrokerConfig config);
  absl::Status load_partitions();
  absl::Status open_partition_logs(const coordinator::TopicInfo& topic);
  // Creates __consumer_offsets if missing and replays it into the group coordinator.
  absl::Status start_group_coordinator();
  // Creates __transaction_state if missing, replays it, and finishes decided transactions.
  absl::Status start_txn_coordinator();
  // Creates an internal compacted topic with `partitions` partitions unless it exists; returns
  // its partition count (fixed at creation).
  absl::StatusOr<int32_t> ensure_internal_topic(const std::string& name, int32_t partitions,
                                                int32_t segment_bytes);
  // Runs the group and transaction coordinators' timers.
  void run_coordinator_timers();

  BrokerConfig config_;
  std::unique_ptr<storage::LogManager> logs_;
  std::unique_ptr<coordinator::ClusterMetadata> metadata_;
  std::unique_ptr<PartitionManager> partitions_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<OffsetsTopic> offsets_topic_;
  std::unique_ptr<coordinator::GroupCoordinator> groups_;
  std::unique_ptr<TxnStateTopic> txn_state_topic_;
  std::unique_ptr<TxnMarkers> txn_markers_;
  std::unique_ptr<coordinator::ProducerIdManager> producer_ids_;
  std::unique_ptr<coordinator::TxnCoordinator> txns_;
  std::thread timer_thread_;
  std::mutex timer_mu_;  // guards stopping_ for timer_cv_
  std::condition_variable timer_cv_;
  bool stopping_ = false;
};

}  // namespace gregor::broker

// Broker: start-up (metadata replay, partition logs, listeners), topic lifecycle, shutdown.
#include "broker/broker.h"

#include <filesystem>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "broker/offsets_topic.h"
#include "broker/partition_manager.h"
#include "broker/server.h"
#include "broker/txn_state_topic.h"
#include "coordinator/group_coordinator.h"
#include "coordinator/producer_ids.h"
#include "coordinator/topic_rules.h"
#include "coordinator/txn_coordinator.h"
#include "fmt/format.h"
#include "spdlog/spdlog.h"
#include "storage/kafka_error.h"
#include "storage/log_manager.h"

namespace gregor::broker {
namespace {

// KRaft keeps its metadata log in this partition directory of the first log dir.
constexpr const char* kMetadataLogDir = "__cluster_metadata-0";

}  // namespace

Broker::Broker(BrokerConfig config)
    : config_(std::move(config)), partitions_(std::make_unique<PartitionManager>()) {}

Broker::~Broker() {
  stop();
}

absl::StatusOr<std::unique_ptr<Broker>> Broker::open(BrokerConfig config) {
  std::unique_ptr<Broker> b(new Broker(std::move(config)));
  storage::LogManagerOptions options;
  for (const std::string& d : b->config_.log_dirs) options.log_dirs.emplace_back(d);
  options.default_config = b->config_.log_defaults;
  options.retention_check_interval_ms = b->config_.log_retention_check_interval_ms;
  options.flush_scheduler_interval_ms = b->config_.log_flush_scheduler_interval_ms;
  absl::StatusOr<std::unique_ptr<storage::LogManager>> logs =
      storage::LogManager::open(options, storage::SystemClock::instance());
  if (!logs.ok()) return logs.status();
  b->logs_ = std::move(*logs);

  std::filesystem::path metadata_dir =
      std::filesystem::path(b->config_.log_dirs.front()) / kMetadataLogDir;
  absl::StatusOr<std::unique_ptr<coordinator::ClusterMetadata>> md =
      coordinator::ClusterMetadata::open(metadata_dir, storage::SystemClock::instance());
  if (!md.ok()) {
    return absl::Status(md.status().code(), absl::StrCat("metadata log ", metadata_dir.string(),
                                                         ": ", md.status().message()));
  }
  b->metadata_ = std::move(*md);
  if (absl::Status s = b->load_partitions(); !s.ok()) return s;
  if (absl::Status s = b->start_group_coordinator(); !s.ok()) return s;
  if (absl::Status s = b->start_txn_coordinator(); !s.ok()) return s;
  b->timer_thread_ = std::thread([raw = b.get()] { raw->run_coordinator_timers(); });
  return b;
}

absl::Status Broker::load_partitions() {
  std::vector<coordinator::TopicInfo> topics = metadata_->topics();
  for (const coordinator::TopicInfo& t : topics) {
    if (absl::Status s = open_partition_logs(t); !s.ok()) return s;
  }
  // A partition directory whose topic is not in the metadata image belongs to a topic deleted
  // while the broker was down (the delete was committed, the files not yet removed).
  for (const auto& [topic, partition] : logs_->on_disk_partitions()) {
    if (topic + "-" + std::to_string(partition) == kMetadataLogDir) continue;
    std::optional<coordinator::TopicInfo> t = metadata_->topic(topic);
    if (t && partition < static_cast<int32_t>(t->partitions.size())) continue;
    spdlog::info("removing {}-{}: its topic is not in the metadata log", topic, partition);
    if (absl::Status s = logs_->remove(topic, partition); !s.ok()) {
      spdlog::warn("could not remove {}-{}: {}", topic, partition, std::string(s.message()));
    }
  }
  logs_->start_background();
  spdlog::info("loaded {} topics", topics.size());
  return absl::OkStatus();
}

absl::StatusOr<int32_t> Broker::ensure_internal_topic(const std::string& name, int32_t partitions,
                                                      int32_t segment_bytes) {
  if (!metadata_->topic(name)) {
    std::map<std::string, std::string> configs = {{"cleanup.policy", "compact"},
                                                  {"segment.bytes", std::to_string(segment_bytes)}};
    absl::StatusOr<coordinator::TopicInfo> t = create_topic(name, partitions, configs);
    if (!t.ok()) return t.status();
  }
  // The partition count is fixed when the topic is created; a changed setting later must not
  // move groups or transactional ids to other partitions.
  return static_cast<int32_t>(metadata_->topic(name)->partitions.size());
}

absl::Status Broker::start_group_coordinator() {
  // Kafka's settings for the offsets topic: compacted, 100 MiB segments.
  absl::StatusOr<int32_t> partitions =
      ensure_internal_topic(kOffsetsTopic, config_.groups.offsets_topic_num_partitions,
                            config_.offsets_topic_segment_bytes);
  if (!partitions.ok()) return partitions.status();
  offsets_topic_ = std::make_unique<OffsetsTopic>(*this);
  coordinator::GroupConfig group_config = config_.groups;
  group_config.offsets_topic_num_partitions = *partitions;
  groups_ = std::make_unique<coordinator::GroupCoordinator>(
      group_config, storage::SystemClock::instance(), offsets_topic_.get());
  return offsets_topic_->load_into(*groups_);
}

absl::Status Broker::start_txn_coordinator() {
  absl::StatusOr<int32_t> partitions =
      ensure_internal_topic(kTransactionStateTopic, config_.transactions.state_log_partitions,
                            config_.transaction_state_log_segment_bytes);
  if (!partitions.ok()) return partitions.status();
  txn_state_topic_ = std::make_unique<TxnStateTopic>(*this);
  txn_markers_ = std::make_unique<TxnMarkers>(*this);
  producer_ids_ = std::make_unique<coordinator::ProducerIdManager>(
      [this](int32_t count) { return metadata_->allocate_producer_ids(count, config_.node_id); });
  coordinator::TxnConfig txn_config = config_.transactions;
  txn_config.state_log_partitions = *partitions;
  txns_ = std::make_unique<coordinator::TxnCoordinator>(
      txn_config, storage::SystemClock::instance(), txn_state_topic_.get(), txn_markers_.get(),
      [this] { return producer_ids_->next(); });
  if (absl::Status s = txn_state_topic_->load_into(*txns_); !s.ok()) return s;
  // After the groups are loaded: markers for __consumer_offsets complete pending offsets.
  txns_->complete_load();
  return absl::OkStatus();
}

void Broker::run_coordinator_timers() {
  // The coordinators expose their next deadline but not when it changes, so this thread looks
  // every few milliseconds; rebalances then finish at most that late.
  constexpr auto kPoll = std::chrono::milliseconds(5);
  std::unique_lock lock(timer_mu_);
  while (!stopping_) {
    timer_cv_.wait_for(lock, kPoll, [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    const int64_t now = storage::SystemClock::instance()->now_ms();
    if (groups_->next_deadline_ms() <= now) groups_->tick();
    if (txns_->next_deadline_ms() <= now) txns_->tick();
    lock.lock();
  }
}

storage::TxnVerifier Broker::txn_verifier(std::optional<std::string> transactional_id,
                                          std::string topic, int32_t partition) {
  if (!config_.transaction_partition_verification) return {};
  return [this, tid = std::move(transactional_id),
          tp = coordinator::TopicPartition{std::move(topic), partition}](
             int64_t producer_id, int16_t producer_epoch) -> absl::Status {
    if (!tid) {
      return storage::kafka_error(protocol::ErrorCode::kTransactionalIdAuthorizationFailed,
                                  "transactional records need a transactional id");
    }
    protocol::ErrorCode e = txns_->verify_partition(*tid, producer_id, producer_epoch, tp);
    if (e == protocol::ErrorCode::kNone) return absl::OkStatus();
    if (e == protocol::ErrorCode::kProducerFenced) e = protocol::ErrorCode::kInvalidProducerEpoch;
    return storage::kafka_error(
        e, fmt::format("{}-{}: the transaction of {} (producer {}, epoch {}) does not hold it",
                       tp.topic, tp.partition, *tid, producer_id, producer_epoch));
  };
}

void Broker::when_durable(const std::shared_ptr<Partition>& partition, int64_t offset,
                          std::function<void(absl::Status)> done) {
  if (!config_.acks_all_fsync) return done(absl::OkStatus());
  logs_->flusher().request(partition->log_ptr(), offset, std::move(done));
}

void Broker::write_txn_marker(const std::string& topic, int32_t partition_id, int64_t producer_id,
                              int16_t producer_epoch, bool commit, int32_t coordinator_epoch,
                              std::function<void(absl::Status)> done) {
  std::shared_ptr<Partition> partition = partitions_->get(topic, partition_id);
  if (!partition) {
    return done(absl::NotFoundError(absl::StrCat("partition ", topic, "-", partition_id)));
  }
  absl::StatusOr<storage::AppendInfo> info =
      partition->log().append_control(producer_id, producer_epoch, commit, coordinator_epoch);
  if (!info.ok()) return done(info.status());
  if (topic == kOffsetsTopic) groups_->complete_txn(partition_id, producer_id, commit);
  partition->notify_appended();
  when_durable(partition, info->last_offset, std::move(done));
}

absl::Status Broker::open_partition_logs(const coordinator::TopicInfo& topic) {
  storage::LogConfig config = coordinator::log_config_for(config_.log_defaults, topic.configs);
  for (const coordinator::PartitionInfo& p : topic.partitions) {
    absl::StatusOr<std::shared_ptr<storage::Log>> log =
        logs_->get_or_create(topic.name, p.partition_id, config);
    if (!log.ok()) {
      return absl::Status(log.status().code(),
                          absl::StrCat("partition ", topic.name, "-", p.partition_id, ": ",
                                       log.status().message()));
    }
    partitions_->add(std::make_shared<Partition>(topic.name, p.partition_id, std::move(*log)));
  }
  return absl::OkStatus();
}

absl::Status Broker::start() {
  server_ = std::make_unique<Server>(*this, config_);
  return server_->start();
}

void Broker::stop() {
  if (!logs_) return;
  if (server_) server_->stop();
  if (timer_thread_.joinable()) {
    {
      std::lock_guard lock(timer_mu_);
      stopping_ = true;
    }
    timer_cv_.notify_all();
    timer_thread_.join();
  }
  if (absl::Status s = logs_->shutdown(); !s.ok()) {
    spdlog::error("log shutdown: {}", std::string(s.message()));
  }
  if (metadata_) {
    if (absl::Status s = metadata_->close(); !s.ok())
      spdlog::error("metadata close: {}", std::string(s.message()));
  }
  // The coordinators' pending appends have completed: the flusher finished them at shutdown.
  txns_.reset();
  groups_.reset();
  logs_.reset();
  // Last: completions of the flusher may still post to the reactors' (stopped) io_contexts.
  server_.reset();
}

Listener Broker::advertised_listener() const {
  Listener l = config_.advertised_listeners.front();
  if (l.port == 0 && server_) {
    std::vector<int> ports = server_->bound_ports();
    if (!ports.empty()) l.port = ports.front();
  }
  return l;
}

absl::StatusOr<coordinator::TopicInfo> Broker::create_topic(
    const std::string& name, int32_t partitions,
    const std::map<std::string, std::string>& configs) {
  absl::StatusOr<coordinator::TopicInfo> topic =
      metadata_->create_topic(name, partitions, configs, config_.node_id);
  if (!topic.ok()) return topic.status();
  if (absl::Status s = open_partition_logs(*topic); !s.ok()) return s;
  spdlog::info("created topic {} with {} partitions", name, partitions);
  return topic;
}

absl::StatusOr<coordinator::TopicInfo> Broker::get_or_auto_create_topic(const std::string& name) {
  if (std::optional<coordinator::TopicInfo> t = metadata_->topic(name)) return *t;
  if (absl::Status s = coordinator::validate_topic_name(name); !s.ok()) return s;
  if (!config_.auto_create_topics_enable) {
    return absl::NotFoundError(absl::StrCat("Topic '", name, "' does not exist."));
  }
  absl::StatusOr<coordinator::TopicInfo> t = create_topic(name, config_.num_partitions, {});
  // Two clients asking at once: the loser sees the winner's topic.
  if (absl::IsAlreadyExists(t.status())) {
    if (std::optional<coordinator::TopicInfo> existing = metadata_->topic(name)) return *existing;
  }
  return t;
}

absl::Status Broker::delete_topic(const std::string& name) {
  if (absl::Status s = metadata_->delete_topic(name); !s.ok()) return s;
  for (const std::shared_ptr<Partition>& p : partitions_->remove_topic(name)) {
    if (absl::Status s = logs_->remove(name, p->id()); !s.ok()) {
      spdlog::warn("deleting {}-{}: {}", name, p->id(), std::string(s.message()));
    }
  }
  spdlog::info("deleted topic {}", name);
  return absl::OkStatus();
}

}  // namespace gregor::broker

// Broker: start-up (metadata replay, partition logs, listeners), topic lifecycle, shutdown.
#include "broker/broker.h"

#include <filesystem>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "broker/offsets_topic.h"
#include "broker/partition_manager.h"
#include "broker/server.h"
#include "coordinator/group_coordinator.h"
#include "coordinator/topic_rules.h"
#include "spdlog/spdlog.h"
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

absl::Status Broker::start_group_coordinator() {
  if (!metadata_->topic(kOffsetsTopic)) {
    // Kafka's settings for the offsets topic: compacted, 100 MiB segments.
    std::map<std::string, std::string> configs = {
        {"cleanup.policy", "compact"},
        {"segment.bytes", std::to_string(config_.offsets_topic_segment_bytes)}};
    absl::StatusOr<coordinator::TopicInfo> t =
        create_topic(kOffsetsTopic, config_.groups.offsets_topic_num_partitions, configs);
    if (!t.ok()) return t.status();
  }
  offsets_topic_ = std::make_unique<OffsetsTopic>(*this);
  // The partition count is fixed when the topic is created; a changed setting later must not
  // move groups to other partitions.
  coordinator::GroupConfig group_config = config_.groups;
  group_config.offsets_topic_num_partitions =
      static_cast<int32_t>(metadata_->topic(kOffsetsTopic)->partitions.size());
  groups_ = std::make_unique<coordinator::GroupCoordinator>(
      group_config, storage::SystemClock::instance(), offsets_topic_.get());
  if (absl::Status s = offsets_topic_->load_into(*groups_); !s.ok()) return s;
  group_timer_thread_ = std::thread([this] { run_group_timers(); });
  return absl::OkStatus();
}

void Broker::run_group_timers() {
  // The coordinator exposes its next deadline but not when it changes, so this thread looks
  // every few milliseconds; rebalances then finish at most that late.
  constexpr auto kPoll = std::chrono::milliseconds(5);
  std::unique_lock lock(group_timer_mu_);
  while (!stopping_) {
    group_timer_cv_.wait_for(lock, kPoll, [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    if (groups_->next_deadline_ms() <= storage::SystemClock::instance()->now_ms()) groups_->tick();
    lock.lock();
  }
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
  if (group_timer_thread_.joinable()) {
    {
      std::lock_guard lock(group_timer_mu_);
      stopping_ = true;
    }
    group_timer_cv_.notify_all();
    group_timer_thread_.join();
  }
  if (absl::Status s = logs_->shutdown(); !s.ok()) {
    spdlog::error("log shutdown: {}", std::string(s.message()));
  }
  if (metadata_) {
    if (absl::Status s = metadata_->close(); !s.ok())
      spdlog::error("metadata close: {}", std::string(s.message()));
  }
  // The coordinator's pending appends have completed: the flusher finished them at shutdown.
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

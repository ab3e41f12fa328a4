// ClusterMetadata: metadata records written to and replayed from the metadata log.
// Each record's value is: int16 record type, int16 record version, the record's body
// (our generated codec, flexible version 0); keys are null.
#include "coordinator/cluster_metadata.h"

#include <algorithm>
#include <random>

#include "absl/strings/str_cat.h"
#include "coordinator/topic_rules.h"
#include "protocol/messages/config_record.h"
#include "protocol/messages/partition_record.h"
#include "protocol/messages/producer_ids_record.h"
#include "protocol/messages/remove_topic_record.h"
#include "protocol/messages/topic_record.h"
#include "protocol/record_batch.h"
#include "spdlog/spdlog.h"
#include "storage/log.h"
#include "storage/record_reader.h"

namespace gregor::coordinator {
namespace {

constexpr int16_t kRecordVersion = 0;
constexpr size_t kMaxMetadataBatch = 64 << 20;

template <typename Msg>
std::string frame(MetadataRecordType type, const Msg& m) {
  protocol::OutputBuffer out;
  protocol::Writer w(out);
  w.int16(static_cast<int16_t>(type));
  w.int16(kRecordVersion);
  m.encode(w, kRecordVersion);
  return out.flatten();
}

protocol::Uuid random_topic_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  protocol::Uuid id{};
  for (size_t i = 0; i < id.size(); i += 8) {
    uint64_t v = rng();
    for (size_t j = 0; j < 8; ++j) id[i + j] = static_cast<uint8_t>(v >> (8 * j));
  }
  // A version 4 UUID is never all zero nor 0...01, the ids Kafka reserves.
  id[6] = static_cast<uint8_t>((id[6] & 0x0f) | 0x40);
  id[8] = static_cast<uint8_t>((id[8] & 0x3f) | 0x80);
  return id;
}

}  // namespace

ClusterMetadata::ClusterMetadata(std::shared_ptr<storage::Log> log, const storage::Clock* clock)
    : log_(std::move(log)), clock_(clock) {}

ClusterMetadata::~ClusterMetadata() = default;

absl::StatusOr<std::unique_ptr<ClusterMetadata>> ClusterMetadata::open(
    const std::filesystem::path& dir, const storage::Clock* clock) {
  storage::LogConfig config;
  config.retention_ms = -1;  // the metadata log is never deleted by retention
  config.retention_bytes = -1;
  // The metadata log is small: always recover it fully, so a crash never loses a change
  // that was acknowledged (each commit is fdatasync'ed first).
  absl::StatusOr<std::shared_ptr<storage::Log>> log = storage::Log::open(dir, config, clock, true);
  if (!log.ok()) return log.status();
  std::unique_ptr<ClusterMetadata> md(new ClusterMetadata(*log, clock));
  if (absl::Status s = md->replay(); !s.ok()) return s;
  return md;
}

absl::Status ClusterMetadata::replay() {
  absl::Status s = storage::for_each_record(*log_, log_->log_start_offset(), kMaxMetadataBatch,
                                            [this](const protocol::Record& r) {
                                              if (!r.value) return absl::OkStatus();
                                              ++replayed_records_;
                                              return apply(*r.value);
                                            });
  if (!s.ok()) return s;
  spdlog::info("metadata: replayed {} records, {} topics", replayed_records_, topics_.size());
  return absl::OkStatus();
}

absl::Status ClusterMetadata::apply(std::string_view value) {
  protocol::Reader r(value);
  auto type = static_cast<MetadataRecordType>(r.int16());
  int16_t version = r.int16();
  if (!r.ok() || version != kRecordVersion) {
    return absl::DataLossError("metadata log: record with unknown framing or version");
  }
  switch (type) {
    case MetadataRecordType::kTopic: {
      protocol::msg::TopicRecord rec;
      rec.decode(r, version);
      if (!r.ok()) break;
      TopicInfo& t = topics_[rec.name];
      t.name = rec.name;
      t.topic_id = rec.topic_id;
      t.internal = is_internal_topic(rec.name);
      return absl::OkStatus();
    }
    case MetadataRecordType::kPartition: {
      protocol::msg::PartitionRecord rec;
      rec.decode(r, version);
      if (!r.ok()) break;
      for (auto& [name, t] : topics_) {
        if (t.topic_id != rec.topic_id) continue;
        if (rec.partition_id < 0) break;
        if (t.partitions.size() <= static_cast<size_t>(rec.partition_id)) {
          t.partitions.resize(static_cast<size_t>(rec.partition_id) + 1);
        }
        PartitionInfo& p = t.partitions[static_cast<size_t>(rec.partition_id)];
        p.partition_id = rec.partition_id;
        p.replicas = rec.replicas;
        p.isr = rec.isr;
        p.leader = rec.leader;
        p.leader_epoch = rec.leader_epoch;
        p.partition_epoch = rec.partition_epoch;
        break;
      }
      return absl::OkStatus();
    }
    case MetadataRecordType::kConfig: {
      protocol::msg::ConfigRecord rec;
      rec.decode(r, version);
      if (!r.ok()) break;
      if (rec.resource_type != kTopicResource) return absl::OkStatus();
      auto it = topics_.find(rec.resource_name);
      if (it == topics_.end()) return absl::OkStatus();
      if (rec.value) {
        it->second.configs[rec.name] = *rec.value;
      } else {
        it->second.configs.erase(rec.name);
      }
      return absl::OkStatus();
    }
    case MetadataRecordType::kProducerIds: {
      protocol::msg::ProducerIdsRecord rec;
      rec.decode(r, version);
      if (!r.ok()) break;
      next_producer_id_ = std::max(next_producer_id_, rec.next_producer_id);
      return absl::OkStatus();
    }
    case MetadataRecordType::kRemoveTopic: {
      protocol::msg::RemoveTopicRecord rec;
      rec.decode(r, version);
      if (!r.ok()) break;
      std::erase_if(topics_, [&](const auto& kv) { return kv.second.topic_id == rec.topic_id; });
      return absl::OkStatus();
    }
  }
  return absl::DataLossError(
      absl::StrCat("metadata log: undecodable record of type ", static_cast<int>(type)));
}

absl::Status ClusterMetadata::commit(const std::vector<std::string>& values) {
  std::vector<protocol::Record> records;
  int64_t now = clock_->now_ms();
  int64_t offset = log_->log_end_offset();
  for (const std::string& v : values) {
    protocol::Record rec;
    rec.offset = offset++;
    rec.timestamp = now;
    rec.value = v;
    records.push_back(std::move(rec));
  }
  protocol::BatchOptions options;
  options.base_offset = log_->log_end_offset();
  absl::StatusOr<std::string> batch = protocol::build_batch(options, records);
  if (!batch.ok()) return batch.status();
  if (absl::StatusOr<storage::AppendInfo> a = log_->append_with_offsets(*batch); !a.ok()) {
    return a.status();
  }
  if (absl::Status s = log_->flush(); !s.ok()) return s;
  for (const std::string& v : values) {
    if (absl::Status s = apply(v); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> ClusterMetadata::allocate_producer_ids(int32_t count, int32_t node_id) {
  std::lock_guard lock(mu_);
  const int64_t first = next_producer_id_;
  protocol::msg::ProducerIdsRecord rec;
  rec.broker_id = node_id;
  rec.next_producer_id = first + count;
  if (absl::Status s = commit({frame(MetadataRecordType::kProducerIds, rec)}); !s.ok()) return s;
  return first;
}

absl::StatusOr<TopicInfo> ClusterMetadata::create_topic(
    const std::string& name, int32_t partitions, const std::map<std::string, std::string>& configs,
    int32_t node_id) {
  std::lock_guard lock(mu_);
  if (topics_.contains(name)) {
    return absl::AlreadyExistsError(absl::StrCat("Topic '", name, "' already exists."));
  }
  protocol::Uuid id = random_topic_id();
  std::vector<std::string> values;
  protocol::msg::TopicRecord topic;
  topic.name = name;
  topic.topic_id = id;
  values.push_back(frame(MetadataRecordType::kTopic, topic));
  for (int32_t p = 0; p < partitions; ++p) {
    protocol::msg::PartitionRecord part;
    part.partition_id = p;
    part.topic_id = id;
    part.replicas = {node_id};
    part.isr = {node_id};
    part.leader = node_id;
    part.leader_epoch = 0;
    part.partition_epoch = 0;
    values.push_back(frame(MetadataRecordType::kPartition, part));
  }
  for (const auto& [key, value] : configs) {
    protocol::msg::ConfigRecord config;
    config.resource_type = kTopicResource;
    config.resource_name = name;
    config.name = key;
    config.value = value;
    values.push_back(frame(MetadataRecordType::kConfig, config));
  }
  if (absl::Status s = commit(values); !s.ok()) return s;
  return topics_.at(name);
}

absl::Status ClusterMetadata::delete_topic(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = topics_.find(name);
  if (it == topics_.end()) {
    return absl::NotFoundError(absl::StrCat("Topic '", name, "' does not exist."));
  }
  protocol::msg::RemoveTopicRecord rec;
  rec.topic_id = it->second.topic_id;
  return commit({frame(MetadataRecordType::kRemoveTopic, rec)});
}

std::optional<TopicInfo> ClusterMetadata::topic(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = topics_.find(name);
  if (it == topics_.end()) return std::nullopt;
  return it->second;
}

std::optional<TopicInfo> ClusterMetadata::topic_by_id(const protocol::Uuid& id) const {
  std::lock_guard lock(mu_);
  for (const auto& [name, t] : topics_) {
    if (t.topic_id == id) return t;
  }
  return std::nullopt;
}

std::vector<TopicInfo> ClusterMetadata::topics() const {
  std::lock_guard lock(mu_);
  std::vector<TopicInfo> out;
  out.reserve(topics_.size());
  for (const auto& [name, t] : topics_) out.push_back(t);
  return out;
}

absl::Status ClusterMetadata::close() {
  std::lock_guard lock(mu_);
  return log_->close();
}

}  // namespace gregor::coordinator

// Cluster metadata as a log (KRaft's design): topics, partitions and configs are records in the
// `__cluster_metadata-0` partition log, replayed into a MetadataImage at start. On one node the
// log is local; the Raft controller will later replicate these same records.
// Thread-safety: all methods may be called from any thread; writes are serialized by mu_, and
// every change is fdatasync'ed before it is applied and acknowledged.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "coordinator/metadata_image.h"
#include "storage/clock.h"

namespace gregor::storage {
class Log;
}

namespace gregor::coordinator {

class ClusterMetadata {
 public:
  static absl::StatusOr<std::unique_ptr<ClusterMetadata>> open(const std::filesystem::path& dir,
                                                               const storage::Clock* clock);
  ~ClusterMetadata();

  // Writes a TopicRecord, one PartitionRecord per partition (all led by `node_id`) and a
  // ConfigRecord per config as one batch. AlreadyExists if the name is taken.
  // REQUIRES: name and configs were validated (topic_rules.h), partitions >= 1.
  absl::StatusOr<TopicInfo> create_topic(const std::string& name, int32_t partitions,
                                         const std::map<std::string, std::string>& configs,
                                         int32_t node_id);
  // Writes a RemoveTopicRecord. NotFound if there is no such topic.
  absl::Status delete_topic(const std::string& name);

  // Reserves `count` producer ids with a ProducerIdsRecord and returns the first; blocks follow
  // each other, so no id is ever handed out twice, also across restarts.
  absl::StatusOr<int64_t> allocate_producer_ids(int32_t count, int32_t node_id);

  std::optional<TopicInfo> topic(const std::string& name) const;
  std::optional<TopicInfo> topic_by_id(const protocol::Uuid& id) const;
  std::vector<TopicInfo> topics() const;
  // Number of records replayed at open (for tests and logs).
  int64_t replayed_records() const { return replayed_records_; }

  absl::Status close();

 private:
  ClusterMetadata(std::shared_ptr<storage::Log> log, const storage::Clock* clock);
  absl::Status replay();
  // Applies one record's value (type, version, body) to the image.
  absl::Status apply(std::string_view value);
  // Appends the encoded values as one batch, syncs, then applies them.
  absl::Status commit(const std::vector<std::string>& values);

  std::shared_ptr<storage::Log> log_;
  const storage::Clock* clock_;
  mutable std::mutex mu_;  // guards topics_ and appends to log_
  std::map<std::string, TopicInfo> topics_;
  int64_t next_producer_id_ = 0;  // the first id of the next block
  int64_t replayed_records_ = 0;
};

}  // namespace gregor::coordinator

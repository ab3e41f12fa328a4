// The records of the internal topic __consumer_offsets, laid out as Kafka lays them out: a key of
// int16 key version + fields (0/1 = committed offset, 2 = group metadata) and a value of int16
// value version + fields. Also which partition of the topic holds a group (Kafka's hashing).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "absl/status/statusor.h"
#include "protocol/messages/group_metadata_value.h"
#include "protocol/messages/offset_commit_value.h"

// Record layouts (all integers big-endian, strings int16-length, bytes int32-length; a null
// value is a tombstone that deletes the key when the topic is compacted):
//
// | record          | key                                    | value                           |
// |-----------------|----------------------------------------|---------------------------------|
// | committed offset| int16 1 (0 also read), group string,   | int16 version, OffsetCommitValue|
// |                 | topic string, partition int32          | v3 (v1 when an expiry is set)   |
// | group metadata  | int16 2, group string                  | int16 version, GroupMetadataValue|
// |                 |                                        | v3: protocol type, generation,  |
// |                 |                                        | protocol, leader, state time,   |
// |                 |                                        | members with subscription and   |
// |                 |                                        | assignment bytes                |
//
// Field lists are in protocol/schema/{offset_commit,group_metadata}_{key,value}.schema.

namespace gregor::coordinator {

inline constexpr std::string_view kOffsetsTopic = "__consumer_offsets";

// Java's String.hashCode over the UTF-16 code units of `utf8` (invalid UTF-8 bytes count as
// U+FFFD, as Java's decoder replaces them).
int32_t java_string_hash(std::string_view utf8);
// The __consumer_offsets partition of a group: Utils.abs(hashCode) % partitions, where
// Utils.abs maps INT32_MIN to 0. REQUIRES: partitions > 0.
int32_t offsets_partition_for(std::string_view group_id, int32_t partitions);

struct OffsetKey {
  std::string group;
  std::string topic;
  int32_t partition = 0;
  bool operator==(const OffsetKey&) const = default;
};
struct GroupKey {
  std::string group;
  bool operator==(const GroupKey&) const = default;
};
using RecordKey = std::variant<OffsetKey, GroupKey>;

std::string encode_offset_key(const OffsetKey& key);
std::string encode_group_key(const GroupKey& key);
// InvalidArgument for a truncated key or an unknown key version.
absl::StatusOr<RecordKey> decode_key(std::string_view bytes);

// Writes version 1 when expire_timestamp is set (>= 0), else version 3, as Kafka does.
std::string encode_offset_value(const protocol::msg::OffsetCommitValue& value);
// Written at version 3 (the last non-flexible version, which every Kafka 2.3+ reads).
std::string encode_group_value(const protocol::msg::GroupMetadataValue& value);
absl::StatusOr<protocol::msg::OffsetCommitValue> decode_offset_value(std::string_view bytes);
absl::StatusOr<protocol::msg::GroupMetadataValue> decode_group_value(std::string_view bytes);

}  // namespace gregor::coordinator

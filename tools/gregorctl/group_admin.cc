// Builds the consumer-group requests for the negotiated version and maps the responses back
// onto groups and partitions.
#include "tools/gregorctl/group_admin.h"

#include "protocol/error_codes.h"
#include "protocol/messages/delete_groups_request.h"
#include "protocol/messages/delete_groups_response.h"
#include "protocol/messages/describe_groups_request.h"
#include "protocol/messages/describe_groups_response.h"
#include "protocol/messages/find_coordinator_request.h"
#include "protocol/messages/find_coordinator_response.h"
#include "protocol/messages/list_groups_request.h"
#include "protocol/messages/list_groups_response.h"
#include "protocol/messages/list_offsets_request.h"
#include "protocol/messages/list_offsets_response.h"
#include "protocol/messages/offset_commit_request.h"
#include "protocol/messages/offset_commit_response.h"
#include "protocol/messages/offset_fetch_request.h"
#include "protocol/messages/offset_fetch_response.h"
#include "tools/gregorctl/consumer_protocol.h"

namespace gregor::tools {

namespace msg = protocol::msg;

namespace {

const int16_t kUnknownServerError = protocol::code(protocol::ErrorCode::kUnknownServerError);

// Partitions grouped by topic, topics in name order, partitions as given.
std::map<std::string, std::vector<int32_t>> by_topic(const std::vector<TopicPartition>& list) {
  std::map<std::string, std::vector<int32_t>> out;
  for (const TopicPartition& tp : list) out[tp.topic].push_back(tp.partition);
  return out;
}

}  // namespace

absl::StatusOr<GroupList> list_groups(KafkaClient& client, const std::vector<std::string>& states) {
  absl::StatusOr<int16_t> version = client.pick_version<msg::ListGroupsRequest>();
  if (!version.ok()) return version.status();
  if (!states.empty() && *version < 4) {
    return absl::FailedPreconditionError(
        absl::StrCat("the broker speaks ListGroups v", *version, " only; --state needs v4"));
  }
  msg::ListGroupsRequest request;
  request.states_filter = states;
  auto response = client.call<msg::ListGroupsRequest, msg::ListGroupsResponse>(request, *version);
  if (!response.ok()) return response.status();
  GroupList out;
  out.error_code = response->error_code;
  for (const auto& g : response->groups) {
    GroupListing listing{g.group_id, g.protocol_type, std::nullopt};
    if (*version >= 4) listing.state = g.group_state;
    out.groups.push_back(std::move(listing));
  }
  return out;
}

absl::StatusOr<Coordinator> find_coordinator(KafkaClient& client, const std::string& key,
                                             int8_t key_type) {
  absl::StatusOr<int16_t> version = client.pick_version<msg::FindCoordinatorRequest>();
  if (!version.ok()) return version.status();
  if (key_type != 0 && *version < 1) {
    return absl::FailedPreconditionError(absl::StrCat("the broker speaks FindCoordinator v",
                                                      *version, " only; key type ", key_type,
                                                      " needs v1"));
  }
  msg::FindCoordinatorRequest request;
  request.key = key;                 // v0-3
  request.key_type = key_type;       // v1+; v0 knows only groups
  request.coordinator_keys = {key};  // v4+
  auto response =
      client.call<msg::FindCoordinatorRequest, msg::FindCoordinatorResponse>(request, *version);
  if (!response.ok()) return response.status();
  Coordinator c;
  if (*version < 4) {
    c.error_code = response->error_code;
    c.error_message = response->error_message;
    c.node_id = response->node_id;
    c.address.host = response->host;
    c.address.port = static_cast<uint16_t>(response->port);
    if (c.error_code == 0 && (response->port <= 0 || response->port > 65535)) {
      return absl::DataLossError(absl::StrCat("FindCoordinator gave port ", response->port));
    }
    return c;
  }
  for (const auto& k : response->coordinators) {
    if (k.key != key) continue;
    c.error_code = k.error_code;
    c.error_message = k.error_message;
    c.node_id = k.node_id;
    c.address.host = k.host;
    c.address.port = static_cast<uint16_t>(k.port);
    if (c.error_code == 0 && (k.port <= 0 || k.port > 65535)) {
      return absl::DataLossError(absl::StrCat("FindCoordinator gave port ", k.port));
    }
    return c;
  }
  return absl::DataLossError(absl::StrCat("FindCoordinator's answer does not mention '", key, "'"));
}

absl::StatusOr<GroupDescription> describe_group(KafkaClient& client, const std::string& group) {
  absl::StatusOr<int16_t> version = client.pick_version<msg::DescribeGroupsRequest>();
  if (!version.ok()) return version.status();
  msg::DescribeGroupsRequest request;
  request.groups = {group};
  auto response =
      client.call<msg::DescribeGroupsRequest, msg::DescribeGroupsResponse>(request, *version);
  if (!response.ok()) return response.status();
  for (const auto& g : response->groups) {
    if (g.group_id != group) continue;
    GroupDescription d;
    d.error_code = g.error_code;
    d.group_id = g.group_id;
    d.state = g.group_state;
    d.protocol_type = g.protocol_type;
    d.protocol = g.protocol_data;
    bool consumer = g.protocol_type == "consumer" || g.protocol_type.empty();
    for (const auto& m : g.members) {
      GroupMember member;
      member.member_id = m.member_id;
      member.group_instance_id = m.group_instance_id;
      member.client_id = m.client_id;
      member.client_host = m.client_host;
      if (consumer) {
        // Bytes from the clients pass through the broker unchecked: a member whose bytes do
        // not decode is still listed, just without partitions.
        if (auto s = decode_consumer_subscription(m.member_metadata); s.ok()) {
          member.subscription = s->topics;
        }
        if (auto a = decode_consumer_assignment(m.member_assignment); a.ok()) {
          member.assignment = a->partitions;
        }
      }
      d.members.push_back(std::move(member));
    }
    return d;
  }
  return absl::DataLossError(
      absl::StrCat("DescribeGroups' answer does not mention group '", group, "'"));
}

absl::StatusOr<GroupOffsets> fetch_group_offsets(KafkaClient& client, const std::string& group) {
  absl::StatusOr<int16_t> version = client.pick_version<msg::OffsetFetchRequest>();
  if (!version.ok()) return version.status();
  if (*version < 2) {
    return absl::FailedPreconditionError(absl::StrCat("the broker speaks OffsetFetch v", *version,
                                                      " only; fetching all offsets needs v2"));
  }
  msg::OffsetFetchRequest request;
  request.group_id = group;                        // v2-7, with null topics: all
  request.groups.emplace_back().group_id = group;  // v8+, likewise
  auto response = client.call<msg::OffsetFetchRequest, msg::OffsetFetchResponse>(request, *version);
  if (!response.ok()) return response.status();
  GroupOffsets out;
  auto add = [&](const std::string& topic, int32_t partition, int64_t offset,
                 const std::optional<std::string>& metadata, int16_t error_code) {
    out.offsets[{topic, partition}] = CommittedOffset{offset, metadata, error_code};
  };
  if (*version < 8) {
    out.error_code = response->error_code;
    for (const auto& t : response->topics) {
      for (const auto& p : t.partitions) {
        add(t.name, p.partition_index, p.committed_offset, p.metadata, p.error_code);
      }
    }
    return out;
  }
  for (const auto& g : response->groups) {
    if (g.group_id != group) continue;
    out.error_code = g.error_code;
    for (const auto& t : g.topics) {
      for (const auto& p : t.partitions) {
        add(t.name, p.partition_index, p.committed_offset, p.metadata, p.error_code);
      }
    }
    return out;
  }
  return absl::DataLossError(
      absl::StrCat("OffsetFetch's answer does not mention group '", group, "'"));
}

absl::StatusOr<std::vector<GroupResult>> delete_groups(KafkaClient& client,
                                                       const std::vector<std::string>& groups) {
  absl::StatusOr<int16_t> version = client.pick_version<msg::DeleteGroupsRequest>();
  if (!version.ok()) return version.status();
  msg::DeleteGroupsRequest request;
  request.groups_names = groups;
  auto response =
      client.call<msg::DeleteGroupsRequest, msg::DeleteGroupsResponse>(request, *version);
  if (!response.ok()) return response.status();
  std::map<std::string, int16_t> by_group;
  for (const auto& r : response->results) by_group[r.group_id] = r.error_code;
  std::vector<GroupResult> out;
  for (const std::string& g : groups) {
    auto it = by_group.find(g);
    out.push_back({g, it == by_group.end() ? kUnknownServerError : it->second});
  }
  return out;
}

absl::StatusOr<std::map<TopicPartition, OffsetLookup>> list_offsets(
    KafkaClient& client, const std::vector<TopicPartition>& partitions, int64_t timestamp) {
  absl::StatusOr<int16_t> version = client.pick_version<msg::ListOffsetsRequest>();
  if (!version.ok()) return version.status();
  msg::ListOffsetsRequest request;
  request.replica_id = -1;
  request.isolation_level = 0;
  for (const auto& [topic, list] : by_topic(partitions)) {
    auto& t = request.topics.emplace_back();
    t.name = topic;
    for (int32_t p : list) {
      auto& part = t.partitions.emplace_back();
      part.partition_index = p;
      part.timestamp = timestamp;
      part.max_num_offsets = 1;
    }
  }
  auto response = client.call<msg::ListOffsetsRequest, msg::ListOffsetsResponse>(request, *version);
  if (!response.ok()) return response.status();
  std::map<TopicPartition, OffsetLookup> answered;
  for (const auto& t : response->topics) {
    for (const auto& p : t.partitions) {
      OffsetLookup lookup{p.error_code, p.offset};
      if (*version == 0) {
        lookup.offset = p.old_style_offsets.empty() ? -1 : p.old_style_offsets.front();
      }
      answered[{t.name, p.partition_index}] = lookup;
    }
  }
  std::map<TopicPartition, OffsetLookup> out;
  for (const TopicPartition& tp : partitions) {
    auto it = answered.find(tp);
    out[tp] = it == answered.end() ? OffsetLookup{kUnknownServerError, -1} : it->second;
  }
  return out;
}

absl::StatusOr<std::map<TopicPartition, int16_t>> commit_offsets(
    KafkaClient& client, const std::string& group,
    const std::map<TopicPartition, int64_t>& offsets) {
  absl::StatusOr<int16_t> version = client.pick_version<msg::OffsetCommitRequest>();
  if (!version.ok()) return version.status();
  msg::OffsetCommitRequest request;
  request.group_id = group;
  request.generation_id = -1;
  request.member_id = "";
  request.retention_time_ms = -1;
  for (const auto& [tp, offset] : offsets) {
    if (request.topics.empty() || request.topics.back().name != tp.topic) {
      request.topics.emplace_back().name = tp.topic;
    }
    auto& p = request.topics.back().partitions.emplace_back();
    p.partition_index = tp.partition;
    p.committed_offset = offset;
    p.committed_metadata = "";
  }
  auto response =
      client.call<msg::OffsetCommitRequest, msg::OffsetCommitResponse>(request, *version);
  if (!response.ok()) return response.status();
  std::map<TopicPartition, int16_t> answered;
  for (const auto& t : response->topics) {
    for (const auto& p : t.partitions) answered[{t.name, p.partition_index}] = p.error_code;
  }
  std::map<TopicPartition, int16_t> out;
  for (const auto& [tp, offset] : offsets) {
    auto it = answered.find(tp);
    out[tp] = it == answered.end() ? kUnknownServerError : it->second;
  }
  return out;
}

}  // namespace gregor::tools

// Runs the group verbs: finds each group's coordinator (waiting out a coordinator that is
// still loading), asks it and the partition leaders, and reports.
#include "tools/gregorctl/group_commands.h"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "protocol/error_codes.h"
#include "protocol/messages/metadata_request.h"
#include "protocol/messages/metadata_response.h"
#include "tools/gregorctl/group_admin.h"
#include "tools/gregorctl/group_errors.h"
#include "tools/gregorctl/group_output.h"
#include "tools/gregorctl/offset_reset.h"
#include "tools/gregorctl/topic_admin.h"
#include "tools/gregorctl/topic_errors.h"

namespace gregor::tools {

namespace {

namespace msg = protocol::msg;
using protocol::ErrorCode;

constexpr auto kRetryPause = std::chrono::milliseconds(200);
// A coordinator that is loading or still creating __consumer_offsets answers again within a
// few seconds; past this we report its error.
constexpr auto kMaxPatience = std::chrono::seconds(10);

void add_error(Report& report, const std::string& message) {
  absl::StrAppend(&report.err, "Error: ", message, "\n");
  report.exit_code = 1;
}

Report error_report(const absl::Status& status) {
  Report report;
  add_error(report, std::string(status.message()));
  return report;
}

// Group-level Kafka errors as statuses: Aborted for those worth asking again.
absl::Status group_status(const std::string& group, int16_t code) {
  std::string text = describe_group_error(group, code);
  return is_retriable_group_error(code) ? absl::AbortedError(text)
                                        : absl::FailedPreconditionError(text);
}

class GroupRunner {
 public:
  GroupRunner(const Command& cmd, BrokerConnections& connections)
      : cmd_(cmd), connections_(connections) {}

  Report list();
  Report describe();
  Report remove();
  Report reset();

 private:
  struct CoordinatorLink {
    Coordinator coordinator;
    KafkaClient* client = nullptr;
  };

  // Runs `attempt` again while it fails with Aborted (a retriable Kafka error), for a while.
  template <typename F>
  auto with_retries(F attempt) -> decltype(attempt()) {
    auto give_up = std::chrono::steady_clock::now() +
                   std::min<std::chrono::milliseconds>(kMaxPatience,
                                                       std::chrono::milliseconds(cmd_.timeout_ms));
    for (;;) {
      auto result = attempt();
      if (result.ok() || result.status().code() != absl::StatusCode::kAborted ||
          std::chrono::steady_clock::now() + kRetryPause > give_up) {
        return result;
      }
      std::this_thread::sleep_for(kRetryPause);
    }
  }

  absl::StatusOr<CoordinatorLink> coordinator(const std::string& group);
  absl::StatusOr<DescribedGroup> describe_one(const std::string& group);
  // ListOffsets at `timestamp` for each partition, asked of its leader. Partitions without a
  // known leader carry LEADER_NOT_AVAILABLE (UNKNOWN_TOPIC_OR_PARTITION for unknown topics).
  absl::StatusOr<std::map<TopicPartition, OffsetLookup>> lookup_offsets(
      const std::vector<TopicPartition>& partitions, const ClusterMetadata& metadata,
      int64_t timestamp);
  absl::StatusOr<ClusterMetadata> metadata_for(const std::set<std::string>& topics);
  absl::StatusOr<std::vector<BrokerInfo>> brokers();

  const Command& cmd_;
  BrokerConnections& connections_;
};

absl::StatusOr<GroupRunner::CoordinatorLink> GroupRunner::coordinator(const std::string& group) {
  absl::StatusOr<Coordinator> c = find_group_coordinator(connections_.bootstrap(), group);
  if (!c.ok()) return c.status();
  if (c->error_code != 0) return group_status(group, c->error_code);
  absl::StatusOr<KafkaClient*> client = connections_.to(c->address);
  if (!client.ok()) return client.status();
  return CoordinatorLink{*c, *client};
}

absl::StatusOr<ClusterMetadata> GroupRunner::metadata_for(const std::set<std::string>& topics) {
  if (topics.empty()) return ClusterMetadata{};
  return fetch_metadata(connections_.bootstrap(),
                        std::vector<std::string>(topics.begin(), topics.end()));
}

absl::StatusOr<std::vector<BrokerInfo>> GroupRunner::brokers() {
  KafkaClient& client = connections_.bootstrap();
  absl::StatusOr<int16_t> version = client.pick_version<msg::MetadataRequest>();
  if (!version.ok()) return version.status();
  msg::MetadataRequest request;
  request.topics.emplace();  // v1+: an empty list asks for no topics, only the brokers
  request.allow_auto_topic_creation = false;
  auto response = client.call<msg::MetadataRequest, msg::MetadataResponse>(request, *version);
  if (!response.ok()) return response.status();
  std::vector<BrokerInfo> out;
  for (const auto& b : response->brokers) out.push_back({b.node_id, b.host, b.port, b.rack});
  return out;
}

absl::StatusOr<std::map<TopicPartition, OffsetLookup>> GroupRunner::lookup_offsets(
    const std::vector<TopicPartition>& partitions, const ClusterMetadata& metadata,
    int64_t timestamp) {
  std::map<TopicPartition, OffsetLookup> out;
  std::map<int32_t, std::vector<TopicPartition>> by_leader;
  for (const TopicPartition& tp : partitions) {
    auto topic = std::find_if(metadata.topics.begin(), metadata.topics.end(),
                              [&](const TopicInfo& t) { return t.name == tp.topic; });
    int16_t missing = protocol::code(ErrorCode::kUnknownTopicOrPartition);
    if (topic != metadata.topics.end() && topic->error_code == 0) {
      for (const PartitionInfo& p : topic->partitions) {
        if (p.partition != tp.partition) continue;
        missing = protocol::code(ErrorCode::kLeaderNotAvailable);
        if (p.leader >= 0) {
          by_leader[p.leader].push_back(tp);
          missing = 0;
        }
      }
    }
    if (missing != 0) out[tp] = OffsetLookup{missing, -1};
  }
  for (const auto& [leader, list] : by_leader) {
    auto broker = std::find_if(metadata.brokers.begin(), metadata.brokers.end(),
                               [&](const BrokerInfo& b) { return b.node_id == leader; });
    if (broker == metadata.brokers.end() || broker->port <= 0 || broker->port > 65535) {
      for (const TopicPartition& tp : list) {
        out[tp] = OffsetLookup{protocol::code(ErrorCode::kLeaderNotAvailable), -1};
      }
      continue;
    }
    absl::StatusOr<KafkaClient*> client =
        connections_.to(HostPort{broker->host, static_cast<uint16_t>(broker->port)});
    if (!client.ok()) return client.status();
    auto answers = list_offsets(**client, list, timestamp);
    if (!answers.ok()) return answers.status();
    out.insert(answers->begin(), answers->end());
  }
  return out;
}

Report GroupRunner::list() {
  absl::StatusOr<std::vector<BrokerInfo>> all = brokers();
  if (!all.ok()) return error_report(all.status());
  // Each broker lists only the groups it coordinates, so ask every one.
  std::map<std::string, GroupListing> groups;
  for (const BrokerInfo& b : *all) {
    if (b.port <= 0 || b.port > 65535) continue;
    auto listed = with_retries([&]() -> absl::StatusOr<GroupList> {
      absl::StatusOr<KafkaClient*> client =
          connections_.to(HostPort{b.host, static_cast<uint16_t>(b.port)});
      if (!client.ok()) return client.status();
      absl::StatusOr<GroupList> answer = list_groups(**client, cmd_.states);
      if (answer.ok() && answer->error_code != 0) {
        std::string text = absl::StrCat("broker ", b.node_id, " cannot list groups (",
                                        error_name(answer->error_code), ")");
        if (is_retriable_group_error(answer->error_code)) return absl::AbortedError(text);
        return absl::FailedPreconditionError(text);
      }
      return answer;
    });
    if (!listed.ok()) return error_report(listed.status());
    for (GroupListing& g : listed->groups) {
      // The broker filters by state; checking again costs nothing and guards against one
      // that ignores the filter.
      if (!cmd_.states.empty() && g.state &&
          std::find(cmd_.states.begin(), cmd_.states.end(), *g.state) == cmd_.states.end()) {
        continue;
      }
      groups[g.group_id] = std::move(g);
    }
  }
  std::vector<GroupListing> sorted;
  for (auto& [id, g] : groups) sorted.push_back(std::move(g));
  return Report{render_group_list(sorted, cmd_.output), "", 0};
}

absl::StatusOr<DescribedGroup> GroupRunner::describe_one(const std::string& group) {
  auto found = with_retries([&]() -> absl::StatusOr<std::pair<DescribedGroup, GroupOffsets>> {
    absl::StatusOr<CoordinatorLink> link = coordinator(group);
    if (!link.ok()) return link.status();
    absl::StatusOr<GroupDescription> d = describe_group(*link->client, group);
    if (!d.ok()) return d.status();
    if (d->error_code != 0) return group_status(group, d->error_code);
    absl::StatusOr<GroupOffsets> offsets = fetch_group_offsets(*link->client, group);
    if (!offsets.ok()) return offsets.status();
    if (offsets->error_code != 0) return group_status(group, offsets->error_code);
    DescribedGroup described{*std::move(d), link->coordinator, {}};
    return std::make_pair(std::move(described), *std::move(offsets));
  });
  if (!found.ok()) return found.status();
  auto& [described, offsets] = *found;
  // Dead is how a group that does not exist describes itself.
  if (described.description.state == "Dead" && offsets.offsets.empty()) {
    return group_status(group, protocol::code(ErrorCode::kGroupIdNotFound));
  }
  std::set<std::string> topics;
  std::vector<TopicPartition> partitions;
  std::vector<GroupOffsetRow> rows =
      build_offset_rows(described.description, offsets, /*log_end=*/{});
  for (const GroupOffsetRow& row : rows) {
    if (!row.partition) continue;
    topics.insert(row.partition->topic);
    partitions.push_back(*row.partition);
  }
  absl::StatusOr<ClusterMetadata> metadata = metadata_for(topics);
  if (!metadata.ok()) return metadata.status();
  auto log_end = lookup_offsets(partitions, *metadata, kLatestTimestamp);
  if (!log_end.ok()) return log_end.status();
  described.rows = build_offset_rows(described.description, offsets, *log_end);
  return std::move(described);
}

Report GroupRunner::describe() {
  Report report;
  std::vector<DescribedGroup> described;
  for (const std::string& group : cmd_.groups) {
    absl::StatusOr<DescribedGroup> d = describe_one(group);
    if (!d.ok()) {
      add_error(report, std::string(d.status().message()));
      continue;
    }
    for (const GroupOffsetRow& row : d->rows) {
      if (row.error_code != 0 && row.partition) {
        add_error(report,
                  absl::StrCat("group '", group, "': ",
                               describe_partition_error(row.partition->topic,
                                                        row.partition->partition, row.error_code)));
      }
    }
    described.push_back(*std::move(d));
  }
  report.out = render_group_describe(described, cmd_.output);
  return report;
}

Report GroupRunner::remove() {
  Report report;
  std::map<std::string, GroupResult> results;
  // Each group is deleted by its own coordinator: batch the groups per coordinator.
  std::map<std::string, std::pair<KafkaClient*, std::vector<std::string>>> batches;
  for (const std::string& group : cmd_.groups) {
    absl::StatusOr<CoordinatorLink> link = with_retries([&] { return coordinator(group); });
    if (!link.ok()) {
      add_error(report, std::string(link.status().message()));
      continue;
    }
    auto& batch = batches[link->coordinator.address.to_string()];
    batch.first = link->client;
    batch.second.push_back(group);
  }
  for (auto& [address, batch] : batches) {
    absl::StatusOr<std::vector<GroupResult>> answers = delete_groups(*batch.first, batch.second);
    if (!answers.ok()) return error_report(answers.status());
    for (GroupResult& r : *answers) results[r.group_id] = std::move(r);
  }
  std::vector<GroupResult> ordered;
  for (const std::string& group : cmd_.groups) {
    auto it = results.find(group);
    if (it == results.end()) continue;  // its coordinator error is already reported
    if (it->second.error_code != 0) {
      add_error(report, describe_group_error(group, it->second.error_code));
    }
    ordered.push_back(it->second);
  }
  report.out = render_group_delete(ordered, cmd_.output);
  return report;
}

Report GroupRunner::reset() {
  assert(cmd_.groups.size() == 1);
  const std::string& group = cmd_.groups.front();
  struct Prepared {
    CoordinatorLink link;
    GroupOffsets offsets;
  };
  auto prepared = with_retries([&]() -> absl::StatusOr<Prepared> {
    absl::StatusOr<CoordinatorLink> link = coordinator(group);
    if (!link.ok()) return link.status();
    absl::StatusOr<GroupDescription> d = describe_group(*link->client, group);
    if (!d.ok()) return d.status();
    if (d->error_code != 0) return group_status(group, d->error_code);
    if (!group_is_inactive(d->state)) {
      return absl::FailedPreconditionError(active_group_message(group, d->state));
    }
    absl::StatusOr<GroupOffsets> offsets = fetch_group_offsets(*link->client, group);
    if (!offsets.ok()) return offsets.status();
    if (offsets->error_code != 0) return group_status(group, offsets->error_code);
    return Prepared{*link, *std::move(offsets)};
  });
  if (!prepared.ok()) return error_report(prepared.status());

  std::set<std::string> topics;
  for (const TopicSelection& s : cmd_.reset_topics) topics.insert(s.topic);
  if (cmd_.all_topics) {
    for (const auto& [tp, c] : prepared->offsets.offsets) topics.insert(tp.topic);
  }
  absl::StatusOr<ClusterMetadata> metadata = metadata_for(topics);
  if (!metadata.ok()) return error_report(metadata.status());
  auto partitions =
      partitions_to_reset(cmd_.reset_topics, cmd_.all_topics, prepared->offsets, *metadata);
  if (!partitions.ok()) return error_report(partitions.status());

  std::map<TopicPartition, ResetInputs> inputs;
  auto gather = [&](int64_t timestamp, auto store) -> absl::Status {
    auto answers = lookup_offsets(*partitions, *metadata, timestamp);
    if (!answers.ok()) return answers.status();
    for (const auto& [tp, lookup] : *answers) {
      // Earliest/latest must be known to clamp; a time with no record after it is not an error.
      if (lookup.error_code != 0) {
        return absl::FailedPreconditionError(
            describe_partition_error(tp.topic, tp.partition, lookup.error_code));
      }
      store(inputs[tp], lookup.offset);
    }
    return absl::OkStatus();
  };
  absl::Status gathered =
      gather(kEarliestTimestamp, [](ResetInputs& in, int64_t o) { in.earliest = o; });
  if (gathered.ok()) {
    gathered = gather(kLatestTimestamp, [](ResetInputs& in, int64_t o) { in.latest = o; });
  }
  if (gathered.ok() && cmd_.reset.kind == ResetKind::kToDatetime) {
    gathered = gather(cmd_.reset.value, [](ResetInputs& in, int64_t o) {
      if (o >= 0) in.at_time = o;
    });
  }
  if (!gathered.ok()) return error_report(gathered);
  for (auto& [tp, in] : inputs) {
    auto c = prepared->offsets.offsets.find(tp);
    if (c != prepared->offsets.offsets.end() && c->second.error_code == 0 &&
        c->second.offset >= 0) {
      in.committed = c->second.offset;
    }
  }
  auto plan = plan_reset(cmd_.reset, inputs);
  if (!plan.ok()) return error_report(plan.status());

  Report report;
  std::vector<ResetLine> lines;
  for (const auto& [tp, offset] : *plan) lines.push_back({tp, offset, 0});
  if (cmd_.execute && !plan->empty()) {
    auto committed = commit_offsets(*prepared->link.client, group, *plan);
    if (!committed.ok()) return error_report(committed.status());
    for (ResetLine& line : lines) {
      line.error_code = (*committed)[line.partition];
      if (line.error_code != 0) {
        add_error(report, absl::StrCat(
                              "cannot commit for group '", group, "': ",
                              describe_partition_error(line.partition.topic,
                                                       line.partition.partition, line.error_code)));
      }
    }
  }
  report.out = render_reset(group, lines, cmd_.execute, cmd_.output);
  if (!cmd_.execute && cmd_.output == OutputFormat::kTable) {
    report.err += "Dry run: nothing was committed; add --execute to apply.\n";
  }
  return report;
}

}  // namespace

Report run_group_command(const Command& cmd, BrokerConnections& connections) {
  GroupRunner runner(cmd, connections);
  switch (cmd.verb) {
    case Verb::kGroupList:
      return runner.list();
    case Verb::kGroupDescribe:
      return runner.describe();
    case Verb::kGroupDelete:
      return runner.remove();
    case Verb::kGroupOffsetsReset:
      return runner.reset();
    default:
      break;
  }
  assert(false && "run_group_command needs a group verb");
  return error_report(absl::InternalError("not a group verb"));
}

}  // namespace gregor::tools

// Runs gregorctl's topic verbs against a broker and decides what to print and the exit code;
// hands the group verbs to group_commands and the txn verbs to txn_commands.
#include "tools/gregorctl/commands.h"

#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "protocol/error_codes.h"
#include "tools/gregorctl/broker_connections.h"
#include "tools/gregorctl/group_commands.h"
#include "tools/gregorctl/kafka_client.h"
#include "tools/gregorctl/output.h"
#include "tools/gregorctl/topic_admin.h"
#include "tools/gregorctl/topic_errors.h"
#include "tools/gregorctl/txn_commands.h"

namespace gregor::tools {

namespace {

const int16_t kTopicAlreadyExists = protocol::code(protocol::ErrorCode::kTopicAlreadyExists);
const int16_t kLeaderNotAvailable = protocol::code(protocol::ErrorCode::kLeaderNotAvailable);

void add_error(Report& report, const std::string& message) {
  absl::StrAppend(&report.err, "Error: ", message, "\n");
  report.exit_code = 1;
}

Report error_report(const absl::Status& status) {
  Report report;
  add_error(report, std::string(status.message()));
  return report;
}

// Splits topics into those to print and those whose error goes to stderr.
std::vector<TopicInfo> printable_topics(const Command& cmd, const ClusterMetadata& metadata,
                                        Report& report) {
  std::vector<TopicInfo> ok;
  for (const TopicInfo& t : metadata.topics) {
    if (t.internal && cmd.exclude_internal) continue;
    if (t.error_code == 0) {
      ok.push_back(t);
    } else {
      add_error(report, describe_topic_error(TopicVerb::kDescribe, t.name, t.error_code, {}));
    }
  }
  return ok;
}

bool leader_pending(const ClusterMetadata& metadata) {
  for (const TopicInfo& t : metadata.topics) {
    if (t.error_code == kLeaderNotAvailable) return true;
  }
  return false;
}

// Metadata for list/describe. A topic created a moment ago may still answer
// LEADER_NOT_AVAILABLE; that passes quickly, so ask again for a short while before printing it.
absl::StatusOr<ClusterMetadata> settled_metadata(KafkaClient& client, const Command& cmd) {
  constexpr auto kPatience = std::chrono::seconds(3);
  constexpr auto kPause = std::chrono::milliseconds(100);
  auto give_up = std::chrono::steady_clock::now() + kPatience;
  for (;;) {
    absl::StatusOr<ClusterMetadata> metadata = fetch_metadata(client, cmd.topics);
    if (!metadata.ok() || !leader_pending(*metadata) ||
        std::chrono::steady_clock::now() + kPause > give_up) {
      return metadata;
    }
    std::this_thread::sleep_for(kPause);
  }
}

}  // namespace

Report report_create(const Command& cmd, const std::vector<TopicResult>& results) {
  Report report;
  std::vector<ResultLine> lines;
  for (const TopicResult& r : results) {
    ResultStatus status = cmd.validate_only ? ResultStatus::kValid : ResultStatus::kCreated;
    if (r.error_code == kTopicAlreadyExists && cmd.if_not_exists) {
      status = ResultStatus::kExists;
    } else if (r.error_code != 0) {
      status = ResultStatus::kError;
      add_error(report, describe_topic_error(TopicVerb::kCreate, r));
    }
    lines.push_back({r, status});
  }
  report.out = render_results(lines, cmd.output);
  return report;
}

Report report_delete(const Command& cmd, const std::vector<TopicResult>& results) {
  Report report;
  std::vector<ResultLine> lines;
  for (const TopicResult& r : results) {
    ResultStatus status = ResultStatus::kDeleted;
    if (r.error_code != 0) {
      status = ResultStatus::kError;
      add_error(report, describe_topic_error(TopicVerb::kDelete, r));
    }
    lines.push_back({r, status});
  }
  report.out = render_results(lines, cmd.output);
  return report;
}

Report report_list(const Command& cmd, const ClusterMetadata& metadata) {
  Report report;
  report.out = render_topic_list(printable_topics(cmd, metadata, report), cmd.output);
  return report;
}

Report report_describe(const Command& cmd, const ClusterMetadata& metadata) {
  Report report;
  report.out = render_topic_describe(printable_topics(cmd, metadata, report), cmd.output);
  return report;
}

Report run_command(const Command& cmd) {
  ClientOptions options;
  options.connect_timeout = std::chrono::milliseconds(cmd.timeout_ms);
  // The broker gets cmd.timeout_ms to finish; the socket waits a little longer for its answer.
  options.request_timeout = std::chrono::milliseconds(cmd.timeout_ms + 5'000);
  absl::StatusOr<std::unique_ptr<KafkaClient>> client =
      KafkaClient::connect(cmd.bootstrap_server, options);
  if (!client.ok()) return error_report(client.status());

  switch (cmd.verb) {
    case Verb::kGroupList:
    case Verb::kGroupDescribe:
    case Verb::kGroupDelete:
    case Verb::kGroupOffsetsReset: {
      BrokerConnections connections(*std::move(client), options);
      return run_group_command(cmd, connections);
    }
    case Verb::kTxnList:
    case Verb::kTxnDescribe:
    case Verb::kTxnProducers:
    case Verb::kTxnAbort: {
      BrokerConnections connections(*std::move(client), options);
      int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
      return run_txn_command(cmd, connections, now_ms);
    }
    case Verb::kTopicCreate: {
      std::vector<NewTopic> topics;
      for (const std::string& name : cmd.topics) {
        topics.push_back({name, cmd.partitions, cmd.replication_factor, cmd.configs});
      }
      auto results = create_topics(**client, topics, cmd.validate_only, cmd.timeout_ms);
      if (!results.ok()) return error_report(results.status());
      return report_create(cmd, *results);
    }
    case Verb::kTopicDelete: {
      auto results = delete_topics(**client, cmd.topics, cmd.timeout_ms);
      if (!results.ok()) return error_report(results.status());
      return report_delete(cmd, *results);
    }
    case Verb::kTopicList: {
      auto metadata = settled_metadata(**client, cmd);
      if (!metadata.ok()) return error_report(metadata.status());
      return report_list(cmd, *metadata);
    }
    case Verb::kTopicDescribe: {
      auto metadata = settled_metadata(**client, cmd);
      if (!metadata.ok()) return error_report(metadata.status());
      return report_describe(cmd, *metadata);
    }
  }
  return error_report(absl::InternalError("unknown verb"));
}

}  // namespace gregor::tools

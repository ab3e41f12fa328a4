// Runs the txn verbs: finds coordinators and partition leaders, asks them, and reports.
#include "tools/gregorctl/txn_commands.h"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "protocol/error_codes.h"
#include "protocol/messages/metadata_request.h"
#include "protocol/messages/metadata_response.h"
#include "tools/gregorctl/group_admin.h"
#include "tools/gregorctl/group_errors.h"
#include "tools/gregorctl/topic_admin.h"
#include "tools/gregorctl/topic_errors.h"
#include "tools/gregorctl/txn_admin.h"
#include "tools/gregorctl/txn_output.h"

namespace gregor::tools {

namespace {

namespace msg = protocol::msg;
using protocol::ErrorCode;

constexpr int8_t kTransactionKeyType = 1;  // FindCoordinator: a transactional id
constexpr auto kRetryPause = std::chrono::milliseconds(200);
// A coordinator still loading __transaction_state answers within a few seconds; past this we
// report its error.
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

std::string describe_txn_error(const std::string& id, int16_t code) {
  std::string quoted = absl::StrCat("'", id, "'");
  std::string text;
  switch (static_cast<ErrorCode>(code)) {
    case ErrorCode::kTransactionalIdNotFound:
      text = absl::StrCat("transactional id ", quoted, " does not exist");
      break;
    case ErrorCode::kTransactionalIdAuthorizationFailed:
      text = absl::StrCat("not authorized to describe transactional id ", quoted);
      break;
    case ErrorCode::kCoordinatorNotAvailable:
    case ErrorCode::kNotCoordinator:
    case ErrorCode::kCoordinatorLoadInProgress:
      text = absl::StrCat("the coordinator of transactional id ", quoted, " is not ready");
      break;
    default:
      text = absl::StrCat("transactional id ", quoted);
  }
  return absl::StrCat(text, " (", error_name(code), ")");
}

// Kafka errors as statuses: Aborted for those worth asking again.
absl::Status txn_status(const std::string& id, int16_t code) {
  std::string text = describe_txn_error(id, code);
  return is_retriable_group_error(code) ? absl::AbortedError(text)
                                        : absl::FailedPreconditionError(text);
}

class TxnRunner {
 public:
  TxnRunner(const Command& cmd, BrokerConnections& connections, int64_t now_ms)
      : cmd_(cmd), connections_(connections), now_ms_(now_ms) {}

  Report list();
  Report describe();
  Report producers();
  Report abort();

 private:
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

  absl::StatusOr<std::vector<BrokerInfo>> brokers();
  // The connection to the leader of cmd_.partition; FailedPrecondition naming the topic or
  // partition error when there is none.
  absl::StatusOr<KafkaClient*> leader();
  absl::StatusOr<DescribedTxn> describe_one(const std::string& id);

  const Command& cmd_;
  BrokerConnections& connections_;
  const int64_t now_ms_;
};

absl::StatusOr<std::vector<BrokerInfo>> TxnRunner::brokers() {
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

absl::StatusOr<KafkaClient*> TxnRunner::leader() {
  const TopicPartition& tp = cmd_.partition;
  absl::StatusOr<ClusterMetadata> metadata = fetch_metadata(connections_.bootstrap(), {tp.topic});
  if (!metadata.ok()) return metadata.status();
  auto topic = std::find_if(metadata->topics.begin(), metadata->topics.end(),
                            [&](const TopicInfo& t) { return t.name == tp.topic; });
  if (topic == metadata->topics.end()) {
    return absl::DataLossError(
        absl::StrCat("Metadata's answer does not mention topic '", tp.topic, "'"));
  }
  if (topic->error_code != 0) {
    return absl::FailedPreconditionError(
        describe_topic_error(TopicVerb::kDescribe, tp.topic, topic->error_code, {}));
  }
  auto partition_error = [&](ErrorCode code) {
    return absl::FailedPreconditionError(
        describe_partition_error(tp.topic, tp.partition, protocol::code(code)));
  };
  auto partition =
      std::find_if(topic->partitions.begin(), topic->partitions.end(),
                   [&](const PartitionInfo& p) { return p.partition == tp.partition; });
  if (partition == topic->partitions.end()) {
    return partition_error(ErrorCode::kUnknownTopicOrPartition);
  }
  auto broker = std::find_if(metadata->brokers.begin(), metadata->brokers.end(),
                             [&](const BrokerInfo& b) { return b.node_id == partition->leader; });
  if (partition->leader < 0 || broker == metadata->brokers.end() || broker->port <= 0 ||
      broker->port > 65535) {
    return partition_error(ErrorCode::kLeaderNotAvailable);
  }
  return connections_.to(HostPort{broker->host, static_cast<uint16_t>(broker->port)});
}

Report TxnRunner::list() {
  absl::StatusOr<std::vector<BrokerInfo>> all = brokers();
  if (!all.ok()) return error_report(all.status());
  Report report;
  // Each broker lists only the transactions it coordinates, so ask every one.
  std::map<std::string, ListedTxn> txns;
  for (const BrokerInfo& b : *all) {
    if (b.port <= 0 || b.port > 65535) continue;
    auto listed = with_retries([&]() -> absl::StatusOr<TxnList> {
      absl::StatusOr<KafkaClient*> client =
          connections_.to(HostPort{b.host, static_cast<uint16_t>(b.port)});
      if (!client.ok()) return client.status();
      absl::StatusOr<TxnList> answer =
          list_transactions(**client, cmd_.states, cmd_.producer_ids, cmd_.duration_ms);
      if (answer.ok() && answer->error_code != 0) {
        std::string text = absl::StrCat("broker ", b.node_id, " cannot list transactions (",
                                        error_name(answer->error_code), ")");
        if (is_retriable_group_error(answer->error_code)) return absl::AbortedError(text);
        return absl::FailedPreconditionError(text);
      }
      return answer;
    });
    if (!listed.ok()) return error_report(listed.status());
    for (const std::string& state : listed->unknown_state_filters) {
      add_error(report, absl::StrCat("broker ", b.node_id, " does not know transaction state '",
                                     state, "'"));
    }
    for (TxnListing& t : listed->transactions) {
      std::string id = t.transactional_id;
      txns[id] = ListedTxn{std::move(t), b.node_id};
    }
  }
  std::vector<ListedTxn> sorted;
  for (auto& [id, t] : txns) sorted.push_back(std::move(t));
  report.out = render_txn_list(sorted, cmd_.output);
  return report;
}

absl::StatusOr<DescribedTxn> TxnRunner::describe_one(const std::string& id) {
  return with_retries([&]() -> absl::StatusOr<DescribedTxn> {
    absl::StatusOr<Coordinator> c =
        find_coordinator(connections_.bootstrap(), id, kTransactionKeyType);
    if (!c.ok()) return c.status();
    if (c->error_code != 0) return txn_status(id, c->error_code);
    absl::StatusOr<KafkaClient*> client = connections_.to(c->address);
    if (!client.ok()) return client.status();
    absl::StatusOr<TxnDescription> d = describe_transaction(**client, id);
    if (!d.ok()) return d.status();
    if (d->error_code != 0) return txn_status(id, d->error_code);
    return DescribedTxn{*std::move(d), *c};
  });
}

Report TxnRunner::describe() {
  Report report;
  std::vector<DescribedTxn> described;
  for (const std::string& id : cmd_.transactional_ids) {
    absl::StatusOr<DescribedTxn> d = describe_one(id);
    if (!d.ok()) {
      add_error(report, std::string(d.status().message()));
      continue;
    }
    described.push_back(*std::move(d));
  }
  report.out = render_txn_describe(described, now_ms_, cmd_.output);
  return report;
}

Report TxnRunner::producers() {
  absl::StatusOr<KafkaClient*> client = leader();
  if (!client.ok()) return error_report(client.status());
  absl::StatusOr<PartitionProducers> answer = describe_producers(**client, cmd_.partition);
  if (!answer.ok()) return error_report(answer.status());
  if (answer->error_code != 0) {
    return error_report(absl::FailedPreconditionError(describe_partition_error(
        cmd_.partition.topic, cmd_.partition.partition, answer->error_code)));
  }
  std::sort(
      answer->producers.begin(), answer->producers.end(),
      [](const ProducerState& a, const ProducerState& b) { return a.producer_id < b.producer_id; });
  return Report{render_producers(cmd_.partition, answer->producers, cmd_.output), "", 0};
}

Report TxnRunner::abort() {
  absl::StatusOr<KafkaClient*> client = leader();
  if (!client.ok()) return error_report(client.status());
  const TopicPartition& tp = cmd_.partition;
  AbortOutcome outcome;
  outcome.marker.partition = tp;
  outcome.marker.commit = false;
  if (cmd_.start_offset) {
    // The partition's producer state names the producer whose open transaction starts there.
    absl::StatusOr<PartitionProducers> answer = describe_producers(**client, tp);
    if (!answer.ok()) return error_report(answer.status());
    if (answer->error_code != 0) {
      return error_report(absl::FailedPreconditionError(
          absl::StrCat("cannot read the producer state: ",
                       describe_partition_error(tp.topic, tp.partition, answer->error_code))));
    }
    auto found = std::find_if(
        answer->producers.begin(), answer->producers.end(),
        [&](const ProducerState& p) { return p.current_txn_start_offset == *cmd_.start_offset; });
    if (found == answer->producers.end()) {
      return error_report(absl::NotFoundError(absl::StrCat("no open transaction starts at offset ",
                                                           *cmd_.start_offset, " in partition '",
                                                           tp.topic, "-", tp.partition, "'")));
    }
    outcome.start_offset = cmd_.start_offset;
    outcome.marker.producer_id = found->producer_id;
    outcome.marker.producer_epoch = static_cast<int16_t>(found->producer_epoch);
    // -1 (no marker yet): 0 is at most any real coordinator epoch.
    outcome.marker.coordinator_epoch = std::max<int32_t>(found->coordinator_epoch, 0);
  } else {
    outcome.marker.producer_id = cmd_.producer_id;
    outcome.marker.producer_epoch = cmd_.producer_epoch;
    outcome.marker.coordinator_epoch = cmd_.coordinator_epoch;
  }
  absl::StatusOr<int16_t> error = write_txn_marker(**client, outcome.marker);
  if (!error.ok()) return error_report(error.status());
  if (*error != 0) {
    return error_report(absl::FailedPreconditionError(
        absl::StrCat("cannot abort the transaction of producer ", outcome.marker.producer_id, ": ",
                     describe_partition_error(tp.topic, tp.partition, *error))));
  }
  return Report{render_abort(outcome, cmd_.output), "", 0};
}

}  // namespace

Report run_txn_command(const Command& cmd, BrokerConnections& connections, int64_t now_ms) {
  TxnRunner runner(cmd, connections, now_ms);
  switch (cmd.verb) {
    case Verb::kTxnList:
      return runner.list();
    case Verb::kTxnDescribe:
      return runner.describe();
    case Verb::kTxnProducers:
      return runner.producers();
    case Verb::kTxnAbort:
      return runner.abort();
    default:
      break;
  }
  assert(false && "run_txn_command needs a txn verb");
  return error_report(absl::InternalError("not a txn verb"));
}

}  // namespace gregor::tools

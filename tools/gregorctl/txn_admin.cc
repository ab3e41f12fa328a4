// Builds the transaction requests for the negotiated version and maps the responses back onto
// transactional ids and partitions.
#include "tools/gregorctl/txn_admin.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "protocol/error_codes.h"
#include "protocol/messages/describe_producers_request.h"
#include "protocol/messages/describe_producers_response.h"
#include "protocol/messages/describe_transactions_request.h"
#include "protocol/messages/describe_transactions_response.h"
#include "protocol/messages/list_transactions_request.h"
#include "protocol/messages/list_transactions_response.h"
#include "protocol/messages/write_txn_markers_request.h"
#include "protocol/messages/write_txn_markers_response.h"

namespace gregor::tools {

namespace msg = protocol::msg;

namespace {

const int16_t kUnknownServerError = protocol::code(protocol::ErrorCode::kUnknownServerError);

std::string partition_name(const TopicPartition& tp) {
  return absl::StrCat(tp.topic, "-", tp.partition);
}

}  // namespace

absl::StatusOr<TxnList> list_transactions(KafkaClient& client,
                                          const std::vector<std::string>& states,
                                          const std::vector<int64_t>& producer_ids,
                                          std::optional<int64_t> min_duration_ms) {
  absl::StatusOr<int16_t> version = client.pick_version<msg::ListTransactionsRequest>();
  if (!version.ok()) return version.status();
  if (min_duration_ms && *version < 1) {
    return absl::FailedPreconditionError(absl::StrCat("the broker speaks ListTransactions v",
                                                      *version, " only; --duration-ms needs v1"));
  }
  msg::ListTransactionsRequest request;
  request.state_filters = states;
  request.producer_id_filters = producer_ids;
  request.duration_filter = min_duration_ms.value_or(-1);
  auto response =
      client.call<msg::ListTransactionsRequest, msg::ListTransactionsResponse>(request, *version);
  if (!response.ok()) return response.status();
  TxnList out;
  out.error_code = response->error_code;
  out.unknown_state_filters = response->unknown_state_filters;
  for (const auto& t : response->transaction_states) {
    out.transactions.push_back({t.transactional_id, t.producer_id, t.transaction_state});
  }
  return out;
}

absl::StatusOr<TxnDescription> describe_transaction(KafkaClient& client,
                                                    const std::string& transactional_id) {
  absl::StatusOr<int16_t> version = client.pick_version<msg::DescribeTransactionsRequest>();
  if (!version.ok()) return version.status();
  msg::DescribeTransactionsRequest request;
  request.transactional_ids = {transactional_id};
  auto response = client.call<msg::DescribeTransactionsRequest, msg::DescribeTransactionsResponse>(
      request, *version);
  if (!response.ok()) return response.status();
  for (const auto& t : response->transaction_states) {
    if (t.transactional_id != transactional_id) continue;
    TxnDescription d;
    d.error_code = t.error_code;
    d.transactional_id = t.transactional_id;
    d.state = t.transaction_state;
    d.timeout_ms = t.transaction_timeout_ms;
    d.start_time_ms = t.transaction_start_time_ms;
    d.producer_id = t.producer_id;
    d.producer_epoch = t.producer_epoch;
    for (const auto& topic : t.topics) {
      for (int32_t p : topic.partitions) d.partitions.push_back({topic.topic, p});
    }
    std::sort(d.partitions.begin(), d.partitions.end());
    return d;
  }
  return absl::DataLossError(absl::StrCat(
      "DescribeTransactions' answer does not mention transactional id '", transactional_id, "'"));
}

absl::StatusOr<PartitionProducers> describe_producers(KafkaClient& client,
                                                      const TopicPartition& partition) {
  absl::StatusOr<int16_t> version = client.pick_version<msg::DescribeProducersRequest>();
  if (!version.ok()) return version.status();
  msg::DescribeProducersRequest request;
  auto& topic = request.topics.emplace_back();
  topic.name = partition.topic;
  topic.partition_indexes = {partition.partition};
  auto response =
      client.call<msg::DescribeProducersRequest, msg::DescribeProducersResponse>(request, *version);
  if (!response.ok()) return response.status();
  for (const auto& t : response->topics) {
    if (t.name != partition.topic) continue;
    for (const auto& p : t.partitions) {
      if (p.partition_index != partition.partition) continue;
      PartitionProducers out;
      out.error_code = p.error_code;
      out.error_message = p.error_message.value_or("");
      for (const auto& s : p.active_producers) {
        out.producers.push_back({s.producer_id, s.producer_epoch, s.last_sequence, s.last_timestamp,
                                 s.coordinator_epoch, s.current_txn_start_offset});
      }
      return out;
    }
  }
  return absl::DataLossError(absl::StrCat("DescribeProducers' answer does not mention partition '",
                                          partition_name(partition), "'"));
}

absl::StatusOr<int16_t> write_txn_marker(KafkaClient& client, const TxnMarker& marker) {
  absl::StatusOr<int16_t> version = client.pick_version<msg::WriteTxnMarkersRequest>();
  if (!version.ok()) return version.status();
  msg::WriteTxnMarkersRequest request;
  auto& m = request.markers.emplace_back();
  m.producer_id = marker.producer_id;
  m.producer_epoch = marker.producer_epoch;
  m.transaction_result = marker.commit;
  m.coordinator_epoch = marker.coordinator_epoch;
  auto& topic = m.topics.emplace_back();
  topic.name = marker.partition.topic;
  topic.partition_indexes = {marker.partition.partition};
  auto response =
      client.call<msg::WriteTxnMarkersRequest, msg::WriteTxnMarkersResponse>(request, *version);
  if (!response.ok()) return response.status();
  for (const auto& r : response->markers) {
    if (r.producer_id != marker.producer_id) continue;
    for (const auto& t : r.topics) {
      if (t.name != marker.partition.topic) continue;
      for (const auto& p : t.partitions) {
        if (p.partition_index == marker.partition.partition) return p.error_code;
      }
    }
  }
  return kUnknownServerError;
}

}  // namespace gregor::tools

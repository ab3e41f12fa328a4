// __transaction_state key and value codecs over the generated TransactionLog{Key,Value}.
#include "coordinator/txn_records.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "protocol/messages/transaction_log_key.h"
#include "protocol/messages/transaction_log_value.h"
#include "protocol/wire.h"

namespace gregor::coordinator {
namespace {
constexpr int16_t kKeyVersion = 0;
constexpr int16_t kValueVersion = 0;
constexpr int16_t kMaxValueVersion = 1;
}  // namespace

std::string encode_txn_key(std::string_view transactional_id) {
  protocol::msg::TransactionLogKey k;
  k.transactional_id = std::string(transactional_id);
  protocol::OutputBuffer out;
  protocol::Writer w(out);
  w.int16(kKeyVersion);
  k.encode(w, 0);
  return out.flatten();
}

absl::StatusOr<std::string> decode_txn_key(std::string_view bytes) {
  protocol::Reader r(bytes);
  const int16_t version = r.int16();
  if (!r.ok()) return absl::InvalidArgumentError("__transaction_state key: truncated");
  if (version != kKeyVersion) {
    return absl::InvalidArgumentError(
        absl::StrCat("__transaction_state key: unknown key version ", version));
  }
  protocol::msg::TransactionLogKey k;
  k.decode(r, 0);
  if (!r.ok()) return absl::InvalidArgumentError("__transaction_state key: malformed");
  return std::move(k.transactional_id);
}

std::string encode_txn_value(const TxnMetadata& md) {
  protocol::msg::TransactionLogValue v;
  v.producer_id = md.producer_id;
  v.producer_epoch = md.producer_epoch;
  v.transaction_timeout_ms = md.timeout_ms;
  v.transaction_status = static_cast<int8_t>(md.state);
  // Kafka writes null partitions for Empty and an array otherwise.
  if (md.state != TxnState::kEmpty) {
    std::map<std::string, std::vector<int32_t>> by_topic;
    for (const TopicPartition& tp : md.partitions) by_topic[tp.topic].push_back(tp.partition);
    auto& parts = v.transaction_partitions.emplace();
    for (auto& [topic, ids] : by_topic) {
      auto& p = parts.emplace_back();
      p.topic = topic;
      p.partition_ids = std::move(ids);
    }
  }
  v.transaction_last_update_timestamp_ms = md.last_update_ms;
  v.transaction_start_timestamp_ms = md.start_ms;
  protocol::OutputBuffer out;
  protocol::Writer w(out);
  w.int16(kValueVersion);
  v.encode(w, kValueVersion);
  return out.flatten();
}

absl::StatusOr<TxnMetadata> decode_txn_value(std::string_view transactional_id,
                                             std::string_view bytes) {
  protocol::Reader r(bytes);
  const int16_t version = r.int16();
  if (!r.ok() || version < 0 || version > kMaxValueVersion) {
    return absl::InvalidArgumentError("__transaction_state value of " +
                                      std::string(transactional_id) + ": unknown version");
  }
  protocol::msg::TransactionLogValue v;
  v.decode(r, version);
  if (!r.ok() || v.transaction_status < 0 ||
      v.transaction_status > static_cast<int8_t>(TxnState::kPrepareEpochFence)) {
    return absl::InvalidArgumentError("__transaction_state value of " +
                                      std::string(transactional_id) + ": malformed");
  }
  TxnMetadata md;
  md.transactional_id = std::string(transactional_id);
  md.producer_id = v.producer_id;
  md.producer_epoch = v.producer_epoch;
  md.timeout_ms = v.transaction_timeout_ms;
  md.state = static_cast<TxnState>(v.transaction_status);
  if (v.transaction_partitions) {
    for (const auto& p : *v.transaction_partitions) {
      for (int32_t id : p.partition_ids) md.partitions.insert(TopicPartition{p.topic, id});
    }
  }
  md.last_update_ms = v.transaction_last_update_timestamp_ms;
  md.start_ms = v.transaction_start_timestamp_ms;
  return md;
}

}  // namespace gregor::coordinator

// Table and JSON renderers for transaction listings and descriptions, producer states and
// aborts.
#include "tools/gregorctl/txn_output.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace gregor::tools {

namespace {

// -1 is how the protocol says "none" for these fields.
std::string dash_if_none(int64_t v) {
  return v < 0 ? "-" : absl::StrCat(v);
}

std::string json_null_if_none(int64_t v) {
  return v < 0 ? "null" : absl::StrCat(v);
}

std::string partition_name(const TopicPartition& tp) {
  return absl::StrCat(tp.topic, "-", tp.partition);
}

}  // namespace

std::string render_txn_list(const std::vector<ListedTxn>& txns, OutputFormat format) {
  if (format == OutputFormat::kJson) {
    std::vector<std::string> items;
    for (const ListedTxn& t : txns) {
      items.push_back(absl::StrCat("{\"transactional_id\":", json_quote(t.listing.transactional_id),
                                   ",\"coordinator\":", t.coordinator,
                                   ",\"producer_id\":", t.listing.producer_id,
                                   ",\"state\":", json_quote(t.listing.state), "}"));
    }
    return absl::StrCat("{\"transactions\":[", absl::StrJoin(items, ","), "]}\n");
  }
  std::vector<std::vector<std::string>> rows;
  for (const ListedTxn& t : txns) {
    rows.push_back({t.listing.transactional_id, absl::StrCat(t.coordinator),
                    absl::StrCat(t.listing.producer_id), t.listing.state});
  }
  return format_table({"TRANSACTIONAL-ID", "COORDINATOR", "PRODUCER-ID", "STATE"}, rows);
}

std::string render_txn_describe(const std::vector<DescribedTxn>& txns, int64_t now_ms,
                                OutputFormat format) {
  auto duration = [now_ms](const TxnDescription& d) -> int64_t {
    return d.start_time_ms < 0 ? -1 : std::max<int64_t>(now_ms - d.start_time_ms, 0);
  };
  if (format == OutputFormat::kJson) {
    std::vector<std::string> items;
    for (const DescribedTxn& t : txns) {
      const TxnDescription& d = t.description;
      std::vector<std::string> partitions;
      for (const TopicPartition& tp : d.partitions) {
        partitions.push_back(absl::StrCat("{\"topic\":", json_quote(tp.topic),
                                          ",\"partition\":", tp.partition, "}"));
      }
      items.push_back(absl::StrCat(
          "{\"transactional_id\":", json_quote(d.transactional_id),
          ",\"coordinator\":{\"node_id\":", t.coordinator.node_id, ",\"host\":",
          json_quote(t.coordinator.address.host), ",\"port\":", t.coordinator.address.port,
          "},\"producer_id\":", d.producer_id, ",\"producer_epoch\":", d.producer_epoch,
          ",\"state\":", json_quote(d.state), ",\"timeout_ms\":", d.timeout_ms,
          ",\"start_time_ms\":", json_null_if_none(d.start_time_ms),
          ",\"duration_ms\":", json_null_if_none(duration(d)), ",\"partitions\":[",
          absl::StrJoin(partitions, ","), "]}"));
    }
    return absl::StrCat("{\"transactions\":[", absl::StrJoin(items, ","), "]}\n");
  }
  std::vector<std::vector<std::string>> rows;
  for (const DescribedTxn& t : txns) {
    const TxnDescription& d = t.description;
    std::vector<std::string> partitions;
    for (const TopicPartition& tp : d.partitions) partitions.push_back(partition_name(tp));
    rows.push_back({absl::StrCat(t.coordinator.node_id), d.transactional_id,
                    absl::StrCat(d.producer_id), absl::StrCat(d.producer_epoch), d.state,
                    absl::StrCat(d.timeout_ms), dash_if_none(d.start_time_ms),
                    dash_if_none(duration(d)),
                    partitions.empty() ? "-" : absl::StrJoin(partitions, ",")});
  }
  return format_table({"COORDINATOR", "TRANSACTIONAL-ID", "PRODUCER-ID", "PRODUCER-EPOCH", "STATE",
                       "TIMEOUT-MS", "START-TIME-MS", "DURATION-MS", "PARTITIONS"},
                      rows);
}

std::string render_producers(const TopicPartition& partition,
                             const std::vector<ProducerState>& producers, OutputFormat format) {
  if (format == OutputFormat::kJson) {
    std::vector<std::string> items;
    for (const ProducerState& p : producers) {
      items.push_back(absl::StrCat(
          "{\"producer_id\":", p.producer_id, ",\"producer_epoch\":", p.producer_epoch,
          ",\"coordinator_epoch\":", json_null_if_none(p.coordinator_epoch),
          ",\"last_sequence\":", p.last_sequence, ",\"last_timestamp\":", p.last_timestamp,
          ",\"current_txn_start_offset\":", json_null_if_none(p.current_txn_start_offset), "}"));
    }
    return absl::StrCat("{\"topic\":", json_quote(partition.topic),
                        ",\"partition\":", partition.partition, ",\"producers\":[",
                        absl::StrJoin(items, ","), "]}\n");
  }
  std::vector<std::vector<std::string>> rows;
  for (const ProducerState& p : producers) {
    rows.push_back({absl::StrCat(p.producer_id), absl::StrCat(p.producer_epoch),
                    dash_if_none(p.coordinator_epoch), absl::StrCat(p.last_sequence),
                    absl::StrCat(p.last_timestamp), dash_if_none(p.current_txn_start_offset)});
  }
  return format_table({"PRODUCER-ID", "PRODUCER-EPOCH", "COORDINATOR-EPOCH", "LAST-SEQUENCE",
                       "LAST-TIMESTAMP", "TXN-START-OFFSET"},
                      rows);
}

std::string render_abort(const AbortOutcome& outcome, OutputFormat format) {
  const TxnMarker& m = outcome.marker;
  if (format == OutputFormat::kJson) {
    return absl::StrCat(
        "{\"topic\":", json_quote(m.partition.topic), ",\"partition\":", m.partition.partition,
        ",\"producer_id\":", m.producer_id, ",\"producer_epoch\":", m.producer_epoch,
        ",\"coordinator_epoch\":", m.coordinator_epoch,
        ",\"start_offset\":", outcome.start_offset ? absl::StrCat(*outcome.start_offset) : "null",
        ",\"status\":\"aborted\"}\n");
  }
  std::string from =
      outcome.start_offset ? absl::StrCat(" starting at offset ", *outcome.start_offset) : "";
  return absl::StrCat("Aborted the transaction of producer ", m.producer_id, " (epoch ",
                      m.producer_epoch, ")", from, " in partition ", partition_name(m.partition),
                      ".\n");
}

}  // namespace gregor::tools

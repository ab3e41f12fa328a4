// gregorctl's command line: verbs and options in the shape of kafka-topics.sh and
// kafka-consumer-groups.sh, parsed into a plain Command so that main() only dispatches and tests
// need no broker.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/gregorctl/group_model.h"
#include "tools/gregorctl/output.h"

namespace gregor::tools {

enum class Verb {
  kTopicCreate,
  kTopicList,
  kTopicDescribe,
  kTopicDelete,
  kGroupList,
  kGroupDescribe,
  kGroupDelete,
  kGroupOffsetsReset,
  kTxnList,
  kTxnDescribe,
  kTxnProducers,
  kTxnAbort,
};

// `group offsets reset`: where to move the committed offsets (exactly one is chosen).
enum class ResetKind { kToEarliest, kToLatest, kToOffset, kToDatetime, kShiftBy };

struct ResetSpec {
  ResetKind kind = ResetKind::kToEarliest;
  int64_t value = 0;  // kToOffset: the offset; kToDatetime: ms since the epoch; kShiftBy: delta
};

// `--topic T` (every partition: `partitions` empty) or `--topic T:0,2`.
struct TopicSelection {
  std::string topic;
  std::vector<int32_t> partitions;
};

struct Command {
  Verb verb = Verb::kTopicList;
  std::string bootstrap_server = "localhost:9092";
  OutputFormat output = OutputFormat::kTable;
  int32_t timeout_ms = 30000;       // per request, and for connecting
  std::vector<std::string> topics;  // create: exactly one; describe: any; delete: at least one
  int32_t partitions = -1;          // -1: the broker's default (CreateTopics v4+)
  int16_t replication_factor = -1;  // -1: the broker's default (CreateTopics v4+)
  std::vector<std::pair<std::string, std::string>> configs;  // --config k=v, in order given
  bool if_not_exists = false;
  bool validate_only = false;
  bool exclude_internal = false;  // list/describe: leave out __consumer_offsets and the like

  // group verbs
  std::vector<std::string> groups;           // describe/delete: at least one; reset: exactly one
  std::vector<std::string> states;           // group list --state: keep only groups in these states
  std::vector<TopicSelection> reset_topics;  // reset: --topic, in the order given
  bool all_topics = false;                   // reset: every partition the group has committed
  ResetSpec reset;
  bool execute = false;  // reset: commit the plan instead of only printing it

  // txn verbs (states above is also `txn list --state`)
  std::vector<int64_t> producer_ids;           // list: keep only these producers
  std::optional<int64_t> duration_ms;          // list: only transactions running longer than this
  std::vector<std::string> transactional_ids;  // describe: at least one
  TopicPartition partition;                    // producers/abort: --topic and --partition
  // abort: the transaction is named either by its first offset in the partition (the producer
  // is found with DescribeProducers) or by producer id, epoch and coordinator epoch.
  std::optional<int64_t> start_offset;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t coordinator_epoch = 0;
};

// Either a command to run, or what to print and the exit code (help: 0, usage errors: nonzero).
struct ParseOutcome {
  std::optional<Command> command;
  int exit_code = 0;
  std::string out;  // for stdout (help text)
  std::string err;  // for stderr (usage errors)
};

ParseOutcome parse_command_line(int argc, const char* const* argv);

// "k=v" -> {k, v}; the value may contain '=' and may be empty, the key may not.
absl::StatusOr<std::pair<std::string, std::string>> parse_config_entry(std::string_view entry);

// "T" or "T:0,1,2" (kafka-consumer-groups.sh's --topic). Partitions are >= 0.
absl::StatusOr<TopicSelection> parse_topic_selection(std::string_view entry);

// ISO 8601 date-time "YYYY-MM-DDTHH:MM[:SS[.fff]]" with an optional zone ("Z", "+HH:MM",
// "+HHMM", "-HH:MM") -> milliseconds since the epoch. Without a zone the time is UTC.
absl::StatusOr<int64_t> parse_datetime_ms(std::string_view text);

}  // namespace gregor::tools

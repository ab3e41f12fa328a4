// CLI11 setup for gregorctl: global options, the `topic`, `group` and `txn` command groups and
// their verbs, and the small value parsers they need (k=v, T:P,P, ISO 8601 times).
#include "tools/gregorctl/cli_args.h"

#include <algorithm>
#include <sstream>

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace gregor::tools {

absl::StatusOr<std::pair<std::string, std::string>> parse_config_entry(std::string_view entry) {
  size_t eq = entry.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--config expects key=value, got '", std::string(entry), "'"));
  }
  return std::make_pair(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
}

absl::StatusOr<TopicSelection> parse_topic_selection(std::string_view entry) {
  auto bad = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("--topic expects TOPIC or TOPIC:P[,P...], got '", std::string(entry), "'"));
  };
  TopicSelection selection;
  size_t colon = entry.rfind(':');
  selection.topic = std::string(entry.substr(0, colon));
  if (selection.topic.empty()) return bad();
  if (colon == std::string_view::npos) return selection;
  for (absl::string_view p : absl::StrSplit(std::string(entry.substr(colon + 1)), ',')) {
    int32_t partition = 0;
    if (!absl::SimpleAtoi(p, &partition) || partition < 0) return bad();
    selection.partitions.push_back(partition);
  }
  return selection;
}

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// Reads exactly `n` digits at `pos`; -1 when they are not all there.
int64_t digits(std::string_view s, size_t& pos, size_t n) {
  if (pos + n > s.size()) return -1;
  int64_t v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  pos += n;
  return v;
}

bool take(std::string_view s, size_t& pos, char c) {
  if (pos < s.size() && s[pos] == c) {
    ++pos;
    return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<int64_t> parse_datetime_ms(std::string_view text) {
  auto bad = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("--to-datetime expects YYYY-MM-DDTHH:MM[:SS[.fff]][Z|+HH:MM], got '",
                     std::string(text), "'"));
  };
  size_t pos = 0;
  int64_t year = digits(text, pos, 4);
  if (year < 0 || !take(text, pos, '-')) return bad();
  int64_t month = digits(text, pos, 2);
  if (month < 1 || month > 12 || !take(text, pos, '-')) return bad();
  int64_t day = digits(text, pos, 2);
  static constexpr int kDaysIn[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (day < 1 || day > kDaysIn[month - 1] || (month == 2 && day == 29 && !leap)) return bad();
  if (!take(text, pos, 'T')) return bad();
  int64_t hour = digits(text, pos, 2);
  if (hour < 0 || hour > 23 || !take(text, pos, ':')) return bad();
  int64_t minute = digits(text, pos, 2);
  if (minute < 0 || minute > 59) return bad();
  int64_t second = 0;
  int64_t millis = 0;
  if (take(text, pos, ':')) {
    second = digits(text, pos, 2);
    if (second < 0 || second > 59) return bad();
    if (take(text, pos, '.')) {
      // 1-3 fraction digits are milliseconds; finer ones are dropped.
      size_t start = pos;
      while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
      if (pos == start) return bad();
      std::string fraction(text.substr(start, std::min<size_t>(pos - start, 3)));
      fraction.resize(3, '0');
      millis = std::stoi(fraction);
    }
  }
  int64_t offset_minutes = 0;
  if (take(text, pos, 'Z')) {
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int64_t sign = text[pos++] == '-' ? -1 : 1;
    int64_t zh = digits(text, pos, 2);
    take(text, pos, ':');
    int64_t zm = digits(text, pos, 2);
    if (zh < 0 || zh > 18 || zm < 0 || zm > 59) return bad();
    offset_minutes = sign * (zh * 60 + zm);
  }
  if (pos != text.size()) return bad();
  int64_t seconds = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second -
                    offset_minutes * 60;
  return seconds * 1000 + millis;
}

ParseOutcome parse_command_line(int argc, const char* const* argv) {
  Command cmd;
  std::string output = "table";
  std::vector<std::string> config_entries;
  int partitions = -1;
  int replication_factor = -1;

  CLI::App app{"gregorctl: administer a Gregor (or any Kafka) cluster over the Kafka protocol",
               "gregorctl"};
  app.require_subcommand(1);
  app.fallthrough();  // global options may also follow the verb
  app.add_option("--bootstrap-server,-b", cmd.bootstrap_server,
                 "host:port[,host:port...] to connect to (tried in order)")
      ->capture_default_str();
  app.add_option("--output,-o", output, "output format")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  app.add_option("--timeout-ms", cmd.timeout_ms, "timeout for connecting and for each request")
      ->check(CLI::Range(1, 3'600'000))
      ->capture_default_str();

  CLI::App* topic = app.add_subcommand("topic", "create, list, describe and delete topics");
  topic->require_subcommand(1);
  topic->fallthrough();

  CLI::App* create = topic->add_subcommand("create", "create a topic");
  create->add_option("name", cmd.topics, "topic name")->required()->expected(1);
  // Counts are range-checked by the broker, not here, so that a bad value is answered with
  // Kafka's own error (INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR) as with kafka-topics.sh.
  create->add_option("--partitions,-p", partitions, "number of partitions (default: broker's)");
  create
      ->add_option("--replication-factor,-r", replication_factor,
                   "replicas per partition (default: broker's)")
      ->check(CLI::Range(-32768, 32767));
  create->add_option("--config,-c", config_entries, "topic config key=value (repeatable)");
  create->add_flag("--if-not-exists", cmd.if_not_exists, "succeed if the topic already exists");
  create->add_flag("--validate-only", cmd.validate_only, "check the request, create nothing");

  CLI::App* list = topic->add_subcommand("list", "list topics");
  list->add_flag("--exclude-internal", cmd.exclude_internal, "leave out internal topics");
  CLI::App* describe = topic->add_subcommand("describe", "describe topics (all when none given)");
  describe->add_option("names", cmd.topics, "topic names");
  describe->add_flag("--exclude-internal", cmd.exclude_internal, "leave out internal topics");
  CLI::App* del = topic->add_subcommand("delete", "delete topics");
  del->add_option("names", cmd.topics, "topic names")->required();

  CLI::App* group =
      app.add_subcommand("group", "list, describe and delete consumer groups; reset offsets");
  group->require_subcommand(1);
  group->fallthrough();
  CLI::App* group_list = group->add_subcommand("list", "list groups");
  group_list->add_option("--state", cmd.states, "only groups in this state (repeatable)")
      ->allow_extra_args(false);
  CLI::App* group_describe =
      group->add_subcommand("describe", "members, committed offsets and lag of groups");
  group_describe->add_option("groups", cmd.groups, "group ids")->required();
  CLI::App* group_delete = group->add_subcommand("delete", "delete groups (must be empty)");
  group_delete->add_option("groups", cmd.groups, "group ids")->required();
  CLI::App* offsets = group->add_subcommand("offsets", "committed offsets of a group");
  offsets->require_subcommand(1);
  offsets->fallthrough();
  CLI::App* reset = offsets->add_subcommand(
      "reset", "move a group's committed offsets (dry run unless --execute)");
  std::vector<std::string> topic_entries;
  bool to_earliest = false;
  bool to_latest = false;
  bool dry_run = false;
  std::optional<int64_t> to_offset;
  std::optional<std::string> to_datetime;
  std::optional<int64_t> shift_by;
  reset->add_option("group", cmd.groups, "group id")->required()->expected(1);
  // One value per --topic, so that a group id after it is not taken for a second topic.
  reset->add_option("--topic", topic_entries, "TOPIC or TOPIC:P[,P...] (repeatable)")
      ->allow_extra_args(false);
  reset->add_flag("--all-topics", cmd.all_topics, "every partition the group has offsets for");
  reset->add_flag("--to-earliest", to_earliest, "the log start offset");
  reset->add_flag("--to-latest", to_latest, "the log end offset");
  reset->add_option("--to-offset", to_offset, "this offset (clamped to the log's range)");
  reset->add_option("--to-datetime", to_datetime,
                    "first offset at or after YYYY-MM-DDTHH:MM:SS[.fff][Z|+HH:MM]");
  reset->add_option("--shift-by", shift_by, "committed offset plus N (clamped)");
  reset->add_flag("--execute", cmd.execute, "commit the new offsets");
  reset->add_flag("--dry-run", dry_run, "only print the plan (the default)");

  CLI::App* txn = app.add_subcommand(
      "txn", "list and describe transactions, describe producers, abort hanging transactions");
  txn->require_subcommand(1);
  txn->fallthrough();
  CLI::App* txn_list = txn->add_subcommand("list", "list transactions");
  txn_list->add_option("--state", cmd.states, "only transactions in this state (repeatable)")
      ->allow_extra_args(false);
  txn_list->add_option("--producer-id", cmd.producer_ids, "only this producer (repeatable)")
      ->allow_extra_args(false);
  std::optional<int64_t> duration_ms;
  txn_list->add_option("--duration-ms", duration_ms,
                       "only transactions running longer than this (needs ListTransactions v1)");
  CLI::App* txn_describe =
      txn->add_subcommand("describe", "state, producer and partitions of transactional ids");
  txn_describe->add_option("transactional_ids", cmd.transactional_ids, "transactional ids")
      ->required();
  CLI::App* txn_producers = txn->add_subcommand("producers", "producers with state on a partition");
  CLI::App* txn_abort = txn->add_subcommand(
      "abort", "abort a hanging transaction by writing an ABORT marker to one partition");
  for (CLI::App* sub : {txn_producers, txn_abort}) {
    sub->add_option("--topic", cmd.partition.topic, "topic name")->required();
    sub->add_option("--partition", cmd.partition.partition, "partition number")
        ->required()
        ->check(CLI::NonNegativeNumber);
  }
  std::optional<int64_t> abort_producer_id;
  std::optional<int16_t> abort_producer_epoch;
  std::optional<int32_t> abort_coordinator_epoch;
  txn_abort->add_option("--start-offset", cmd.start_offset,
                        "first offset of the transaction in the partition");
  txn_abort->add_option("--producer-id", abort_producer_id, "producer id (without --start-offset)");
  txn_abort->add_option("--producer-epoch", abort_producer_epoch,
                        "producer epoch (with --producer-id)");
  txn_abort->add_option("--coordinator-epoch", abort_coordinator_epoch,
                        "coordinator epoch (with --producer-id)");

  ParseOutcome outcome;
  std::ostringstream out;
  std::ostringstream err;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Help exits 0; every usage error exits 1, like the broker errors, whatever CLI11's code.
    outcome.exit_code = app.exit(e, out, err) == 0 ? 0 : 1;
    outcome.out = out.str();
    outcome.err = err.str();
    return outcome;
  }

  auto usage_error = [&](const std::string& message) {
    outcome.exit_code = 1;
    outcome.err = absl::StrCat("Error: ", message, "\n");
    return outcome;
  };
  if (create->parsed()) {
    cmd.verb = Verb::kTopicCreate;
  } else if (list->parsed()) {
    cmd.verb = Verb::kTopicList;
  } else if (describe->parsed()) {
    cmd.verb = Verb::kTopicDescribe;
  } else if (del->parsed()) {
    cmd.verb = Verb::kTopicDelete;
  } else if (group_list->parsed()) {
    cmd.verb = Verb::kGroupList;
  } else if (group_describe->parsed()) {
    cmd.verb = Verb::kGroupDescribe;
  } else if (group_delete->parsed()) {
    cmd.verb = Verb::kGroupDelete;
  } else if (txn_list->parsed()) {
    cmd.verb = Verb::kTxnList;
    cmd.duration_ms = duration_ms;
  } else if (txn_describe->parsed()) {
    cmd.verb = Verb::kTxnDescribe;
  } else if (txn_producers->parsed()) {
    cmd.verb = Verb::kTxnProducers;
  } else if (txn_abort->parsed()) {
    cmd.verb = Verb::kTxnAbort;
    bool by_producer = abort_producer_id || abort_producer_epoch || abort_coordinator_epoch;
    if (cmd.start_offset && by_producer) {
      return usage_error(
          "give either --start-offset or --producer-id, --producer-epoch and "
          "--coordinator-epoch, not both");
    }
    if (!cmd.start_offset && !abort_producer_id) {
      return usage_error(
          "the transaction to abort must be identified either with --start-offset or with "
          "--producer-id, --producer-epoch and --coordinator-epoch");
    }
    if (cmd.start_offset && *cmd.start_offset < 0) {
      return usage_error("--start-offset must not be negative");
    }
    if (abort_producer_id) {
      if (!abort_producer_epoch) return usage_error("missing --producer-epoch");
      if (!abort_coordinator_epoch) return usage_error("missing --coordinator-epoch");
      cmd.producer_id = *abort_producer_id;
      cmd.producer_epoch = *abort_producer_epoch;
      // A producer that never had a marker written shows coordinator epoch -1; 0 is at most
      // any real coordinator epoch, so the marker is accepted (kafka-transactions.sh does so).
      cmd.coordinator_epoch = std::max<int32_t>(*abort_coordinator_epoch, 0);
    }
  } else {
    cmd.verb = Verb::kGroupOffsetsReset;
    int chosen = int{to_earliest} + int{to_latest} + int{to_offset.has_value()} +
                 int{to_datetime.has_value()} + int{shift_by.has_value()};
    if (chosen != 1) {
      return usage_error(
          "give exactly one of --to-earliest, --to-latest, --to-offset, --to-datetime, "
          "--shift-by");
    }
    if (topic_entries.empty() == !cmd.all_topics) {
      return usage_error("give either --topic (repeatable) or --all-topics");
    }
    if (dry_run && cmd.execute) return usage_error("--dry-run and --execute exclude each other");
    if (to_latest) {
      cmd.reset.kind = ResetKind::kToLatest;
    } else if (to_offset) {
      cmd.reset = {ResetKind::kToOffset, *to_offset};
      if (*to_offset < 0) return usage_error("--to-offset must not be negative");
    } else if (to_datetime) {
      auto ms = parse_datetime_ms(*to_datetime);
      if (!ms.ok()) return usage_error(std::string(ms.status().message()));
      cmd.reset = {ResetKind::kToDatetime, *ms};
    } else if (shift_by) {
      cmd.reset = {ResetKind::kShiftBy, *shift_by};
    }
    for (const std::string& entry : topic_entries) {
      auto selection = parse_topic_selection(entry);
      if (!selection.ok()) return usage_error(std::string(selection.status().message()));
      cmd.reset_topics.push_back(*std::move(selection));
    }
  }
  cmd.output = output == "json" ? OutputFormat::kJson : OutputFormat::kTable;
  cmd.partitions = partitions;
  cmd.replication_factor = static_cast<int16_t>(replication_factor);
  for (const std::string& entry : config_entries) {
    auto kv = parse_config_entry(entry);
    if (!kv.ok()) return usage_error(std::string(kv.status().message()));
    cmd.configs.push_back(*std::move(kv));
  }
  outcome.command = std::move(cmd);
  return outcome;
}

}  // namespace gregor::tools

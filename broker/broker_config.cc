// Parsing and validation of server.properties keys into BrokerConfig.
#include "broker/broker_config.h"

#include <charconv>
#include <functional>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "fmt/format.h"

namespace gregor::broker {
namespace {

absl::Status invalid(const std::string& key, const std::string& value, std::string_view why) {
  return absl::InvalidArgumentError(
      fmt::format("invalid value '{}' for configuration '{}': {}", value, key, why));
}

absl::StatusOr<int64_t> parse_int(const std::string& key, const std::string& value, int64_t min,
                                  int64_t max) {
  std::string v(absl::StripAsciiWhitespace(value));
  int64_t out = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || ptr != v.data() + v.size() || v.empty()) {
    return invalid(key, value, "not an integer");
  }
  if (out < min || out > max) {
    return invalid(key, value, fmt::format("must be between {} and {}", min, max));
  }
  return out;
}

absl::StatusOr<bool> parse_bool(const std::string& key, const std::string& value) {
  std::string v = absl::AsciiStrToLower(absl::StripAsciiWhitespace(value));
  if (v == "true") return true;
  if (v == "false") return false;
  return invalid(key, value, "must be true or false");
}

constexpr int64_t kMax64 = std::numeric_limits<int64_t>::max();
constexpr int64_t kMax32 = std::numeric_limits<int32_t>::max();

}  // namespace

absl::StatusOr<std::map<std::string, std::string>> parse_properties(const std::string& text) {
  std::map<std::string, std::string> out;
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  std::string logical;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string line(absl::StripAsciiWhitespace(lines[i]));
    if (logical.empty() && (line.empty() || line[0] == '#' || line[0] == '!')) continue;
    if (!line.empty() && line.back() == '\\') {
      logical.append(line.substr(0, line.size() - 1));
      continue;
    }
    logical.append(line);
    size_t sep = logical.find_first_of("=:");
    if (sep == std::string::npos) {
      return absl::InvalidArgumentError(
          fmt::format("line {}: expected key=value, got '{}'", i + 1, logical));
    }
    std::string key(absl::StripAsciiWhitespace(logical.substr(0, sep)));
    std::string value(absl::StripAsciiWhitespace(logical.substr(sep + 1)));
    out[key] = value;
    logical.clear();
  }
  return out;
}

absl::StatusOr<std::vector<Listener>> parse_listeners(const std::string& value) {
  std::vector<Listener> out;
  for (absl::string_view piece : absl::StrSplit(value, ',', absl::SkipWhitespace())) {
    std::string item(absl::StripAsciiWhitespace(piece));
    size_t scheme = item.find("://");
    if (scheme == std::string::npos) {
      return absl::InvalidArgumentError(fmt::format("listener '{}' is not NAME://host:port", item));
    }
    Listener l;
    l.name = item.substr(0, scheme);
    std::string hostport = item.substr(scheme + 3);
    size_t colon = hostport.rfind(':');
    if (colon == std::string::npos) {
      return absl::InvalidArgumentError(fmt::format("listener '{}' has no port", item));
    }
    l.host = hostport.substr(0, colon);
    if (l.host.size() >= 2 && l.host.front() == '[' && l.host.back() == ']') {
      l.host = l.host.substr(1, l.host.size() - 2);
    }
    std::string port = hostport.substr(colon + 1);
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), l.port);
    if (ec != std::errc() || ptr != port.data() + port.size() || l.port < 0 || l.port > 65535) {
      return absl::InvalidArgumentError(fmt::format("listener '{}' has an invalid port", item));
    }
    if (l.name != "PLAINTEXT") {
      return absl::InvalidArgumentError(
          fmt::format("listener '{}': only PLAINTEXT listeners are supported", item));
    }
    out.push_back(std::move(l));
  }
  if (out.empty()) return absl::InvalidArgumentError("no listener given");
  return out;
}

absl::StatusOr<BrokerConfig> make_broker_config(const std::map<std::string, std::string>& props) {
  BrokerConfig c;
  c.listeners = {Listener{"PLAINTEXT", "localhost", 9092}};
  c.log_dirs = {"./data"};
  absl::Status status;

  // Each known key maps to a setter; anything else is recorded as unknown.
  using Setter = std::function<absl::Status(const std::string& key, const std::string& value)>;
  auto int_into = [](auto* field, int64_t min, int64_t max) -> Setter {
    return [field, min, max](const std::string& k, const std::string& v) -> absl::Status {
      absl::StatusOr<int64_t> n = parse_int(k, v, min, max);
      if (!n.ok()) return n.status();
      *field = static_cast<std::remove_pointer_t<decltype(field)>>(*n);
      return absl::OkStatus();
    };
  };
  auto bool_into = [](bool* field) -> Setter {
    return [field](const std::string& k, const std::string& v) -> absl::Status {
      absl::StatusOr<bool> b = parse_bool(k, v);
      if (!b.ok()) return b.status();
      *field = *b;
      return absl::OkStatus();
    };
  };
  auto scaled_ms = [](int64_t* field, int64_t unit_ms) -> Setter {
    return [field, unit_ms](const std::string& k, const std::string& v) -> absl::Status {
      absl::StatusOr<int64_t> n = parse_int(k, v, -1, kMax64 / unit_ms);
      if (!n.ok()) return n.status();
      *field = *n < 0 ? -1 : *n * unit_ms;
      return absl::OkStatus();
    };
  };
  storage::LogConfig& d = c.log_defaults;
  const std::map<std::string, Setter> setters = {
      {"node.id", int_into(&c.node_id, 0, kMax32)},
      {"broker.id", int_into(&c.node_id, 0, kMax32)},
      {"listeners",
       [&c](const std::string& k, const std::string& v) -> absl::Status {
         absl::StatusOr<std::vector<Listener>> l = parse_listeners(v);
         if (!l.ok()) return invalid(k, v, std::string(l.status().message()));
         c.listeners = *l;
         return absl::OkStatus();
       }},
      {"advertised.listeners",
       [&c](const std::string& k, const std::string& v) -> absl::Status {
         absl::StatusOr<std::vector<Listener>> l = parse_listeners(v);
         if (!l.ok()) return invalid(k, v, std::string(l.status().message()));
         c.advertised_listeners = *l;
         return absl::OkStatus();
       }},
      {"log.dirs",
       [&c](const std::string& k, const std::string& v) -> absl::Status {
         c.log_dirs = absl::StrSplit(v, ',', absl::SkipWhitespace());
         if (c.log_dirs.empty()) return invalid(k, v, "needs at least one directory");
         return absl::OkStatus();
       }},
      {"log.dir",
       [&c](const std::string& k, const std::string& v) -> absl::Status {
         if (v.empty()) return invalid(k, v, "empty");
         c.log_dirs = {v};
         return absl::OkStatus();
       }},
      {"num.partitions", int_into(&c.num_partitions, 1, 100000)},
      {"default.replication.factor", int_into(&c.default_replication_factor, 1, 1)},
      {"auto.create.topics.enable", bool_into(&c.auto_create_topics_enable)},
      {"delete.topic.enable", bool_into(&c.delete_topic_enable)},
      {"socket.request.max.bytes", int_into(&c.socket_request_max_bytes, 1024, kMax32)},
      {"num.network.threads", int_into(&c.io_threads, 1, 256)},
      {"num.io.threads", int_into(&c.io_threads, 1, 256)},
      {"log.retention.check.interval.ms", int_into(&c.log_retention_check_interval_ms, 1, kMax64)},
      {"log.flush.scheduler.interval.ms", int_into(&c.log_flush_scheduler_interval_ms, 1, kMax64)},
      {"gregor.acks.all.fsync", bool_into(&c.acks_all_fsync)},
      {"cluster.id",
       [&c](const std::string& k, const std::string& v) -> absl::Status {
         if (v.empty()) return invalid(k, v, "empty");
         c.cluster_id = v;
         return absl::OkStatus();
       }},
      {"group.min.session.timeout.ms", int_into(&c.groups.group_min_session_timeout_ms, 0, kMax32)},
      {"group.max.session.timeout.ms", int_into(&c.groups.group_max_session_timeout_ms, 0, kMax32)},
      {"group.initial.rebalance.delay.ms",
       int_into(&c.groups.group_initial_rebalance_delay_ms, 0, kMax32)},
      {"group.max.size", int_into(&c.groups.group_max_size, 1, kMax32)},
      {"offset.metadata.max.bytes", int_into(&c.groups.offset_metadata_max_bytes, 0, kMax32)},
      {"offsets.retention.minutes", scaled_ms(&c.groups.offsets_retention_ms, 60 * 1000)},
      {"offsets.retention.check.interval.ms",
       int_into(&c.groups.offsets_retention_check_interval_ms, 1, kMax64)},
      {"offsets.topic.num.partitions", int_into(&c.groups.offsets_topic_num_partitions, 1, 1000)},
      {"offsets.topic.replication.factor", int_into(&c.offsets_topic_replication_factor, 1, 1)},
      {"offsets.topic.segment.bytes", int_into(&c.offsets_topic_segment_bytes, 14, kMax32)},
      {"transaction.partition.verification.enable",
       bool_into(&c.transaction_partition_verification)},
      {"transaction.max.timeout.ms", int_into(&c.transactions.max_timeout_ms, 1, kMax32)},
      {"transactional.id.expiration.ms", int_into(&c.transactions.id_expiration_ms, 1, kMax32)},
      {"transaction.state.log.num.partitions",
       int_into(&c.transactions.state_log_partitions, 1, 1000)},
      {"transaction.state.log.segment.bytes",
       int_into(&c.transaction_state_log_segment_bytes, 14, kMax32)},
      {"transaction.state.log.replication.factor",
       int_into(&c.offsets_topic_replication_factor, 1, 1)},
      {"transaction.abort.timed.out.transaction.cleanup.interval.ms",
       int_into(&c.transactions.abort_check_interval_ms, 1, kMax32)},
      {"transaction.remove.expired.transaction.cleanup.interval.ms",
       int_into(&c.transactions.expire_check_interval_ms, 1, kMax32)},
      {"producer.id.expiration.ms", int_into(&d.producer_id_expiration_ms, 1, kMax32)},
      {"gregor.log.page.cache.window.bytes", int_into(&d.page_cache_window_bytes, 0, kMax64)},
      {"log.segment.bytes", int_into(&d.segment_bytes, 14, kMax32)},
      {"log.roll.ms", int_into(&d.segment_ms, 1, kMax64)},
      {"log.roll.hours", scaled_ms(&d.segment_ms, 3600 * 1000)},
      {"log.index.size.max.bytes", int_into(&d.segment_index_bytes, 4096, kMax32)},
      {"log.index.interval.bytes", int_into(&d.index_interval_bytes, 0, kMax32)},
      {"log.retention.ms", int_into(&d.retention_ms, -1, kMax64)},
      {"log.retention.minutes", scaled_ms(&d.retention_ms, 60 * 1000)},
      {"log.retention.hours", scaled_ms(&d.retention_ms, 3600 * 1000)},
      {"log.retention.bytes", int_into(&d.retention_bytes, -1, kMax64)},
      {"log.flush.interval.messages", int_into(&d.flush_interval_messages, 1, kMax64)},
      {"log.flush.interval.ms", int_into(&d.flush_interval_ms, 0, kMax64)},
      {"message.max.bytes", int_into(&d.max_message_bytes, 0, kMax32)},
      {"log.segment.delete.delay.ms", int_into(&d.file_delete_delay_ms, 0, kMax64)},
      {"log.cleaner.enable", bool_into(&d.cleaner_enable)},
      {"log.cleaner.backoff.ms", int_into(&d.cleaner_backoff_ms, 0, kMax64)},
      {"log.cleaner.delete.retention.ms", int_into(&d.delete_retention_ms, 0, kMax64)},
      {"log.cleaner.min.compaction.lag.ms", int_into(&d.min_compaction_lag_ms, 0, kMax64)},
      {"log.cleaner.max.compaction.lag.ms", int_into(&d.max_compaction_lag_ms, 1, kMax64)},
      {"log.cleaner.min.cleanable.ratio",
       [&d](const std::string& k, const std::string& v) -> absl::Status {
         double r = 0;
         auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), r);
         if (v.empty() || ec != std::errc() || ptr != v.data() + v.size() || r < 0 || r > 1) {
           return invalid(k, v, "must be a number between 0 and 1");
         }
         d.min_cleanable_dirty_ratio = r;
         return absl::OkStatus();
       }},
      {"log.message.timestamp.type",
       [&d](const std::string& k, const std::string& v) -> absl::Status {
         if (v != "CreateTime" && v != "LogAppendTime") {
           return invalid(k, v, "must be CreateTime or LogAppendTime");
         }
         d.log_append_time = v == "LogAppendTime";
         return absl::OkStatus();
       }},
  };

  // Kafka resolves log.retention.ms over .minutes over .hours, and log.roll.ms over .hours,
  // whatever their order in the file: apply the coarser units first.
  static const std::vector<std::string> kCoarseFirst = {
      "log.retention.hours", "log.retention.minutes", "log.roll.hours", "log.dir"};
  std::vector<std::pair<std::string, std::string>> ordered;
  for (const std::string& key : kCoarseFirst) {
    auto it = props.find(key);
    if (it != props.end()) ordered.emplace_back(*it);
  }
  for (const auto& kv : props) {
    if (std::find(kCoarseFirst.begin(), kCoarseFirst.end(), kv.first) == kCoarseFirst.end()) {
      ordered.emplace_back(kv);
    }
  }
  for (const auto& [key, value] : ordered) {
    auto it = setters.find(key);
    if (it == setters.end()) {
      c.unknown_keys.push_back(key);
      continue;
    }
    if (absl::Status s = it->second(key, value); !s.ok()) return s;
  }

  if (c.groups.group_min_session_timeout_ms > c.groups.group_max_session_timeout_ms) {
    return absl::InvalidArgumentError(
        "invalid value for configuration 'group.min.session.timeout.ms': it is larger than "
        "'group.max.session.timeout.ms'");
  }
  if (c.advertised_listeners.empty()) c.advertised_listeners = c.listeners;
  for (Listener& l : c.advertised_listeners) {
    if (l.host.empty() || l.host == "0.0.0.0" || l.host == "::") l.host = "localhost";
  }
  if (c.advertised_listeners.size() != c.listeners.size()) {
    return absl::InvalidArgumentError(
        "invalid value for configuration 'advertised.listeners': it must name the same "
        "listeners as 'listeners'");
  }
  return c;
}

}  // namespace gregor::broker

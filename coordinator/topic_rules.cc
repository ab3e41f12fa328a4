// Topic name and topic config validation, and their translation into storage::LogConfig.
#include "coordinator/topic_rules.h"

#include <charconv>
#include <functional>
#include <limits>

#include "fmt/format.h"

namespace gregor::coordinator {
namespace {

bool parse_long(const std::string& v, int64_t min, int64_t* out) {
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), *out);
  return !v.empty() && ec == std::errc() && ptr == v.data() + v.size() && *out >= min;
}

struct ConfigRule {
  int64_t min = 0;  // for numeric keys
  bool numeric = true;
  std::vector<std::string> allowed;  // for enumerated keys
};

// Topic-level keys Gregor understands, with Kafka's lower bounds. Keys that only matter for
// later features (replication) are validated now so topics keep them.
const std::map<std::string, ConfigRule>& rules() {
  static const std::map<std::string, ConfigRule> r = {
      {"retention.ms", {-1, true, {}}},
      {"retention.bytes", {-1, true, {}}},
      {"segment.bytes", {14, true, {}}},
      {"segment.ms", {1, true, {}}},
      {"segment.index.bytes", {4, true, {}}},
      {"index.interval.bytes", {0, true, {}}},
      {"max.message.bytes", {0, true, {}}},
      {"flush.messages", {1, true, {}}},
      {"flush.ms", {0, true, {}}},
      {"file.delete.delay.ms", {0, true, {}}},
      {"delete.retention.ms", {0, true, {}}},
      {"min.compaction.lag.ms", {0, true, {}}},
      {"max.compaction.lag.ms", {1, true, {}}},
      {"min.insync.replicas", {1, true, {}}},
      {"message.timestamp.difference.max.ms", {0, true, {}}},
      {"min.cleanable.dirty.ratio", {0, false, {}}},
      {"cleanup.policy", {0, false, {"delete", "compact", "compact,delete", "delete,compact"}}},
      {"compression.type",
       {0, false, {"uncompressed", "producer", "gzip", "snappy", "lz4", "zstd"}}},
      {"message.timestamp.type", {0, false, {"CreateTime", "LogAppendTime"}}},
      {"unclean.leader.election.enable", {0, false, {"true", "false"}}},
      {"preallocate", {0, false, {"true", "false"}}},
  };
  return r;
}

}  // namespace

absl::Status validate_topic_name(std::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("Topic name is illegal, it can't be empty");
  if (name == "." || name == "..") {
    return absl::InvalidArgumentError("Topic name cannot be \".\" or \"..\"");
  }
  if (name.size() > kMaxTopicNameLength) {
    return absl::InvalidArgumentError(fmt::format(
        "Topic name is illegal, it can't be longer than {} characters", kMaxTopicNameLength));
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) {
      return absl::InvalidArgumentError(
          fmt::format("Topic name \"{}\" is illegal, it contains a character other than ASCII "
                      "alphanumerics, '.', '_' and '-'",
                      name));
    }
  }
  return absl::OkStatus();
}

absl::Status validate_topic_config(const std::string& key, const std::string& value) {
  auto it = rules().find(key);
  if (it == rules().end()) {
    return absl::InvalidArgumentError(fmt::format("Unknown topic config name: {}", key));
  }
  const ConfigRule& rule = it->second;
  if (!rule.allowed.empty()) {
    for (const std::string& a : rule.allowed) {
      if (a == value) return absl::OkStatus();
    }
    return absl::InvalidArgumentError(
        fmt::format("Invalid value {} for configuration {}", value, key));
  }
  if (!rule.numeric) {
    double d = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), d);
    if (value.empty() || ec != std::errc() || ptr != value.data() + value.size() || d < 0 ||
        d > 1) {
      return absl::InvalidArgumentError(
          fmt::format("Invalid value {} for configuration {}", value, key));
    }
    return absl::OkStatus();
  }
  int64_t n = 0;
  if (!parse_long(value, rule.min, &n)) {
    return absl::InvalidArgumentError(fmt::format(
        "Invalid value {} for configuration {}: must be an integer >= {}", value, key, rule.min));
  }
  return absl::OkStatus();
}

storage::LogConfig log_config_for(const storage::LogConfig& defaults,
                                  const std::map<std::string, std::string>& topic_configs) {
  storage::LogConfig c = defaults;
  auto number = [&](const char* key, auto* field) {
    auto it = topic_configs.find(key);
    if (it == topic_configs.end()) return;
    int64_t n = 0;
    if (parse_long(it->second, std::numeric_limits<int64_t>::min(), &n)) {
      *field = static_cast<std::remove_pointer_t<decltype(field)>>(n);
    }
  };
  number("segment.bytes", &c.segment_bytes);
  number("segment.ms", &c.segment_ms);
  number("segment.index.bytes", &c.segment_index_bytes);
  number("index.interval.bytes", &c.index_interval_bytes);
  number("retention.ms", &c.retention_ms);
  number("retention.bytes", &c.retention_bytes);
  number("flush.messages", &c.flush_interval_messages);
  number("flush.ms", &c.flush_interval_ms);
  number("max.message.bytes", &c.max_message_bytes);
  number("file.delete.delay.ms", &c.file_delete_delay_ms);
  if (auto it = topic_configs.find("message.timestamp.type"); it != topic_configs.end()) {
    c.log_append_time = it->second == "LogAppendTime";
  }
  number("delete.retention.ms", &c.delete_retention_ms);
  number("min.compaction.lag.ms", &c.min_compaction_lag_ms);
  number("max.compaction.lag.ms", &c.max_compaction_lag_ms);
  if (auto it = topic_configs.find("min.cleanable.dirty.ratio"); it != topic_configs.end()) {
    double d = 0;
    const std::string& v = it->second;
    auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
    if (ec == std::errc() && ptr == v.data() + v.size() && d >= 0 && d <= 1) {
      c.min_cleanable_dirty_ratio = d;
    }
  }
  // A compact-only topic keeps every key's latest value forever: time and size retention
  // must not delete its segments; the log cleaner compacts them instead.
  if (auto it = topic_configs.find("cleanup.policy"); it != topic_configs.end()) {
    c.compact = it->second.find("compact") != std::string::npos;
    if (it->second.find("delete") == std::string::npos) {
      c.retention_ms = -1;
      c.retention_bytes = -1;
    }
  }
  return c;
}

}  // namespace gregor::coordinator

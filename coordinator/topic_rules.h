// Kafka's rules for topic names and topic-level configs, shared by CreateTopics, automatic
// topic creation and the metadata image.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "storage/log_config.h"

namespace gregor::coordinator {

inline constexpr size_t kMaxTopicNameLength = 249;

// OK, or InvalidArgument with Kafka's wording (Topic.validate): empty, ".", "..", too long,
// or characters outside [a-zA-Z0-9._-].
absl::Status validate_topic_name(std::string_view name);

// Topics whose names start with "__" are Kafka's internal topics.
inline bool is_internal_topic(std::string_view name) {
  return name.starts_with("__");
}

// OK if `key` is a topic config Gregor knows and `value` parses for it; InvalidArgument naming
// the key otherwise.
absl::Status validate_topic_config(const std::string& key, const std::string& value);

// The broker's log.* defaults with the topic's own settings applied.
// REQUIRES: every entry passed validate_topic_config.
storage::LogConfig log_config_for(const storage::LogConfig& defaults,
                                  const std::map<std::string, std::string>& topic_configs);

}  // namespace gregor::coordinator

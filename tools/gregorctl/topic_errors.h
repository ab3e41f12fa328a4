// Turns the broker's per-topic error codes into the one-line messages gregorctl prints, e.g.
// "topic 'x' already exists (TOPIC_ALREADY_EXISTS)".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tools/gregorctl/topic_model.h"

namespace gregor::tools {

enum class TopicVerb { kCreate, kDelete, kDescribe };

// Kafka's upper-case name for the code, or "UNKNOWN_ERROR_<n>" when we do not know it.
std::string error_name(int16_t code);

// "topic 'x' already exists (TOPIC_ALREADY_EXISTS)"; the broker's message is added when it says
// more than our own phrase. REQUIRES: code != 0.
std::string describe_topic_error(TopicVerb verb, std::string_view topic, int16_t code,
                                 const std::optional<std::string>& broker_message);

inline std::string describe_topic_error(TopicVerb verb, const TopicResult& r) {
  return describe_topic_error(verb, r.name, r.error_code, r.error_message);
}

}  // namespace gregor::tools

// What the broker reads of the "consumer" embedded protocol (ConsumerProtocolSubscription):
// only the subscribed topics, which OffsetDelete and offset expiry need.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace gregor::coordinator {

inline constexpr std::string_view kConsumerProtocolType = "consumer";

// Parses version int16, topics []string (int32 count, int16-length strings). Later fields
// (user data, owned partitions, rack) are ignored. nullopt when the bytes are malformed.
std::optional<std::set<std::string>> parse_subscribed_topics(std::string_view metadata);

}  // namespace gregor::coordinator

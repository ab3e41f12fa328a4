// Turns group-level Kafka error codes into the one-line messages gregorctl prints, e.g.
// "group 'g' is not empty (NON_EMPTY_GROUP)".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace gregor::tools {

// REQUIRES: code != 0.
std::string describe_group_error(std::string_view group, int16_t code);

// "partition 't-3': <phrase> (NAME)" for per-partition errors. REQUIRES: code != 0.
std::string describe_partition_error(std::string_view topic, int32_t partition, int16_t code);

// Errors that pass when asked again a moment later (coordinator moving or loading).
bool is_retriable_group_error(int16_t code);

}  // namespace gregor::tools

// Kafka's offset checkpoint files (recovery-point-offset-checkpoint, log-start-offset-checkpoint):
// text, a version line "0", a count line, then one "topic partition offset" line per partition.
// Written atomically (temp file, fsync, rename, directory fsync).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace gregor::storage {

using TopicPartition = std::pair<std::string, int32_t>;
using OffsetCheckpoint = std::map<TopicPartition, int64_t>;

inline constexpr char kRecoveryPointCheckpoint[] = "recovery-point-offset-checkpoint";
inline constexpr char kLogStartOffsetCheckpoint[] = "log-start-offset-checkpoint";

// A missing file reads as empty; a malformed one is DataLoss.
absl::StatusOr<OffsetCheckpoint> read_checkpoint(const std::filesystem::path& path);
absl::Status write_checkpoint(const std::filesystem::path& path, const OffsetCheckpoint& offsets);

}  // namespace gregor::storage

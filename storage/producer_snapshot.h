// Producer state snapshots `<20-digit offset>.snapshot` in Kafka's format: the state of every
// producer after all offsets below the file's offset. Big-endian:
//   version int16 (1) | crc uint32: CRC-32C of everything after it | count int32 |
//   count x { ProducerId int64, Epoch int16, LastSequence int32, LastOffset int64,
//             OffsetDelta int32, Timestamp int64, CoordinatorEpoch int32,
//             CurrentTxnFirstOffset int64 (-1: none) }
// Functions only; no state. Files are written atomically (tmp, fsync, rename, dir fsync).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace gregor::storage {

struct ProducerSnapshotEntry {
  int64_t producer_id = -1;
  int16_t epoch = -1;
  int32_t last_sequence = -1;
  int64_t last_offset = -1;  // of the producer's last data batch; -1 if none
  int32_t offset_delta = 0;  // last - first offset of that batch
  int64_t timestamp = -1;
  int32_t coordinator_epoch = -1;
  int64_t current_txn_first_offset = -1;
  bool operator==(const ProducerSnapshotEntry&) const = default;
};

inline constexpr char kProducerSnapshotSuffix[] = ".snapshot";

std::string encode_producer_snapshot(const std::vector<ProducerSnapshotEntry>& entries);
// DataLoss on a wrong version, CRC, count or size.
absl::StatusOr<std::vector<ProducerSnapshotEntry>> decode_producer_snapshot(std::string_view bytes);

std::filesystem::path producer_snapshot_path(const std::filesystem::path& dir, int64_t offset);
absl::Status write_producer_snapshot(const std::filesystem::path& dir, int64_t offset,
                                     const std::vector<ProducerSnapshotEntry>& entries);
// NotFound if missing, DataLoss if corrupt.
absl::StatusOr<std::vector<ProducerSnapshotEntry>> read_producer_snapshot(
    const std::filesystem::path& dir, int64_t offset);
// Offsets of the `.snapshot` files in `dir`, ascending.
std::vector<int64_t> list_producer_snapshots(const std::filesystem::path& dir);
void delete_producer_snapshot(const std::filesystem::path& dir, int64_t offset);

}  // namespace gregor::storage

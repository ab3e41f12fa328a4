// Record batch v2 (magic 2): the unit that clients produce, storage keeps byte-for-byte and
// fetch serves. Layout (DefaultRecordBatch.java), all big-endian:
//   0 baseOffset i64 | 8 batchLength i32 | 12 partitionLeaderEpoch i32 | 16 magic i8 |
//  17 crc u32 (CRC-32C of bytes 21..end) | 21 attributes i16 | 23 lastOffsetDelta i32 |
//  27 baseTimestamp i64 | 35 maxTimestamp i64 | 43 producerId i64 | 51 producerEpoch i16 |
//  53 baseSequence i32 | 57 recordsCount i32 | 61 records (compressed as one blob if codec != 0)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "protocol/compression.h"

namespace gregor::protocol {

inline constexpr size_t kBatchLogOverhead = 12;  // baseOffset + batchLength
inline constexpr size_t kBatchHeaderSize = 61;   // everything before the records
inline constexpr size_t kBatchCrcOffset = 17;
inline constexpr size_t kBatchCrcCoveredFrom = 21;
inline constexpr int8_t kMagicV2 = 2;
inline constexpr int64_t kNoProducerId = -1;
inline constexpr int64_t kNoTimestamp = -1;

enum class TimestampType : int8_t { kCreateTime = 0, kLogAppendTime = 1 };

struct RecordBatchHeader {
  int64_t base_offset = 0;
  int32_t batch_length = 0;
  int32_t partition_leader_epoch = -1;
  int8_t magic = kMagicV2;
  uint32_t crc = 0;
  int16_t attributes = 0;
  int32_t last_offset_delta = 0;
  int64_t base_timestamp = 0;
  int64_t max_timestamp = 0;
  int64_t producer_id = kNoProducerId;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  int32_t records_count = 0;

  Compression compression() const { return static_cast<Compression>(attributes & 0x07); }
  TimestampType timestamp_type() const {
    return (attributes & 0x08) ? TimestampType::kLogAppendTime : TimestampType::kCreateTime;
  }
  bool is_transactional() const { return (attributes & 0x10) != 0; }
  bool is_control() const { return (attributes & 0x20) != 0; }
  int64_t last_offset() const { return base_offset + last_offset_delta; }
  // Whole batch on the wire and on disk, including the 12-byte log overhead.
  size_t total_size() const { return static_cast<size_t>(batch_length) + kBatchLogOverhead; }
};

// Reads the fixed header from the first kBatchHeaderSize bytes. Fails (InvalidArgument) if
// fewer bytes are given or batchLength is smaller than the header. Does not check the CRC.
absl::StatusOr<RecordBatchHeader> parse_batch_header(std::string_view bytes);

// True if the stored CRC matches CRC-32C over bytes 21..total_size. `batch` should hold the
// whole batch (header.total_size() bytes, more is ignored); if it is shorter, or its header is
// unreadable, the answer is false rather than a crash.
bool batch_crc_valid(std::string_view batch);

// Full validation of one batch a client produced (`batch` is exactly one whole batch): magic 2,
// sizes consistent, CRC, recordsCount >= 1 and equal to lastOffsetDelta+1 and to the records it
// really holds, offset deltas 0,1,2..., every record's varint framing (decompressing if needed).
// Returns kCorruptMessage-style errors (truncation, batchLength lying, CRC, damaged record
// structure, corrupt compressed payload) as absl::DataLossError; rule violations (magic, codec,
// counts, offset deltas) as absl::InvalidArgumentError; a payload that decompresses to more
// than max_decompressed_bytes as absl::ResourceExhaustedError. Each message names the problem.
// Does not check control/transactional flags, producer ids or timestamps: that is the broker's.
absl::Status validate_batch(std::string_view batch, size_t max_decompressed_bytes);

// In-place edits the broker makes before storing a batch.
void set_base_offset(char* batch, int64_t base_offset);
void set_partition_leader_epoch(char* batch, int32_t epoch);
// Sets timestamp type LogAppendTime and maxTimestamp = ts, then recomputes the CRC.
void set_log_append_time(char* batch, size_t size, int64_t ts);

struct RecordHeader {
  std::string key;
  std::optional<std::string> value;
};

struct Record {
  int64_t offset = 0;     // absolute: baseOffset + offsetDelta
  int64_t timestamp = 0;  // absolute: baseTimestamp + timestampDelta
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<RecordHeader> headers;
};

// Decodes every record of a whole batch (decompressing if needed). `batch` must be exactly one
// batch. Checks the framing like validate_batch but not the CRC nor that offset deltas are
// consecutive (compacted batches have gaps); errors use the same status codes.
absl::StatusOr<std::vector<Record>> decode_records(std::string_view batch,
                                                   size_t max_decompressed_bytes);

struct BatchOptions {
  int64_t base_offset = 0;
  Compression compression = Compression::kNone;
  TimestampType timestamp_type = TimestampType::kCreateTime;
  int64_t producer_id = kNoProducerId;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  bool transactional = false;
  bool control = false;
  int32_t partition_leader_epoch = -1;
};

// Builds one whole batch with a valid CRC. baseOffset is options.base_offset; each record's
// offsetDelta is its offset minus the first record's offset (so give offsets 0,1,2... or the
// real ones); baseTimestamp is the first record's timestamp, maxTimestamp the largest.
// lastOffsetDelta is the largest delta. Fails (InvalidArgument) on no records, offsets that go
// backwards or span more than int32, or a batch over 2 GiB.
absl::StatusOr<std::string> build_batch(const BatchOptions& options,
                                        const std::vector<Record>& records);

}  // namespace gregor::protocol

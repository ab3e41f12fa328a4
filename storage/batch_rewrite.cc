// rewrite_batch: encodes the v2 batch layout of protocol/record_batch.h directly, because
// protocol::build_batch derives lastOffsetDelta and baseTimestamp from the records it is given.
#include "storage/batch_rewrite.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "protocol/compression.h"
#include "protocol/crc32c.h"

namespace gregor::storage {

namespace {

void put_uvarlong(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
// Zigzag, as Kafka's record fields use.
void put_varlong(std::string& out, int64_t v) {
  put_uvarlong(out, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}
void put_nullable(std::string& out, const std::optional<std::string>& s) {
  if (!s) {
    put_varlong(out, -1);
    return;
  }
  put_varlong(out, static_cast<int64_t>(s->size()));
  out.append(*s);
}

template <typename T>
void store_be(char* p, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) {
    p[i] = static_cast<char>(static_cast<uint64_t>(v) >> (8 * (sizeof(T) - 1 - i)));
  }
}

}  // namespace

absl::StatusOr<std::string> rewrite_batch(const protocol::RecordBatchHeader& original,
                                          const std::vector<protocol::Record>& kept,
                                          std::optional<int64_t> delete_horizon_ms) {
  const bool log_append_time = original.timestamp_type() == protocol::TimestampType::kLogAppendTime;
  int64_t base_ts = original.max_timestamp;
  if (delete_horizon_ms) {
    base_ts = *delete_horizon_ms;
  } else if (!kept.empty()) {
    base_ts = kept.front().timestamp;
  }
  int64_t max_ts =
      log_append_time || kept.empty() ? original.max_timestamp : protocol::kNoTimestamp;
  std::string body;
  std::string rec;
  int64_t prev = original.base_offset - 1;
  for (const protocol::Record& r : kept) {
    if (r.offset <= prev || r.offset > original.last_offset()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "record offset ", r.offset, " does not belong in batch at ", original.base_offset));
    }
    prev = r.offset;
    if (!log_append_time) max_ts = std::max(max_ts, r.timestamp);
    rec.clear();
    rec.push_back(0);  // record attributes: unused by v2
    put_varlong(rec, r.timestamp - base_ts);
    put_varlong(rec, r.offset - original.base_offset);
    put_nullable(rec, r.key);
    put_nullable(rec, r.value);
    put_varlong(rec, static_cast<int64_t>(r.headers.size()));
    for (const protocol::RecordHeader& h : r.headers) {
      put_varlong(rec, static_cast<int64_t>(h.key.size()));
      rec.append(h.key);
      put_nullable(rec, h.value);
    }
    put_varlong(body, static_cast<int64_t>(rec.size()));
    body.append(rec);
  }
  int16_t attributes = original.attributes;
  if (kept.empty()) attributes &= ~0x07;  // nothing to compress
  auto payload = kept.empty() ? absl::StatusOr<std::string>(std::string())
                              : protocol::compress(original.compression(), body);
  if (!payload.ok()) return payload.status();
  const size_t total = protocol::kBatchHeaderSize + payload->size();
  if (total - protocol::kBatchLogOverhead >
      static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return absl::InvalidArgumentError("record batch larger than 2 GiB");
  }
  if (delete_horizon_ms) attributes |= kDeleteHorizonFlag;
  std::string out(protocol::kBatchHeaderSize, '\0');
  char* p = out.data();
  store_be(p + 0, static_cast<uint64_t>(original.base_offset));
  store_be(p + 8, static_cast<uint32_t>(total - protocol::kBatchLogOverhead));
  store_be(p + 12, static_cast<uint32_t>(original.partition_leader_epoch));
  p[16] = static_cast<char>(protocol::kMagicV2);
  store_be(p + 21, static_cast<uint16_t>(attributes));
  store_be(p + 23, static_cast<uint32_t>(original.last_offset_delta));
  store_be(p + 27, static_cast<uint64_t>(base_ts));
  store_be(p + 35, static_cast<uint64_t>(max_ts));
  store_be(p + 43, static_cast<uint64_t>(original.producer_id));
  store_be(p + 51, static_cast<uint16_t>(original.producer_epoch));
  store_be(p + 53, static_cast<uint32_t>(original.base_sequence));
  store_be(p + 57, static_cast<uint32_t>(kept.size()));
  out.append(*payload);
  const uint32_t crc = protocol::crc32c(out.data() + protocol::kBatchCrcCoveredFrom,
                                        out.size() - protocol::kBatchCrcCoveredFrom);
  store_be(out.data() + protocol::kBatchCrcOffset, crc);
  return out;
}

}  // namespace gregor::storage

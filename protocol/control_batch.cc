// Building and parsing transaction marker batches (EndTransactionMarker / ControlRecordType).
#include "protocol/control_batch.h"

#include <cstdlib>
#include <vector>

#include "protocol/record_batch.h"

namespace gregor::protocol {

namespace {
constexpr int16_t kAbortType = 0;
constexpr int16_t kCommitType = 1;
constexpr int16_t kMarkerVersion = 0;
// A marker holds one tiny record; decoding never needs more.
constexpr size_t kMaxMarkerBytes = 1 << 16;

void put_be(std::string& s, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) s.push_back(static_cast<char>(v >> (8 * i)));
}
int64_t get_be(std::string_view s, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i)
    v = (v << 8) | static_cast<uint8_t>(s[at + static_cast<size_t>(i)]);
  // Sign-extend from `bytes` wide.
  const int shift = 64 - 8 * bytes;
  return static_cast<int64_t>(v << shift) >> shift;
}
}  // namespace

std::string make_control_batch(int64_t producer_id, int16_t epoch, bool commit,
                               int32_t coordinator_epoch, int64_t timestamp_ms) {
  Record r;
  r.offset = 0;
  r.timestamp = timestamp_ms;
  std::string key;
  put_be(key, static_cast<uint16_t>(kMarkerVersion), 2);
  put_be(key, static_cast<uint16_t>(commit ? kCommitType : kAbortType), 2);
  std::string value;
  put_be(value, static_cast<uint16_t>(kMarkerVersion), 2);
  put_be(value, static_cast<uint32_t>(coordinator_epoch), 4);
  r.key = std::move(key);
  r.value = std::move(value);
  BatchOptions options;
  options.producer_id = producer_id;
  options.producer_epoch = epoch;
  options.base_sequence = -1;
  options.transactional = true;
  options.control = true;
  absl::StatusOr<std::string> batch = build_batch(options, std::vector<Record>{std::move(r)});
  // One small record always builds; failing here is a bug in build_batch.
  if (!batch.ok()) std::abort();
  return *std::move(batch);
}

std::optional<ControlMarker> parse_control_batch(std::string_view batch) {
  absl::StatusOr<RecordBatchHeader> h = parse_batch_header(batch);
  if (!h.ok() || !h->is_control() || h->total_size() > batch.size()) return std::nullopt;
  absl::StatusOr<std::vector<Record>> records =
      decode_records(batch.substr(0, h->total_size()), kMaxMarkerBytes);
  if (!records.ok() || records->empty()) return std::nullopt;
  const Record& r = records->front();
  if (!r.key || r.key->size() < 4 || !r.value || r.value->size() < 6) return std::nullopt;
  if (get_be(*r.key, 0, 2) < 0 || get_be(*r.value, 0, 2) < 0) return std::nullopt;
  const int64_t type = get_be(*r.key, 2, 2);
  if (type != kAbortType && type != kCommitType) return std::nullopt;
  ControlMarker m;
  m.commit = type == kCommitType;
  m.coordinator_epoch = static_cast<int32_t>(get_be(*r.value, 2, 4));
  return m;
}

}  // namespace gregor::protocol

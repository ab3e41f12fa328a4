// Record batch v2: header parsing, the validation Kafka's LogValidator does on produce, the
// in-place edits the broker makes, and encoding/decoding of the records inside.
#include "protocol/record_batch.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "absl/strings/str_cat.h"
#include "protocol/crc32c.h"

namespace gregor::protocol {
namespace {

constexpr size_t kAttributesOffset = 21;
constexpr size_t kMaxTimestampOffset = 35;
constexpr size_t kPartitionLeaderEpochOffset = 12;
constexpr int16_t kCodecMask = 0x07;
constexpr int16_t kLogAppendTimeFlag = 0x08;
constexpr int16_t kTransactionalFlag = 0x10;
constexpr int16_t kControlFlag = 0x20;
// Smallest encoded record: length, attributes, timestampDelta, offsetDelta, keyLength,
// valueLength, headerCount, one byte each. Bounds reservations driven by a claimed count.
constexpr size_t kMinRecordSize = 7;

// Our own invariants: violated only by a bug in Gregor, never by input.
void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "gregor: record batch invariant violated: %s\n", what);
    std::abort();
  }
}

template <typename T>
T load_be(const char* p) {
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v = static_cast<T>((v << 8) | static_cast<uint8_t>(p[i]));
  return v;
}

template <typename T>
void store_be(char* p, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) p[i] = static_cast<char>(v >> (8 * (sizeof(T) - 1 - i)));
}

// ---- record encoding (zig-zag varints, PROTOCOL-NOTES 4.1) ----

void put_uvarlong(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
void put_varint(std::string& out, int32_t v) {
  put_uvarlong(out, (static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31));
}
void put_varlong(std::string& out, int64_t v) {
  put_uvarlong(out, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}
void put_nullable(std::string& out, const std::optional<std::string>& s) {
  if (!s) {
    put_varint(out, -1);
    return;
  }
  put_varint(out, static_cast<int32_t>(s->size()));
  out.append(*s);
}

// Bounds-checked cursor over record bytes; reads views, never allocates.
class Cursor {
 public:
  explicit Cursor(std::string_view s) : p_(s.data()), end_(s.data() + s.size()) {}
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  const char* position() const { return p_; }

  // Kafka caps varints at 5 bytes and varlongs at 10 (ByteUtils); longer ones are corrupt.
  bool varint(int32_t* v) {
    uint64_t u;
    if (!uvar(5, &u) || u > std::numeric_limits<uint32_t>::max()) return false;
    auto w = static_cast<uint32_t>(u);
    *v = static_cast<int32_t>((w >> 1) ^ (~(w & 1) + 1));
    return true;
  }
  bool varlong(int64_t* v) {
    uint64_t u;
    if (!uvar(10, &u)) return false;
    *v = static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
    return true;
  }
  bool byte(int8_t* v) {
    if (p_ == end_) return false;
    *v = static_cast<int8_t>(*p_++);
    return true;
  }
  // A length-prefixed field; nullopt for length -1. Lengths below -1 are corrupt.
  bool nullable(std::optional<std::string_view>* v) {
    int32_t n;
    if (!varint(&n) || n < -1) return false;
    if (n == -1) {
      v->reset();
      return true;
    }
    if (static_cast<size_t>(n) > remaining()) return false;
    *v = std::string_view(p_, static_cast<size_t>(n));
    p_ += n;
    return true;
  }

 private:
  bool uvar(int max_bytes, uint64_t* v) {
    uint64_t r = 0;
    for (int i = 0; i < max_bytes && p_ < end_; ++i) {
      auto b = static_cast<uint8_t>(*p_++);
      r |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
      if ((b & 0x80) == 0) {
        *v = r;
        return true;
      }
    }
    return false;
  }

  const char* p_;
  const char* end_;
};

struct RecordView {
  int64_t timestamp_delta = 0;
  int32_t offset_delta = 0;
  std::optional<std::string_view> key;
  std::optional<std::string_view> value;
  int32_t header_count = 0;
};

// Walks exactly `count` records filling `payload`, calling sink.record(index, view) and
// sink.header(key, value) for each header after its record. Structural damage is DataLoss; a
// count that disagrees with the records present is InvalidArgument.
template <typename Sink>
absl::Status walk_records(std::string_view payload, int32_t count, Sink& sink) {
  Cursor c(payload);
  for (int32_t i = 0; i < count; ++i) {
    if (c.remaining() == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("recordsCount is ", count, " but the batch holds only ", i, " records"));
    }
    int32_t length;
    if (!c.varint(&length) || length < 0 || static_cast<size_t>(length) > c.remaining()) {
      return absl::DataLossError(absl::StrCat("record ", i, ": invalid length"));
    }
    const char* body_end = c.position() + length;
    Cursor r(std::string_view(c.position(), static_cast<size_t>(length)));
    RecordView v;
    int8_t attributes;
    if (!r.byte(&attributes) || !r.varlong(&v.timestamp_delta) || !r.varint(&v.offset_delta) ||
        !r.nullable(&v.key) || !r.nullable(&v.value) || !r.varint(&v.header_count) ||
        v.header_count < 0) {
      return absl::DataLossError(absl::StrCat("record ", i, ": invalid record structure"));
    }
    if (absl::Status s = sink.record(i, v, r.remaining()); !s.ok()) return s;
    for (int32_t h = 0; h < v.header_count; ++h) {
      std::optional<std::string_view> hkey, hvalue;
      if (!r.nullable(&hkey) || !hkey || !r.nullable(&hvalue)) {
        return absl::DataLossError(absl::StrCat("record ", i, ": invalid header ", h));
      }
      sink.header(*hkey, hvalue);
    }
    if (r.remaining() != 0) {
      return absl::DataLossError(absl::StrCat("record ", i, ": length says ", length,
                                              " bytes but the fields take ",
                                              static_cast<size_t>(length) - r.remaining()));
    }
    c = Cursor(std::string_view(body_end, c.remaining() - static_cast<size_t>(length)));
  }
  if (c.remaining() != 0) {
    return absl::InvalidArgumentError(absl::StrCat(c.remaining(), " bytes follow the ", count,
                                                   " records that recordsCount announces"));
  }
  return absl::OkStatus();
}

// Validation sink: checks offset deltas run 0, 1, 2... as every client writes them.
struct CheckSink {
  absl::Status record(int32_t index, const RecordView& v, size_t) {
    if (v.offset_delta != index) {
      return absl::InvalidArgumentError(
          absl::StrCat("record ", index, " has offsetDelta ", v.offset_delta));
    }
    return absl::OkStatus();
  }
  void header(std::string_view, const std::optional<std::string_view>&) {}
};

struct DecodeSink {
  const RecordBatchHeader& h;
  std::vector<Record>& out;

  absl::Status record(int32_t, const RecordView& v, size_t remaining) {
    Record& r = out.emplace_back();
    r.offset = h.base_offset + v.offset_delta;
    r.timestamp = h.base_timestamp + v.timestamp_delta;
    if (v.key) r.key.emplace(*v.key);
    if (v.value) r.value.emplace(*v.value);
    // Each header takes at least two bytes, which bounds what a lying count can reserve.
    r.headers.reserve(std::min<size_t>(static_cast<size_t>(v.header_count), remaining / 2));
    return absl::OkStatus();
  }
  void header(std::string_view key, const std::optional<std::string_view>& value) {
    RecordHeader& hd = out.back().headers.emplace_back();
    hd.key = std::string(key);
    if (value) hd.value.emplace(*value);
  }
};

// The records region of a whole batch, decompressed into `storage` when needed.
absl::StatusOr<std::string_view> records_payload(std::string_view batch, const RecordBatchHeader& h,
                                                 size_t max_bytes, std::string& storage) {
  std::string_view raw = batch.substr(kBatchHeaderSize, h.total_size() - kBatchHeaderSize);
  if (h.compression() == Compression::kNone) return raw;
  absl::StatusOr<std::string> plain = decompress(h.compression(), raw, max_bytes);
  if (!plain.ok()) {
    return absl::Status(plain.status().code(),
                        absl::StrCat("records payload: ", plain.status().message()));
  }
  storage = *std::move(plain);
  return std::string_view(storage);
}

// Checks shared by validate_batch and decode_records: a whole magic-2 batch of a known codec.
absl::StatusOr<RecordBatchHeader> checked_header(std::string_view batch) {
  if (batch.size() < kBatchHeaderSize) {
    return absl::DataLossError(
        absl::StrCat("batch of ", batch.size(), " bytes is shorter than its header"));
  }
  int8_t magic = static_cast<int8_t>(batch[16]);
  if (magic != kMagicV2) {
    return absl::InvalidArgumentError(
        absl::StrCat("record batch magic ", magic, " is not supported (only 2)"));
  }
  absl::StatusOr<RecordBatchHeader> h = parse_batch_header(batch);
  if (!h.ok()) return absl::DataLossError(h.status().message());
  if (h->total_size() != batch.size()) {
    return absl::DataLossError(absl::StrCat("batchLength ", h->batch_length, " says ",
                                            h->total_size(), " bytes but ", batch.size(),
                                            " were given"));
  }
  if ((h->attributes & kCodecMask) > static_cast<int16_t>(Compression::kZstd)) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown compression codec ", h->attributes & kCodecMask));
  }
  if (h->records_count < 0) {
    return absl::InvalidArgumentError(absl::StrCat("recordsCount ", h->records_count));
  }
  return h;
}

}  // namespace

absl::StatusOr<RecordBatchHeader> parse_batch_header(std::string_view bytes) {
  if (bytes.size() < kBatchHeaderSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("record batch header needs ", kBatchHeaderSize, " bytes, got ", bytes.size()));
  }
  const char* p = bytes.data();
  RecordBatchHeader h;
  h.base_offset = static_cast<int64_t>(load_be<uint64_t>(p + 0));
  h.batch_length = static_cast<int32_t>(load_be<uint32_t>(p + 8));
  h.partition_leader_epoch = static_cast<int32_t>(load_be<uint32_t>(p + 12));
  h.magic = static_cast<int8_t>(p[16]);
  h.crc = load_be<uint32_t>(p + 17);
  h.attributes = static_cast<int16_t>(load_be<uint16_t>(p + 21));
  h.last_offset_delta = static_cast<int32_t>(load_be<uint32_t>(p + 23));
  h.base_timestamp = static_cast<int64_t>(load_be<uint64_t>(p + 27));
  h.max_timestamp = static_cast<int64_t>(load_be<uint64_t>(p + 35));
  h.producer_id = static_cast<int64_t>(load_be<uint64_t>(p + 43));
  h.producer_epoch = static_cast<int16_t>(load_be<uint16_t>(p + 51));
  h.base_sequence = static_cast<int32_t>(load_be<uint32_t>(p + 53));
  h.records_count = static_cast<int32_t>(load_be<uint32_t>(p + 57));
  if (h.batch_length < static_cast<int32_t>(kBatchHeaderSize - kBatchLogOverhead)) {
    return absl::InvalidArgumentError(
        absl::StrCat("batchLength ", h.batch_length, " is smaller than the batch header"));
  }
  return h;
}

bool batch_crc_valid(std::string_view batch) {
  absl::StatusOr<RecordBatchHeader> h = parse_batch_header(batch);
  if (!h.ok() || batch.size() < h->total_size()) return false;
  return crc32c(batch.data() + kBatchCrcCoveredFrom, h->total_size() - kBatchCrcCoveredFrom) ==
         h->crc;
}

absl::Status validate_batch(std::string_view batch, size_t max_decompressed_bytes) {
  absl::StatusOr<RecordBatchHeader> h = checked_header(batch);
  if (!h.ok()) return h.status();
  if (!batch_crc_valid(batch)) return absl::DataLossError("record batch CRC mismatch");
  // Kafka refuses empty batches from producers; only compaction leaves them behind.
  if (h->records_count < 1) return absl::InvalidArgumentError("record batch has no records");
  if (h->last_offset_delta != h->records_count - 1) {
    return absl::InvalidArgumentError(absl::StrCat("lastOffsetDelta ", h->last_offset_delta,
                                                   " does not match recordsCount ",
                                                   h->records_count));
  }
  std::string storage;
  absl::StatusOr<std::string_view> payload =
      records_payload(batch, *h, max_decompressed_bytes, storage);
  if (!payload.ok()) return payload.status();
  CheckSink sink;
  return walk_records(*payload, h->records_count, sink);
}

void set_base_offset(char* batch, int64_t base_offset) {
  store_be(batch, static_cast<uint64_t>(base_offset));
}

void set_partition_leader_epoch(char* batch, int32_t epoch) {
  store_be(batch + kPartitionLeaderEpochOffset, static_cast<uint32_t>(epoch));
}

void set_log_append_time(char* batch, size_t size, int64_t ts) {
  require(size >= kBatchHeaderSize, "set_log_append_time on a buffer shorter than a header");
  auto attributes = load_be<uint16_t>(batch + kAttributesOffset);
  store_be(batch + kAttributesOffset, static_cast<uint16_t>(attributes | kLogAppendTimeFlag));
  store_be(batch + kMaxTimestampOffset, static_cast<uint64_t>(ts));
  store_be(batch + kBatchCrcOffset,
           crc32c(batch + kBatchCrcCoveredFrom, size - kBatchCrcCoveredFrom));
}

absl::StatusOr<std::vector<Record>> decode_records(std::string_view batch,
                                                   size_t max_decompressed_bytes) {
  absl::StatusOr<RecordBatchHeader> h = checked_header(batch);
  if (!h.ok()) return h.status();
  std::string storage;
  absl::StatusOr<std::string_view> payload =
      records_payload(batch, *h, max_decompressed_bytes, storage);
  if (!payload.ok()) return payload.status();
  std::vector<Record> records;
  records.reserve(
      std::min<size_t>(static_cast<size_t>(h->records_count), payload->size() / kMinRecordSize));
  DecodeSink sink{*h, records};
  if (absl::Status s = walk_records(*payload, h->records_count, sink); !s.ok()) return s;
  return records;
}

absl::StatusOr<std::string> build_batch(const BatchOptions& options,
                                        const std::vector<Record>& records) {
  if (records.empty()) return absl::InvalidArgumentError("build_batch needs at least one record");
  const int64_t first_offset = records.front().offset;
  const int64_t base_timestamp = records.front().timestamp;
  int64_t max_timestamp = base_timestamp;
  int64_t last_delta = 0;
  std::string body;
  std::string rec;
  for (const Record& r : records) {
    int64_t delta = r.offset - first_offset;
    if (delta < 0 || delta > std::numeric_limits<int32_t>::max()) {
      return absl::InvalidArgumentError(absl::StrCat("record offset ", r.offset,
                                                     " cannot follow first offset ", first_offset,
                                                     " in one batch"));
    }
    last_delta = std::max(last_delta, delta);
    max_timestamp = std::max(max_timestamp, r.timestamp);
    rec.clear();
    rec.push_back(0);  // record attributes: unused
    put_varlong(rec, r.timestamp - base_timestamp);
    put_varint(rec, static_cast<int32_t>(delta));
    put_nullable(rec, r.key);
    put_nullable(rec, r.value);
    put_varint(rec, static_cast<int32_t>(r.headers.size()));
    for (const RecordHeader& hd : r.headers) {
      put_varint(rec, static_cast<int32_t>(hd.key.size()));
      rec.append(hd.key);
      put_nullable(rec, hd.value);
    }
    put_varint(body, static_cast<int32_t>(rec.size()));
    body.append(rec);
  }
  absl::StatusOr<std::string> payload = compress(options.compression, body);
  if (!payload.ok()) return payload.status();
  size_t total = kBatchHeaderSize + payload->size();
  if (total - kBatchLogOverhead > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return absl::InvalidArgumentError("record batch larger than 2 GiB");
  }
  int16_t attributes = static_cast<int16_t>(options.compression);
  if (options.timestamp_type == TimestampType::kLogAppendTime) attributes |= kLogAppendTimeFlag;
  if (options.transactional) attributes |= kTransactionalFlag;
  if (options.control) attributes |= kControlFlag;

  std::string out(kBatchHeaderSize, '\0');
  char* p = out.data();
  store_be(p + 0, static_cast<uint64_t>(options.base_offset));
  store_be(p + 8, static_cast<uint32_t>(total - kBatchLogOverhead));
  store_be(p + 12, static_cast<uint32_t>(options.partition_leader_epoch));
  p[16] = static_cast<char>(kMagicV2);
  store_be(p + 21, static_cast<uint16_t>(attributes));
  store_be(p + 23, static_cast<uint32_t>(last_delta));
  store_be(p + 27, static_cast<uint64_t>(base_timestamp));
  store_be(p + 35, static_cast<uint64_t>(max_timestamp));
  store_be(p + 43, static_cast<uint64_t>(options.producer_id));
  store_be(p + 51, static_cast<uint16_t>(options.producer_epoch));
  store_be(p + 53, static_cast<uint32_t>(options.base_sequence));
  store_be(p + 57, static_cast<uint32_t>(records.size()));
  out.append(*payload);
  store_be(out.data() + kBatchCrcOffset,
           crc32c(out.data() + kBatchCrcCoveredFrom, out.size() - kBatchCrcCoveredFrom));
  return out;
}

}  // namespace gregor::protocol

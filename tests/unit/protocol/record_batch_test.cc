// Tests for record batch v2: round trips per codec, a golden batch built from the spec layout,
// CRC coverage, the broker's in-place edits and every rejection validate_batch promises.
#include "protocol/record_batch.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "protocol/crc32c.h"

namespace gregor::protocol {
namespace {

constexpr size_t kMax = 64 << 20;

void put_be(std::string& s, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) s.push_back(static_cast<char>(v >> (8 * i)));
}
void poke_be(std::string& s, size_t at, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) s[at + i] = static_cast<char>(v >> (8 * (bytes - 1 - i)));
}
void fix_crc(std::string& b) {
  poke_be(b, kBatchCrcOffset,
          crc32c(b.data() + kBatchCrcCoveredFrom, b.size() - kBatchCrcCoveredFrom), 4);
}

std::vector<Record> sample_records() {
  std::vector<Record> rs(4);
  for (size_t i = 0; i < rs.size(); ++i) {
    rs[i].offset = static_cast<int64_t>(i);
    rs[i].timestamp = 1'700'000'000'000 + static_cast<int64_t>(i) * 7;
  }
  rs[0].key = "key-0";
  rs[0].value = "value-0";
  rs[1].value = std::string(300, 'x');  // null key, length needing a two-byte varint
  rs[2].key = "tombstone";              // null value
  rs[3].key = "";
  rs[3].value = "";
  rs[3].headers = {{"h1", "v1"}, {"h-null", std::nullopt}, {"", std::string("\0\1", 2)}};
  rs[3].timestamp = 1'600'000'000'000;  // earlier than the base: negative delta
  return rs;
}

class RoundTrip : public testing::TestWithParam<Compression> {};

TEST_P(RoundTrip, BuildParseValidateDecode) {
  BatchOptions opt;
  opt.base_offset = 100;
  opt.compression = GetParam();
  opt.producer_id = 42;
  opt.producer_epoch = 3;
  opt.base_sequence = 17;
  opt.partition_leader_epoch = 5;
  std::vector<Record> in = sample_records();
  absl::StatusOr<std::string> batch = build_batch(opt, in);
  ASSERT_TRUE(batch.ok()) << batch.status();

  absl::StatusOr<RecordBatchHeader> h = parse_batch_header(*batch);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->base_offset, 100);
  EXPECT_EQ(h->total_size(), batch->size());
  EXPECT_EQ(h->partition_leader_epoch, 5);
  EXPECT_EQ(h->magic, kMagicV2);
  EXPECT_EQ(h->compression(), GetParam());
  EXPECT_EQ(h->timestamp_type(), TimestampType::kCreateTime);
  EXPECT_EQ(h->last_offset_delta, 3);
  EXPECT_EQ(h->last_offset(), 103);
  EXPECT_EQ(h->base_timestamp, in[0].timestamp);
  EXPECT_EQ(h->max_timestamp, in[2].timestamp);
  EXPECT_EQ(h->producer_id, 42);
  EXPECT_EQ(h->producer_epoch, 3);
  EXPECT_EQ(h->base_sequence, 17);
  EXPECT_EQ(h->records_count, 4);
  EXPECT_TRUE(batch_crc_valid(*batch));
  EXPECT_TRUE(validate_batch(*batch, kMax).ok()) << validate_batch(*batch, kMax);

  absl::StatusOr<std::vector<Record>> out = decode_records(*batch, kMax);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const Record& a = in[i];
    const Record& b = (*out)[i];
    EXPECT_EQ(b.offset, 100 + static_cast<int64_t>(i));
    EXPECT_EQ(b.timestamp, a.timestamp);
    EXPECT_EQ(b.key, a.key);
    EXPECT_EQ(b.value, a.value);
    ASSERT_EQ(b.headers.size(), a.headers.size());
    for (size_t j = 0; j < a.headers.size(); ++j) {
      EXPECT_EQ(b.headers[j].key, a.headers[j].key);
      EXPECT_EQ(b.headers[j].value, a.headers[j].value);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Codecs, RoundTrip,
                         testing::Values(Compression::kNone, Compression::kGzip,
                                         Compression::kSnappy, Compression::kLz4,
                                         Compression::kZstd));

TEST(RecordBatch, GoldenBatchFromSpecLayout) {
  std::string records;
  records += '\x10';  // record length 8, zig-zag
  records += std::string("\x00\x00\x00\x02k\x02v\x00", 8);
  std::string b;
  put_be(b, 0, 8);                      // baseOffset
  put_be(b, 49 + records.size(), 4);    // batchLength
  put_be(b, 0xffffffff, 4);             // partitionLeaderEpoch -1
  b += '\x02';                          // magic
  put_be(b, 0, 4);                      // crc, filled below
  put_be(b, 0, 2);                      // attributes
  put_be(b, 0, 4);                      // lastOffsetDelta
  put_be(b, 1000, 8);                   // baseTimestamp
  put_be(b, 1000, 8);                   // maxTimestamp
  put_be(b, 0xffffffffffffffffull, 8);  // producerId -1
  put_be(b, 0xffff, 2);                 // producerEpoch -1
  put_be(b, 0xffffffff, 4);             // baseSequence -1
  put_be(b, 1, 4);                      // recordsCount
  b += records;
  fix_crc(b);

  Record r;
  r.key = "k";
  r.value = "v";
  r.timestamp = 1000;
  absl::StatusOr<std::string> built = build_batch(BatchOptions{}, {r});
  ASSERT_TRUE(built.ok());
  EXPECT_EQ(*built, b);
  EXPECT_TRUE(validate_batch(b, kMax).ok());
}

TEST(RecordBatch, CrcCoversExactlyBytes21ToEnd) {
  absl::StatusOr<std::string> batch = build_batch(BatchOptions{}, sample_records());
  ASSERT_TRUE(batch.ok());
  for (size_t i = 0; i < batch->size(); ++i) {
    std::string bad = *batch;
    bad[i] ^= 0x01;
    if (i >= kBatchCrcOffset) {
      EXPECT_FALSE(batch_crc_valid(bad)) << i;
      EXPECT_FALSE(validate_batch(bad, kMax).ok()) << i;
    } else if (i >= 12 && i < 16) {
      EXPECT_TRUE(validate_batch(bad, kMax).ok()) << "leader epoch is not covered: " << i;
    }
  }
}

TEST(RecordBatch, InPlaceEditsKeepTheBatchValid) {
  absl::StatusOr<std::string> batch = build_batch(BatchOptions{}, sample_records());
  ASSERT_TRUE(batch.ok());
  std::string b = *batch;
  set_base_offset(b.data(), 1234567890123);
  set_partition_leader_epoch(b.data(), 9);
  EXPECT_TRUE(validate_batch(b, kMax).ok());
  set_log_append_time(b.data(), b.size(), 1'800'000'000'000);
  EXPECT_TRUE(validate_batch(b, kMax).ok());
  absl::StatusOr<RecordBatchHeader> h = parse_batch_header(b);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->base_offset, 1234567890123);
  EXPECT_EQ(h->partition_leader_epoch, 9);
  EXPECT_EQ(h->timestamp_type(), TimestampType::kLogAppendTime);
  EXPECT_EQ(h->max_timestamp, 1'800'000'000'000);
  absl::StatusOr<std::vector<Record>> rs = decode_records(b, kMax);
  ASSERT_TRUE(rs.ok());
  EXPECT_EQ(rs->front().offset, 1234567890123);
}

TEST(RecordBatch, FlagsAndOptions) {
  BatchOptions opt;
  opt.transactional = true;
  opt.control = true;
  opt.timestamp_type = TimestampType::kLogAppendTime;
  Record r;
  r.key = std::string("\0\0\0\1", 4);
  r.value = std::string("\0\0\0\0\0\0", 6);
  absl::StatusOr<std::string> b = build_batch(opt, {r});
  ASSERT_TRUE(b.ok());
  absl::StatusOr<RecordBatchHeader> h = parse_batch_header(*b);
  ASSERT_TRUE(h.ok());
  EXPECT_TRUE(h->is_transactional());
  EXPECT_TRUE(h->is_control());
  EXPECT_EQ(h->timestamp_type(), TimestampType::kLogAppendTime);
  EXPECT_FALSE(build_batch(opt, {}).ok());
}

TEST(RecordBatch, ParseHeaderRejectsShortInput) {
  absl::StatusOr<std::string> b = build_batch(BatchOptions{}, sample_records());
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(parse_batch_header(b->substr(0, kBatchHeaderSize - 1)).ok());
  EXPECT_TRUE(parse_batch_header(b->substr(0, kBatchHeaderSize)).ok());
  std::string small = *b;
  poke_be(small, 8, 48, 4);
  EXPECT_FALSE(parse_batch_header(small).ok());
  EXPECT_FALSE(batch_crc_valid(b->substr(0, b->size() - 1)));
}

class Rejects : public testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::string> b = build_batch(BatchOptions{}, sample_records());
    ASSERT_TRUE(b.ok());
    good_ = *b;
  }
  absl::StatusCode code(const std::string& b) { return validate_batch(b, kMax).code(); }
  std::string good_;
};

TEST_F(Rejects, WrongMagic) {
  std::string b = good_;
  b[16] = 1;
  EXPECT_EQ(code(b), absl::StatusCode::kInvalidArgument);
}

TEST_F(Rejects, Truncated) {
  EXPECT_EQ(code(good_.substr(0, good_.size() - 1)), absl::StatusCode::kDataLoss);
  EXPECT_EQ(code(good_.substr(0, 30)), absl::StatusCode::kDataLoss);
  EXPECT_EQ(code(""), absl::StatusCode::kDataLoss);
}

TEST_F(Rejects, BatchLengthLies) {
  std::string b = good_;
  poke_be(b, 8, good_.size() - 12 + 1, 4);
  EXPECT_EQ(code(b), absl::StatusCode::kDataLoss);
  poke_be(b, 8, good_.size() - 12 - 1, 4);
  EXPECT_EQ(code(b), absl::StatusCode::kDataLoss);
  poke_be(b, 8, 0x7fffffff, 4);
  EXPECT_EQ(code(b), absl::StatusCode::kDataLoss);
  EXPECT_EQ(code(good_ + "x"), absl::StatusCode::kDataLoss);
}

TEST_F(Rejects, BadCrc) {
  std::string b = good_;
  b[kBatchCrcOffset] ^= 0x80;
  EXPECT_EQ(code(b), absl::StatusCode::kDataLoss);
}

TEST_F(Rejects, RecordsCountMismatch) {
  for (int32_t count : {3, 5}) {
    std::string b = good_;
    poke_be(b, 57, static_cast<uint32_t>(count), 4);
    poke_be(b, 23, static_cast<uint32_t>(count - 1), 4);
    fix_crc(b);
    EXPECT_EQ(code(b), absl::StatusCode::kInvalidArgument) << count;
  }
  std::string b = good_;
  poke_be(b, 23, 7, 4);  // lastOffsetDelta disagrees with recordsCount 4
  fix_crc(b);
  EXPECT_EQ(code(b), absl::StatusCode::kInvalidArgument);
  poke_be(b, 57, 0, 4);
  poke_be(b, 23, 0xffffffff, 4);
  fix_crc(b);
  EXPECT_EQ(code(b), absl::StatusCode::kInvalidArgument);
  poke_be(b, 57, 0xffffffff, 4);
  fix_crc(b);
  EXPECT_EQ(code(b), absl::StatusCode::kInvalidArgument);
}

TEST_F(Rejects, UnknownCodec) {
  std::string b = good_;
  poke_be(b, 21, 5, 2);
  fix_crc(b);
  EXPECT_EQ(code(b), absl::StatusCode::kInvalidArgument);
}

TEST_F(Rejects, NonConsecutiveOffsetDeltas) {
  Record a, c;
  c.offset = 0;
  a.offset = 0;
  absl::StatusOr<std::string> b = build_batch(BatchOptions{}, {a, c});  // both delta 0
  ASSERT_TRUE(b.ok());
  std::string s = *b;
  poke_be(s, 23, 1, 4);
  fix_crc(s);
  EXPECT_EQ(code(s), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(decode_records(s, kMax).ok()) << "decode tolerates compaction-style gaps";
}

TEST_F(Rejects, GarbageRecords) {
  std::string b = good_;
  for (size_t i = kBatchHeaderSize; i < b.size(); ++i) b[i] = '\xff';
  fix_crc(b);
  EXPECT_EQ(code(b), absl::StatusCode::kDataLoss);
  EXPECT_FALSE(decode_records(b, kMax).ok());
  // A record length that overruns the payload.
  b = good_;
  b[kBatchHeaderSize] = '\x7e';
  fix_crc(b);
  EXPECT_EQ(code(b), absl::StatusCode::kDataLoss);
}

TEST(RecordBatchCompressed, CorruptPayloadAndBombLimit) {
  BatchOptions opt;
  for (Compression c :
       {Compression::kGzip, Compression::kSnappy, Compression::kLz4, Compression::kZstd}) {
    opt.compression = c;
    std::vector<Record> rs(50);
    for (size_t i = 0; i < rs.size(); ++i) {
      rs[i].offset = static_cast<int64_t>(i);
      rs[i].value = std::string(10000, 'a');
    }
    absl::StatusOr<std::string> b = build_batch(opt, rs);
    ASSERT_TRUE(b.ok());
    ASSERT_TRUE(validate_batch(*b, kMax).ok());
    EXPECT_EQ(validate_batch(*b, 100000).code(), absl::StatusCode::kResourceExhausted);
    EXPECT_EQ(decode_records(*b, 100000).status().code(), absl::StatusCode::kResourceExhausted);

    std::string bad = *b;
    bad.resize(bad.size() - 4);  // cut the compressed payload short
    poke_be(bad, 8, bad.size() - 12, 4);
    fix_crc(bad);
    EXPECT_FALSE(validate_batch(bad, kMax).ok()) << static_cast<int>(c);
    for (size_t i = kBatchHeaderSize; i < bad.size(); ++i) bad[i] = static_cast<char>(i * 31);
    fix_crc(bad);
    EXPECT_FALSE(validate_batch(bad, kMax).ok()) << static_cast<int>(c);
  }
}

std::string from_hex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

// Batches written by kafka-python 2.0.2 (DefaultRecordBatchBuilder), uncompressed and gzip:
// (k1, "v1"x50, header h=x), (null key, "second"), (k3, null value, header n=null).
TEST(RecordBatch, DecodesBatchesWrittenByKafkaPython) {
  const std::string none = from_hex(
      "0000000000000000000000bd00000000023c1699a60000000000020000018bcfe568000000018bcfe56809ff"
      "ffffffffffffffffffffffffff00000003e201000000046b31c8017631763176317631763176317631763176"
      "3176317631763176317631763176317631763176317631763176317631763176317631763176317631763176"
      "3176317631763176317631763176317631763176317631763176317631763176317631763176310202680278"
      "18000a02010c7365636f6e640016001204046b330102026e01");
  const std::string gzip = from_hex(
      "00000000000000000000007100000000025d0fa0b70001000000020000018bcfe568000000018bcfe56809ff"
      "ffffffffffffffffffffffffff000000031f8b08004d51066b02ff7bc4c8c0c0c0926d7882b1cc90f6908929"
      "83a94282818b8991a73835393f2f85418c41888525db989189298f1100c4faee868c000000");
  std::string v1;
  for (int i = 0; i < 50; ++i) v1 += "v1";
  for (const std::string& b : {none, gzip}) {
    ASSERT_TRUE(validate_batch(b, kMax).ok()) << validate_batch(b, kMax);
    absl::StatusOr<std::vector<Record>> rs = decode_records(b, kMax);
    ASSERT_TRUE(rs.ok()) << rs.status();
    ASSERT_EQ(rs->size(), 3u);
    EXPECT_EQ((*rs)[0].key, "k1");
    EXPECT_EQ((*rs)[0].value, v1);
    ASSERT_EQ((*rs)[0].headers.size(), 1u);
    EXPECT_EQ((*rs)[0].headers[0].key, "h");
    EXPECT_EQ((*rs)[0].headers[0].value, "x");
    EXPECT_EQ((*rs)[1].key, std::nullopt);
    EXPECT_EQ((*rs)[1].value, "second");
    EXPECT_EQ((*rs)[1].timestamp, 1700000000005);
    EXPECT_EQ((*rs)[2].offset, 2);
    EXPECT_EQ((*rs)[2].value, std::nullopt);
    ASSERT_EQ((*rs)[2].headers.size(), 1u);
    EXPECT_EQ((*rs)[2].headers[0].value, std::nullopt);
  }
}

// Random damage must give errors, never crashes or huge allocations (run under ASan in CI).
TEST(RecordBatch, RandomMutationsNeverCrash) {
  std::mt19937 rng(1);
  for (Compression c : {Compression::kNone, Compression::kGzip, Compression::kZstd}) {
    BatchOptions opt;
    opt.compression = c;
    absl::StatusOr<std::string> good = build_batch(opt, sample_records());
    ASSERT_TRUE(good.ok());
    for (int iter = 0; iter < 3000; ++iter) {
      std::string b = *good;
      int flips = 1 + static_cast<int>(rng() % 4);
      for (int k = 0; k < flips; ++k) {
        size_t at = kBatchCrcCoveredFrom + rng() % (b.size() - kBatchCrcCoveredFrom);
        b[at] = static_cast<char>(rng());
      }
      fix_crc(b);
      (void)validate_batch(b, 1 << 20);
      (void)decode_records(b, 1 << 20);
    }
  }
}

}  // namespace
}  // namespace gregor::protocol

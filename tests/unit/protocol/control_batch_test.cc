// Tests for transaction marker batches: the byte layout written out by hand from Kafka's
// EndTransactionMarker / DefaultRecordBatch, and what parse_control_batch refuses.
#include "protocol/control_batch.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "protocol/crc32c.h"
#include "protocol/record_batch.h"

namespace gregor::protocol {
namespace {

void put_be(std::string& s, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) s.push_back(static_cast<char>(v >> (8 * i)));
}

TEST(ControlBatchTest, CommitMarkerBytesMatchKafkasLayout) {
  const int64_t pid = 0x0102030405060708;
  const int64_t ts = 1'700'000'000'123;
  std::string expected;
  put_be(expected, 0, 8);                          // baseOffset (the log assigns it)
  put_be(expected, 78 - 12, 4);                    // batchLength
  put_be(expected, 0xffffffff, 4);                 // partitionLeaderEpoch -1
  expected.push_back(2);                           // magic
  put_be(expected, 0, 4);                          // crc, below
  put_be(expected, 0x30, 2);                       // attributes: transactional | control
  put_be(expected, 0, 4);                          // lastOffsetDelta
  put_be(expected, static_cast<uint64_t>(ts), 8);  // baseTimestamp
  put_be(expected, static_cast<uint64_t>(ts), 8);  // maxTimestamp
  put_be(expected, static_cast<uint64_t>(pid), 8);
  put_be(expected, 7, 2);           // producerEpoch
  put_be(expected, 0xffffffff, 4);  // baseSequence -1
  put_be(expected, 1, 4);           // recordsCount
  // The record: zig-zag varints. length 16, attributes, timestampDelta 0, offsetDelta 0,
  // key length 4: [version 0][type 1 = commit], value length 6: [version 0][epoch 0x11223344],
  // no headers.
  for (int b : {0x20, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01, 0x0c, 0x00, 0x00, 0x11, 0x22,
                0x33, 0x44, 0x00}) {
    expected.push_back(static_cast<char>(b));
  }
  ASSERT_EQ(expected.size(), 78u);
  uint32_t crc =
      crc32c(expected.data() + kBatchCrcCoveredFrom, expected.size() - kBatchCrcCoveredFrom);
  for (int i = 0; i < 4; ++i)
    expected[kBatchCrcOffset + i] = static_cast<char>(crc >> (8 * (3 - i)));

  std::string batch = make_control_batch(pid, 7, /*commit=*/true, 0x11223344, ts);
  EXPECT_EQ(batch, expected);
  EXPECT_TRUE(validate_batch(batch, 1 << 20).ok());
}

TEST(ControlBatchTest, AbortMarkerHasTypeZero) {
  std::string batch = make_control_batch(5, 1, /*commit=*/false, 3, 1000);
  auto records = decode_records(batch, 1 << 20);
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ(*(*records)[0].key, std::string("\0\0\0\0", 4));
  EXPECT_EQ(*(*records)[0].value, std::string("\0\0\0\0\0\3", 6));
  EXPECT_EQ((*records)[0].timestamp, 1000);
}

TEST(ControlBatchTest, ParsesWhatItBuilds) {
  for (bool commit : {false, true}) {
    auto m = parse_control_batch(make_control_batch(9, 2, commit, -1, 5));
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->commit, commit);
    EXPECT_EQ(m->coordinator_epoch, -1);
  }
}

std::string control_batch_with(std::optional<std::string> key, std::optional<std::string> value,
                               bool control = true) {
  BatchOptions o;
  o.producer_id = 1;
  o.producer_epoch = 0;
  o.transactional = true;
  o.control = control;
  Record r;
  r.key = std::move(key);
  r.value = std::move(value);
  auto b = build_batch(o, {r});
  EXPECT_TRUE(b.ok());
  return *b;
}

TEST(ControlBatchTest, RefusesWhatIsNotAMarker) {
  const std::string key("\0\0\0\1", 4), value("\0\0\0\0\0\1", 6);
  EXPECT_TRUE(parse_control_batch(control_batch_with(key, value)).has_value());
  EXPECT_FALSE(parse_control_batch(control_batch_with(key, value, /*control=*/false)));
  EXPECT_FALSE(parse_control_batch(control_batch_with(std::string("\0\0\0", 3), value)));
  EXPECT_FALSE(parse_control_batch(control_batch_with(key, std::string("\0\0\0\0\0", 5))));
  EXPECT_FALSE(parse_control_batch(control_batch_with(std::nullopt, value)));
  EXPECT_FALSE(parse_control_batch(control_batch_with(key, std::nullopt)));
  // Type 2 is KRaft's LeaderChange, not a transaction marker; negative versions are invalid.
  EXPECT_FALSE(parse_control_batch(control_batch_with(std::string("\0\0\0\2", 4), value)));
  EXPECT_FALSE(parse_control_batch(control_batch_with(std::string("\xff\xff\0\1", 4), value)));
  EXPECT_FALSE(parse_control_batch("short"));
}

}  // namespace
}  // namespace gregor::protocol

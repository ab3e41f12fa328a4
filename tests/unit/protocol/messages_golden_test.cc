// Byte-exact vectors for a few requests, worked out by hand from Kafka's protocol spec, so that a
// generator bug that round-trips consistently (both sides equally wrong) is still caught.
#include <string>

#include <gtest/gtest.h>

#include "protocol/messages/add_partitions_to_txn_request.h"
#include "protocol/messages/api_versions_request.h"
#include "protocol/messages/create_topics_request.h"
#include "protocol/messages/end_txn_request.h"
#include "protocol/messages/fetch_request.h"
#include "protocol/messages/init_producer_id_request.h"
#include "protocol/messages/init_producer_id_response.h"
#include "protocol/messages/metadata_request.h"
#include "protocol/messages/produce_request.h"
#include "protocol/messages/producer_ids_record.h"
#include "protocol/messages/transaction_log_key.h"
#include "protocol/messages/transaction_log_value.h"
#include "protocol/messages/txn_offset_commit_request.h"

namespace gregor::protocol::msg {
namespace {

template <typename T>
std::string encode(const T& m, int16_t version) {
  OutputBuffer out;
  Writer w(out);
  m.encode(w, version);
  return out.flatten();
}

// Decodes `bytes` and checks that everything was consumed and re-encodes identically.
template <typename T>
T decode_exact(const std::string& bytes, int16_t version) {
  T m;
  Reader r(bytes);
  m.decode(r, version);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_EQ(encode(m, version), bytes);
  return m;
}

std::string bin(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s.push_back(static_cast<char>(b));
  return s;
}

TEST(MessagesGoldenTest, ApiVersionsRequestV0IsEmpty) {
  EXPECT_EQ(encode(ApiVersionsRequest{}, 0), "");
  ApiVersionsRequest m;
  m.client_software_name = "ignored before v3";
  EXPECT_EQ(encode(m, 0), "");
}

TEST(MessagesGoldenTest, ApiVersionsRequestV3) {
  ApiVersionsRequest m;
  m.client_software_name = "gregor";
  m.client_software_version = "1.0";
  // Compact strings (length + 1 as uvarint), then an empty tagged-field section.
  const std::string want = bin({0x07}) + "gregor" + bin({0x04}) + "1.0" + bin({0x00});
  EXPECT_EQ(encode(m, 3), want);
  EXPECT_TRUE(decode_exact<ApiVersionsRequest>(want, 3) == m);
}

TEST(MessagesGoldenTest, MetadataRequestV0) {
  MetadataRequest m;
  m.topics.emplace().push_back({.topic_id = {}, .name = "foo"});
  const std::string want = bin({0, 0, 0, 1, 0, 3}) + "foo";
  EXPECT_EQ(encode(m, 0), want);
  EXPECT_TRUE(decode_exact<MetadataRequest>(want, 0) == m);
}

TEST(MessagesGoldenTest, MetadataRequestV4) {
  MetadataRequest m;
  m.topics.emplace().push_back({.topic_id = {}, .name = "foo"});
  m.allow_auto_topic_creation = false;
  const std::string want = bin({0, 0, 0, 1, 0, 3}) + "foo" + bin({0x00});
  EXPECT_EQ(encode(m, 4), want);
  EXPECT_TRUE(decode_exact<MetadataRequest>(want, 4) == m);

  // A null topic list (all topics) is int32 -1 from v1; v0 has no null, so it sends [].
  MetadataRequest all;
  EXPECT_EQ(encode(all, 4), bin({0xff, 0xff, 0xff, 0xff, 0x01}));
  EXPECT_EQ(encode(all, 0), bin({0, 0, 0, 0}));
  EXPECT_FALSE(decode_exact<MetadataRequest>(bin({0xff, 0xff, 0xff, 0xff, 0x01}), 4).topics);
}

TEST(MessagesGoldenTest, ProduceRequestV7) {
  const std::string blob = "abc";
  ProduceRequest m;
  m.acks = -1;
  m.timeout_ms = 1000;
  ProduceRequest::PartitionProduceData part;
  part.index = 0;
  part.records.bytes = blob;
  m.topic_data.push_back({.name = "t", .partition_data = {part}});
  const std::string want = bin({0xff, 0xff,                 // transactional_id: null
                                0xff, 0xff,                 // acks: -1
                                0x00, 0x00, 0x03, 0xe8,     // timeout_ms: 1000
                                0x00, 0x00, 0x00, 0x01,     // one topic
                                0x00, 0x01, 't',            // name
                                0x00, 0x00, 0x00, 0x01,     // one partition
                                0x00, 0x00, 0x00, 0x00,     // index 0
                                0x00, 0x00, 0x00, 0x03}) +  // records: 3 bytes
                           "abc";
  EXPECT_EQ(encode(m, 7), want);
  ProduceRequest d = decode_exact<ProduceRequest>(want, 7);
  EXPECT_FALSE(d.transactional_id);
  ASSERT_EQ(d.topic_data.size(), 1u);
  ASSERT_EQ(d.topic_data[0].partition_data.size(), 1u);
  EXPECT_EQ(d.topic_data[0].partition_data[0].records.bytes, "abc");
}

TEST(MessagesGoldenTest, FetchRequestV11) {
  FetchRequest m;
  m.max_wait_ms = 500;
  m.min_bytes = 1;
  m.isolation_level = 1;
  FetchRequest::FetchPartition p;
  p.fetch_offset = 5;
  p.partition_max_bytes = 1 << 20;
  m.topics.push_back({.topic = "t", .partitions = {p}});
  m.cluster_id = "ignored before v12";
  const std::string want = bin({
      0xff, 0xff, 0xff, 0xff,                          // replica_id -1
      0x00, 0x00, 0x01, 0xf4,                          // max_wait_ms 500
      0x00, 0x00, 0x00, 0x01,                          // min_bytes 1
      0x7f, 0xff, 0xff, 0xff,                          // max_bytes default
      0x01,                                            // isolation_level READ_COMMITTED
      0x00, 0x00, 0x00, 0x00,                          // session_id 0
      0xff, 0xff, 0xff, 0xff,                          // session_epoch -1
      0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 't',         // one topic "t"
      0x00, 0x00, 0x00, 0x01,                          // one partition
      0x00, 0x00, 0x00, 0x00,                          // partition 0
      0xff, 0xff, 0xff, 0xff,                          // current_leader_epoch -1
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,  // fetch_offset 5
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  // log_start_offset -1
      0x00, 0x10, 0x00, 0x00,                          // partition_max_bytes 1 MiB
      0x00, 0x00, 0x00, 0x00,                          // no forgotten topics
      0x00, 0x00,                                      // rack_id ""
  });
  EXPECT_EQ(encode(m, 11), want);
  FetchRequest d = decode_exact<FetchRequest>(want, 11);
  m.cluster_id.reset();
  EXPECT_TRUE(d == m);
}

TEST(MessagesGoldenTest, FetchRequestV12CarriesClusterIdAsTag) {
  FetchRequest m;
  m.cluster_id = "c";
  const std::string v12 = encode(m, 12);
  // Tagged section at the very end: one field, tag 0, 2 bytes, compact string "c".
  EXPECT_EQ(v12.substr(v12.size() - 5), bin({0x01, 0x00, 0x02, 0x02, 'c'}));
  EXPECT_TRUE(decode_exact<FetchRequest>(v12, 12) == m);
  m.cluster_id.reset();
  EXPECT_EQ(encode(m, 12).back(), 0x00);  // default: no tagged fields written
}

TEST(MessagesGoldenTest, CreateTopicsRequestV5) {
  CreateTopicsRequest m;
  CreateTopicsRequest::CreatableTopic t;
  t.name = "t";
  t.num_partitions = 3;
  t.replication_factor = 1;
  t.configs.push_back({.name = "a", .value = std::nullopt});
  m.topics.push_back(t);
  const std::string want = bin({
      0x02,                    // one topic (compact: n + 1)
      0x02, 't',               // name
      0x00, 0x00, 0x00, 0x03,  // num_partitions 3
      0x00, 0x01,              // replication_factor 1
      0x01,                    // no assignments
      0x02,                    // one config
      0x02, 'a',               // name "a"
      0x00,                    // value null
      0x00,                    // config's tagged fields
      0x00,                    // topic's tagged fields
      0x00, 0x00, 0xea, 0x60,  // timeout_ms 60000 (default)
      0x00,                    // validate_only false
      0x00,                    // message's tagged fields
  });
  EXPECT_EQ(encode(m, 5), want);
  EXPECT_TRUE(decode_exact<CreateTopicsRequest>(want, 5) == m);
}

TEST(MessagesGoldenTest, InitProducerIdRequestV0Idempotent) {
  InitProducerIdRequest m;
  m.transaction_timeout_ms = 60000;
  m.producer_id = 99;  // v3+ only: neither written nor read in v0
  // Each line of bytes lines up with its comment.
  // clang-format off
  const std::string want = bin({0xff, 0xff,               // transactional_id: null
                                0x00, 0x00, 0xea, 0x60});  // transaction_timeout_ms 60000
  // clang-format on
  EXPECT_EQ(encode(m, 0), want);
  InitProducerIdRequest d = decode_exact<InitProducerIdRequest>(want, 0);
  EXPECT_FALSE(d.transactional_id);
  EXPECT_EQ(d.transaction_timeout_ms, 60000);
  EXPECT_EQ(d.producer_id, -1);
  EXPECT_EQ(d.producer_epoch, -1);
}

TEST(MessagesGoldenTest, InitProducerIdRequestV4) {
  InitProducerIdRequest m;
  m.transactional_id = "tx";
  m.transaction_timeout_ms = 60000;
  m.producer_id = 1000;
  m.producer_epoch = 5;
  const std::string want = bin({
      0x03, 't', 'x',                                  // transactional_id (compact nullable)
      0x00, 0x00, 0xea, 0x60,                          // transaction_timeout_ms 60000
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xe8,  // producer_id 1000
      0x00, 0x05,                                      // producer_epoch 5
      0x00,                                            // tagged fields
  });
  EXPECT_EQ(encode(m, 4), want);
  EXPECT_TRUE(decode_exact<InitProducerIdRequest>(want, 4) == m);

  // An idempotent (non-transactional) producer: compact null is a zero length byte.
  InitProducerIdRequest idem;
  EXPECT_EQ(encode(idem, 4), bin({0x00, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                  0xff, 0xff, 0x00}));
}

TEST(MessagesGoldenTest, InitProducerIdResponseV0) {
  InitProducerIdResponse m;
  EXPECT_EQ(m.producer_id, -1);  // Kafka's default
  m.producer_id = 42;
  m.producer_epoch = 0;
  const std::string want = bin({
      0x00, 0x00, 0x00, 0x00,                          // throttle_time_ms 0
      0x00, 0x00,                                      // error_code 0
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a,  // producer_id 42
      0x00, 0x00,                                      // producer_epoch 0
  });
  EXPECT_EQ(encode(m, 0), want);
  EXPECT_TRUE(decode_exact<InitProducerIdResponse>(want, 0) == m);
}

TEST(MessagesGoldenTest, AddPartitionsToTxnRequestV0) {
  AddPartitionsToTxnRequest m;
  m.transactional_id = "tx";
  m.producer_id = 7;
  m.producer_epoch = 1;
  m.topics.push_back({.name = "t", .partitions = {0, 2}});
  // Each line of bytes lines up with its comment.
  // clang-format off
  const std::string want = bin({
      0x00, 0x02, 't', 'x',                            // transactional_id
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07,  // producer_id 7
      0x00, 0x01,                                      // producer_epoch 1
      0x00, 0x00, 0x00, 0x01,                          // one topic
      0x00, 0x01, 't',                                 // name
      0x00, 0x00, 0x00, 0x02,                          // two partitions
      0x00, 0x00, 0x00, 0x00,                          // 0
      0x00, 0x00, 0x00, 0x02,                          // 2
  });
  // clang-format on
  EXPECT_EQ(encode(m, 0), want);
  EXPECT_TRUE(decode_exact<AddPartitionsToTxnRequest>(want, 0) == m);
}

TEST(MessagesGoldenTest, EndTxnRequestV3) {
  EndTxnRequest m;
  m.transactional_id = "tx";
  m.producer_id = 7;
  m.producer_epoch = 1;
  m.committed = true;
  const std::string want = bin({
      0x03, 't', 'x',                                  // transactional_id (compact)
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07,  // producer_id 7
      0x00, 0x01,                                      // producer_epoch 1
      0x01,                                            // committed
      0x00,                                            // tagged fields
  });
  EXPECT_EQ(encode(m, 3), want);
  EXPECT_TRUE(decode_exact<EndTxnRequest>(want, 3) == m);
}

TEST(MessagesGoldenTest, TxnOffsetCommitRequestV3) {
  TxnOffsetCommitRequest m;
  m.transactional_id = "tx";
  m.group_id = "g";
  m.producer_id = 7;
  m.producer_epoch = 1;
  m.generation_id = 3;
  m.member_id = "m";
  TxnOffsetCommitRequest::TxnOffsetCommitRequestPartition p;
  p.partition_index = 0;
  p.committed_offset = 100;
  p.committed_metadata = "";
  m.topics.push_back({.name = "t", .partitions = {p}});
  // Each line of bytes lines up with its comment.
  // clang-format off
  const std::string want = bin({
      0x03, 't', 'x',                                  // transactional_id
      0x02, 'g',                                       // group_id
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07,  // producer_id 7
      0x00, 0x01,                                      // producer_epoch 1
      0x00, 0x00, 0x00, 0x03,                          // generation_id 3
      0x02, 'm',                                       // member_id
      0x00,                                            // group_instance_id: null
      0x02,                                            // one topic (compact: n + 1)
      0x02, 't',                                       // name
      0x02,                                            // one partition
      0x00, 0x00, 0x00, 0x00,                          // partition_index 0
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x64,  // committed_offset 100
      0xff, 0xff, 0xff, 0xff,                          // committed_leader_epoch -1 (default)
      0x01,                                            // committed_metadata "" (not null)
      0x00,                                            // partition's tagged fields
      0x00,                                            // topic's tagged fields
      0x00,                                            // message's tagged fields
  });
  // clang-format on
  EXPECT_EQ(encode(m, 3), want);
  EXPECT_TRUE(decode_exact<TxnOffsetCommitRequest>(want, 3) == m);
}

TEST(MessagesGoldenTest, TransactionLogKeyV0) {
  TransactionLogKey m;
  m.transactional_id = "tx";
  const std::string want = bin({0x00, 0x02, 't', 'x'});
  EXPECT_EQ(encode(m, 0), want);
  EXPECT_TRUE(decode_exact<TransactionLogKey>(want, 0) == m);
}

TEST(MessagesGoldenTest, TransactionLogValueV0) {
  TransactionLogValue m;
  m.producer_id = 1000;
  m.producer_epoch = 2;
  m.transaction_timeout_ms = 60000;
  m.transaction_status = 1;  // Ongoing
  m.transaction_partitions.emplace().push_back({.topic = "t", .partition_ids = {0}});
  m.transaction_last_update_timestamp_ms = 1700000005000;
  m.transaction_start_timestamp_ms = 1700000000000;
  m.client_transaction_version = 2;  // tagged, v1+ only
  const std::string want = bin({
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xe8,  // producer_id 1000
      0x00, 0x02,                                      // producer_epoch 2
      0x00, 0x00, 0xea, 0x60,                          // transaction_timeout_ms 60000
      0x01,                                            // transaction_status Ongoing
      0x00, 0x00, 0x00, 0x01,                          // one topic
      0x00, 0x01, 't',                                 // topic
      0x00, 0x00, 0x00, 0x01,                          // one partition
      0x00, 0x00, 0x00, 0x00,                          // partition 0
      0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x7b, 0x88,  // last update 1700000005000
      0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00,  // start 1700000000000
  });
  EXPECT_EQ(encode(m, 0), want);
  TransactionLogValue d = decode_exact<TransactionLogValue>(want, 0);
  EXPECT_EQ(d.client_transaction_version, 0);
  m.client_transaction_version = 0;
  EXPECT_TRUE(d == m);

  // Empty state: no partitions, written as a null array (int32 -1).
  TransactionLogValue empty;
  empty.transaction_partitions.reset();
  const std::string v0 = encode(empty, 0);
  EXPECT_EQ(v0.substr(15, 4), bin({0xff, 0xff, 0xff, 0xff}));
  EXPECT_FALSE(decode_exact<TransactionLogValue>(v0, 0).transaction_partitions);
}

TEST(MessagesGoldenTest, TransactionLogValueV1CarriesTaggedFields) {
  TransactionLogValue m;
  m.client_transaction_version = 2;
  // Each line of bytes lines up with its comment.
  // clang-format off
  const std::string want = bin({
      0, 0, 0, 0, 0, 0, 0, 0,  // producer_id 0
      0, 0,                    // producer_epoch 0
      0, 0, 0, 0,              // transaction_timeout_ms 0
      0,                       // transaction_status Empty
      0x00,                    // transaction_partitions: null (compact)
      0, 0, 0, 0, 0, 0, 0, 0,  // last update 0
      0, 0, 0, 0, 0, 0, 0, 0,  // start 0
      0x01,                    // one tagged field (previous/next producer id are -1: not written)
      0x02, 0x02, 0x00, 0x02,  // tag 2, 2 bytes: client_transaction_version 2
  });
  // clang-format on
  EXPECT_EQ(encode(m, 1), want);
  EXPECT_TRUE(decode_exact<TransactionLogValue>(want, 1) == m);
}

TEST(MessagesGoldenTest, ProducerIdsRecordV0) {
  ProducerIdsRecord m;
  m.broker_id = 1;
  m.next_producer_id = 2000;
  const std::string want = bin({
      0x00, 0x00, 0x00, 0x01,                          // broker_id 1
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  // broker_epoch -1 (default)
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0xd0,  // next_producer_id 2000
      0x00,                                            // tagged fields
  });
  EXPECT_EQ(encode(m, 0), want);
  EXPECT_TRUE(decode_exact<ProducerIdsRecord>(want, 0) == m);
}

}  // namespace
}  // namespace gregor::protocol::msg

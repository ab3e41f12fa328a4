// Rendering of topic lists, descriptions and create/delete results as tables and JSON.
#include "tools/gregorctl/output.h"

#include <gtest/gtest.h>

namespace gregor::tools {
namespace {

TopicInfo sample_topic() {
  TopicInfo t;
  t.name = "orders";
  t.topic_id = "AAECAwQFBgcICQoLDA0ODw";
  PartitionInfo p0;
  p0.partition = 0;
  p0.leader = 1;
  p0.leader_epoch = 4;
  p0.replicas = {1, 2};
  p0.isr = {1, 2};
  PartitionInfo p1 = p0;
  p1.partition = 1;
  p1.leader = -1;
  p1.isr = {};
  p1.error_code = 5;
  t.partitions = {p0, p1};
  return t;
}

TEST(Output, TableAlignsColumnsWithoutTrailingBlanks) {
  std::string t = format_table({"A", "LONGER"}, {{"xxxx", "1"}, {"y"}});
  EXPECT_EQ(t,
            "A     LONGER\n"
            "xxxx  1\n"
            "y\n");
}

TEST(Output, JsonQuoteEscapes) {
  EXPECT_EQ(json_quote("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
}

TEST(Output, TopicIdIsUrlSafeBase64WithoutPadding) {
  protocol::Uuid id{};
  EXPECT_EQ(topic_id_string(id), "");
  for (size_t i = 0; i < id.size(); ++i) id[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(topic_id_string(id), "AAECAwQFBgcICQoLDA0ODw");
  id.fill(0xff);
  EXPECT_EQ(topic_id_string(id), "_____________________w");
}

TEST(Output, ListTable) {
  TopicInfo empty;
  empty.name = "e";
  std::string s = render_topic_list({sample_topic(), empty}, OutputFormat::kTable);
  EXPECT_EQ(s,
            "TOPIC   PARTITIONS  REPLICATION-FACTOR  TOPIC-ID\n"
            "orders  2           2                   AAECAwQFBgcICQoLDA0ODw\n"
            "e       0           0                   -\n");
}

TEST(Output, ListJson) {
  std::string s = render_topic_list({sample_topic()}, OutputFormat::kJson);
  EXPECT_EQ(s,
            "{\"topics\":[{\"name\":\"orders\",\"topic_id\":\"AAECAwQFBgcICQoLDA0ODw\","
            "\"internal\":false,\"partition_count\":2,\"replication_factor\":2}]}\n");
  EXPECT_EQ(render_topic_list({}, OutputFormat::kJson), "{\"topics\":[]}\n");
}

TEST(Output, DescribeTable) {
  std::string s = render_topic_describe({sample_topic()}, OutputFormat::kTable);
  EXPECT_EQ(s,
            "Topic: orders  TopicId: AAECAwQFBgcICQoLDA0ODw  PartitionCount: 2  "
            "ReplicationFactor: 2\n"
            "PARTITION  LEADER  REPLICAS  ISR  ERROR\n"
            "0          1       1,2       1,2\n"
            "1          none    1,2            LEADER_NOT_AVAILABLE\n");
}

TEST(Output, DescribeJson) {
  std::string s = render_topic_describe({sample_topic()}, OutputFormat::kJson);
  EXPECT_EQ(s,
            "{\"topics\":[{\"name\":\"orders\",\"topic_id\":\"AAECAwQFBgcICQoLDA0ODw\","
            "\"internal\":false,\"partition_count\":2,\"replication_factor\":2,\"partitions\":["
            "{\"partition\":0,\"leader\":1,\"leader_epoch\":4,\"replicas\":[1,2],\"isr\":[1,2],"
            "\"offline_replicas\":[],\"error\":null},"
            "{\"partition\":1,\"leader\":-1,\"leader_epoch\":4,\"replicas\":[1,2],\"isr\":[],"
            "\"offline_replicas\":[],\"error\":\"LEADER_NOT_AVAILABLE\"}]}]}\n");
}

TEST(Output, Results) {
  std::vector<ResultLine> lines = {
      {{"a", 0, std::nullopt}, ResultStatus::kCreated},
      {{"b", 36, std::string("Topic 'b' already exists.")}, ResultStatus::kError},
      {{"c", 36, std::nullopt}, ResultStatus::kExists},
      {{"d", 0, std::nullopt}, ResultStatus::kValid},
      {{"e", 0, std::nullopt}, ResultStatus::kDeleted},
  };
  EXPECT_EQ(render_results(lines, OutputFormat::kTable),
            "Created topic a.\n"
            "Topic c already exists.\n"
            "Topic d is valid (not created: --validate-only).\n"
            "Deleted topic e.\n");
  EXPECT_EQ(render_results({lines[0], lines[1]}, OutputFormat::kJson),
            "{\"results\":[{\"name\":\"a\",\"status\":\"created\",\"error\":null,\"error_code\":0,"
            "\"error_message\":null},{\"name\":\"b\",\"status\":\"error\",\"error\":"
            "\"TOPIC_ALREADY_EXISTS\",\"error_code\":36,\"error_message\":\"Topic 'b' already "
            "exists.\"}]}\n");
}

}  // namespace
}  // namespace gregor::tools

// The topic verbs end to end against a fake broker (what is sent, what is printed, exit codes),
// and the reports' handling of --if-not-exists, --validate-only and per-topic errors.
#include "tools/gregorctl/commands.h"

#include <gtest/gtest.h>

#include "protocol/messages/api_versions_response.h"
#include "protocol/messages/create_topics_request.h"
#include "protocol/messages/create_topics_response.h"
#include "protocol/messages/delete_topics_request.h"
#include "protocol/messages/delete_topics_response.h"
#include "protocol/messages/metadata_request.h"
#include "protocol/messages/metadata_response.h"
#include "tests/unit/tools/gregorctl/fake_broker.h"

namespace gregor::tools {
namespace {

namespace msg = protocol::msg;
using testing::FakeBroker;
using testing::FakeReply;
using testing::FakeRequest;

// A broker that lists Metadata/CreateTopics/DeleteTopics up to the given versions and knows
// the topic "orders" (2 partitions, replicas 1,2).
class TopicBroker {
 public:
  explicit TopicBroker(int16_t metadata_max = 12, int16_t create_max = 7, int16_t delete_max = 6)
      : broker_([=, this](const FakeRequest& req) {
          return handle(req, metadata_max, create_max, delete_max);
        }) {}

  Command command(Verb verb, std::vector<std::string> topics = {}) {
    Command c;
    c.verb = verb;
    c.bootstrap_server = broker_.bootstrap();
    c.topics = std::move(topics);
    c.timeout_ms = 2000;
    return c;
  }
  // The last request of this api, decoded at the version it was sent with.
  template <typename Request>
  std::pair<Request, int16_t> last() {
    for (const FakeRequest& r : broker_.requests()) {
      if (r.api_key == Request::kApiKey) {
        last_version_ = r.api_version;
        last_body_ = r.body;
      }
    }
    return {testing::decode_body<Request>(last_body_, last_version_), last_version_};
  }

 private:
  static FakeReply handle(const FakeRequest& req, int16_t metadata_max, int16_t create_max,
                          int16_t delete_max) {
    switch (req.api_key) {
      case 18: {
        msg::ApiVersionsResponse resp;
        resp.api_keys = {
            {18, 0, 3}, {3, 0, metadata_max}, {19, 0, create_max}, {20, 0, delete_max}};
        return testing::encode_body(resp, req.api_version);
      }
      case 3: {
        auto request = testing::decode_body<msg::MetadataRequest>(req.body, req.api_version);
        msg::MetadataResponse resp;
        resp.brokers.push_back({1, "localhost", 9092, std::nullopt});
        std::vector<std::string> wanted;
        if (request.topics && !request.topics->empty()) {
          for (const auto& t : *request.topics) wanted.push_back(t.name.value_or(""));
        } else {
          wanted = {"orders", "audit"};
        }
        for (const std::string& name : wanted) {
          auto& topic = resp.topics.emplace_back();
          topic.name = name;
          if (name != "orders" && name != "audit") {
            topic.error_code = 3;
            continue;
          }
          topic.topic_id[15] = 1;
          for (int32_t p : {1, 0}) {  // out of order on purpose
            auto& part = topic.partitions.emplace_back();
            part.partition_index = p;
            part.leader_id = 1;
            part.replica_nodes = {1, 2};
            part.isr_nodes = {1};
          }
        }
        return testing::encode_body(resp, req.api_version);
      }
      case 19: {
        auto request = testing::decode_body<msg::CreateTopicsRequest>(req.body, req.api_version);
        msg::CreateTopicsResponse resp;
        for (const auto& t : request.topics) {
          auto& r = resp.topics.emplace_back();
          r.name = t.name;
          if (t.name == "orders") {
            r.error_code = 36;
            r.error_message = "Topic 'orders' already exists.";
          } else if (t.num_partitions == 0) {
            r.error_code = 37;
            r.error_message = "Number of partitions must be larger than 0.";
          }
        }
        return testing::encode_body(resp, req.api_version);
      }
      case 20: {
        auto request = testing::decode_body<msg::DeleteTopicsRequest>(req.body, req.api_version);
        msg::DeleteTopicsResponse resp;
        std::vector<std::string> names = request.topic_names;
        for (const auto& t : request.topics) names.push_back(t.name.value_or(""));
        for (const std::string& name : names) {
          auto& r = resp.responses.emplace_back();
          r.name = name;
          if (name != "orders") r.error_code = 3;
        }
        return testing::encode_body(resp, req.api_version);
      }
    }
    return FakeReply();
  }

  FakeBroker broker_;
  int16_t last_version_ = -1;
  std::string last_body_;
};

TEST(Commands, CreateSendsEverythingAndReportsSuccess) {
  TopicBroker broker;
  Command cmd = broker.command(Verb::kTopicCreate, {"events"});
  cmd.partitions = 3;
  cmd.replication_factor = 1;
  cmd.configs = {{"retention.ms", "1000"}, {"cleanup.policy", "compact"}};
  Report r = run_command(cmd);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Created topic events.\n");
  EXPECT_EQ(r.err, "");
  auto [sent, version] = broker.last<msg::CreateTopicsRequest>();
  EXPECT_EQ(version, 7);
  ASSERT_EQ(sent.topics.size(), 1u);
  EXPECT_EQ(sent.topics[0].name, "events");
  EXPECT_EQ(sent.topics[0].num_partitions, 3);
  EXPECT_EQ(sent.topics[0].replication_factor, 1);
  ASSERT_EQ(sent.topics[0].configs.size(), 2u);
  EXPECT_EQ(sent.topics[0].configs[1].name, "cleanup.policy");
  EXPECT_EQ(sent.topics[0].configs[1].value, "compact");
  EXPECT_EQ(sent.timeout_ms, 2000);
  EXPECT_FALSE(sent.validate_only);
}

TEST(Commands, CreateExistingTopicFailsUnlessIfNotExists) {
  TopicBroker broker;
  Command cmd = broker.command(Verb::kTopicCreate, {"orders"});
  cmd.partitions = 1;
  Report r = run_command(cmd);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "Error: topic 'orders' already exists (TOPIC_ALREADY_EXISTS)\n");
  cmd.if_not_exists = true;
  r = run_command(cmd);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Topic orders already exists.\n");
}

TEST(Commands, CreateCarriesTheBrokersMessage) {
  TopicBroker broker;
  Command cmd = broker.command(Verb::kTopicCreate, {"zero"});
  cmd.partitions = 0;
  cmd.output = OutputFormat::kJson;
  Report r = run_command(cmd);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "Error: invalid number of partitions for topic 'zero': Number of partitions must be "
            "larger than 0. (INVALID_PARTITIONS)\n");
  EXPECT_NE(r.out.find("\"status\":\"error\""), std::string::npos) << r.out;
}

TEST(Commands, ValidateOnly) {
  TopicBroker broker;
  Command cmd = broker.command(Verb::kTopicCreate, {"events"});
  cmd.validate_only = true;
  Report r = run_command(cmd);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Topic events is valid (not created: --validate-only).\n");
  EXPECT_TRUE(broker.last<msg::CreateTopicsRequest>().first.validate_only);
}

TEST(Commands, OldCreateTopicsNeedsExplicitCounts) {
  TopicBroker broker(12, 3, 6);
  Report r = run_command(broker.command(Verb::kTopicCreate, {"events"}));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--partitions"), std::string::npos) << r.err;
}

TEST(Commands, ListSortsAndDoesNotAutoCreate) {
  TopicBroker broker;
  Report r = run_command(broker.command(Verb::kTopicList));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "TOPIC   PARTITIONS  REPLICATION-FACTOR  TOPIC-ID\n"
            "audit   2           2                   AAAAAAAAAAAAAAAAAAAAAQ\n"
            "orders  2           2                   AAAAAAAAAAAAAAAAAAAAAQ\n");
  auto [sent, version] = broker.last<msg::MetadataRequest>();
  EXPECT_EQ(version, 12);
  EXPECT_FALSE(sent.topics.has_value());  // null: every topic
  EXPECT_FALSE(sent.allow_auto_topic_creation);
}

TEST(Commands, ListWithMetadataV0AsksWithAnEmptyArray) {
  TopicBroker broker(0);
  Report r = run_command(broker.command(Verb::kTopicList));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("orders"), std::string::npos);
  EXPECT_EQ(broker.last<msg::MetadataRequest>().second, 0);
}

TEST(Commands, DescribeNamedTopicsAndUnknownOnes) {
  TopicBroker broker;
  Command cmd = broker.command(Verb::kTopicDescribe, {"orders", "ghost"});
  Report r = run_command(cmd);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "Error: topic 'ghost' does not exist (UNKNOWN_TOPIC_OR_PARTITION)\n");
  EXPECT_EQ(r.out,
            "Topic: orders  TopicId: AAAAAAAAAAAAAAAAAAAAAQ  PartitionCount: 2  "
            "ReplicationFactor: 2\n"
            "PARTITION  LEADER  REPLICAS  ISR  ERROR\n"
            "0          1       1,2       1\n"
            "1          1       1,2       1\n");
  auto [sent, version] = broker.last<msg::MetadataRequest>();
  ASSERT_TRUE(sent.topics.has_value());
  ASSERT_EQ(sent.topics->size(), 2u);
  EXPECT_EQ((*sent.topics)[1].name, "ghost");
}

TEST(Commands, DeleteByNameAtEveryVersion) {
  for (int16_t max : {int16_t{1}, int16_t{5}, int16_t{6}}) {
    TopicBroker broker(12, 7, max);
    Command cmd = broker.command(Verb::kTopicDelete, {"orders", "ghost"});
    Report r = run_command(cmd);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.out, "Deleted topic orders.\n");
    EXPECT_EQ(r.err, "Error: topic 'ghost' does not exist (UNKNOWN_TOPIC_OR_PARTITION)\n");
    auto [sent, version] = broker.last<msg::DeleteTopicsRequest>();
    EXPECT_EQ(version, max);
    if (max >= 6) {
      ASSERT_EQ(sent.topics.size(), 2u);
      EXPECT_EQ(sent.topics[0].name, "orders");
    } else {
      EXPECT_EQ(sent.topic_names, (std::vector<std::string>{"orders", "ghost"}));
    }
  }
}

TEST(Commands, UnreachableBroker) {
  Command cmd;
  cmd.bootstrap_server = "127.0.0.1:1";
  cmd.timeout_ms = 1000;
  Report r = run_command(cmd);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err.rfind("Error: cannot reach any bootstrap server (127.0.0.1:1", 0), 0u) << r.err;
}

TEST(Commands, ReportsWithoutABroker) {
  Command cmd;
  cmd.output = OutputFormat::kJson;
  ClusterMetadata md;
  TopicInfo bad;
  bad.name = "b";
  bad.error_code = 5;
  md.topics = {bad};
  Report r = report_list(cmd, md);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "{\"topics\":[]}\n");
  EXPECT_EQ(r.err, "Error: cannot describe topic 'b' (LEADER_NOT_AVAILABLE)\n");

  Report d = report_delete(cmd, {{"a", 0, std::nullopt}});
  EXPECT_EQ(d.exit_code, 0);
  EXPECT_EQ(d.out,
            "{\"results\":[{\"name\":\"a\",\"status\":\"deleted\",\"error\":null,\"error_code\":0,"
            "\"error_message\":null}]}\n");
}

TEST(Commands, ExcludeInternal) {
  Command cmd;
  ClusterMetadata md;
  TopicInfo internal;
  internal.name = "__consumer_offsets";
  internal.internal = true;
  TopicInfo user;
  user.name = "orders";
  md.topics = {internal, user};
  EXPECT_NE(report_list(cmd, md).out.find("__consumer_offsets"), std::string::npos);
  cmd.exclude_internal = true;
  Report r = report_list(cmd, md);
  EXPECT_EQ(r.out.find("__consumer_offsets"), std::string::npos);
  EXPECT_NE(r.out.find("orders"), std::string::npos);
}

TEST(Commands, DescribeWaitsOutLeaderNotAvailable) {
  int metadata_calls = 0;
  FakeBroker broker([&](const FakeRequest& req) -> FakeReply {
    if (req.api_key == 18) {
      msg::ApiVersionsResponse resp;
      resp.api_keys = {{18, 0, 3}, {3, 0, 12}};
      return testing::encode_body(resp, req.api_version);
    }
    msg::MetadataResponse resp;
    auto& topic = resp.topics.emplace_back();
    topic.name = "fresh";
    if (++metadata_calls < 3) {
      topic.error_code = 5;
    } else {
      topic.partitions.emplace_back().replica_nodes = {1};
    }
    return testing::encode_body(resp, req.api_version);
  });
  Command cmd;
  cmd.verb = Verb::kTopicDescribe;
  cmd.bootstrap_server = broker.bootstrap();
  cmd.topics = {"fresh"};
  cmd.output = OutputFormat::kJson;
  Report r = run_command(cmd);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"partition_count\":1"), std::string::npos) << r.out;
  EXPECT_EQ(metadata_calls, 3);
}

}  // namespace
}  // namespace gregor::tools

// The group verbs end to end against a fake broker that plays coordinator and leader: what is
// sent (versions, coordinator keys, admin commits), what is printed, and the exit codes.
#include "tools/gregorctl/group_commands.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>

#include "protocol/messages/api_versions_response.h"
#include "protocol/messages/delete_groups_request.h"
#include "protocol/messages/delete_groups_response.h"
#include "protocol/messages/describe_groups_request.h"
#include "protocol/messages/describe_groups_response.h"
#include "protocol/messages/find_coordinator_request.h"
#include "protocol/messages/find_coordinator_response.h"
#include "protocol/messages/list_groups_request.h"
#include "protocol/messages/list_groups_response.h"
#include "protocol/messages/list_offsets_request.h"
#include "protocol/messages/list_offsets_response.h"
#include "protocol/messages/metadata_request.h"
#include "protocol/messages/metadata_response.h"
#include "protocol/messages/offset_commit_request.h"
#include "protocol/messages/offset_commit_response.h"
#include "protocol/messages/offset_fetch_request.h"
#include "protocol/messages/offset_fetch_response.h"
#include "tests/unit/tools/gregorctl/fake_broker.h"
#include "tools/gregorctl/consumer_protocol.h"

namespace gregor::tools {
namespace {

namespace msg = protocol::msg;
using testing::FakeBroker;
using testing::FakeReply;
using testing::FakeRequest;

using Versions = std::map<int16_t, int16_t>;

struct FakeMember {
  std::string id, client_id, host;
  std::vector<TopicPartitions> assignment;
};
struct FakeGroup {
  std::string state;
  std::vector<FakeMember> members;
  std::map<TopicPartition, int64_t> committed;
};

// One broker (node 1) that coordinates every group and leads "orders" (2 partitions) and
// "audit" (1 partition). Log start offset 2 everywhere; log end offsets 10, 7 and 4; a time
// lookup finds offset 6 in orders-0 and nothing elsewhere.
class GroupBroker {
 public:
  // max_versions overrides the highest version listed for an api key.
  explicit GroupBroker(std::map<int16_t, int16_t> max_versions = {})
      : max_versions_(std::move(max_versions)),
        broker_([this](const FakeRequest& req) { return handle(req); }) {
    port_ = std::stoi(broker_.bootstrap().substr(broker_.bootstrap().find(':') + 1));
    groups_["g"] = {"Stable",
                    {{"m1", "c1", "/10.0.0.1", {{"orders", {0}}}},
                     {"m2", "c2", "/10.0.0.2", {{"orders", {1}}}},
                     {"m3", "c3", "/10.0.0.3", {}}},
                    {{{"orders", 0}, 5}, {{"audit", 0}, 3}}};
    groups_["idle"] = {"Empty", {}, {{{"orders", 0}, 5}, {{"orders", 1}, 1}}};
    groups_["stale"] = {"Empty", {}, {{{"gone", 0}, 1}}};
  }

  Command command(Verb verb, std::vector<std::string> groups = {}) {
    Command c;
    c.verb = verb;
    c.bootstrap_server = broker_.bootstrap();
    c.groups = std::move(groups);
    c.timeout_ms = 2000;
    return c;
  }

  template <typename Request>
  std::vector<std::pair<Request, int16_t>> sent() {
    std::vector<std::pair<Request, int16_t>> out;
    for (const FakeRequest& r : broker_.requests()) {
      if (r.api_key == Request::kApiKey) {
        out.emplace_back(testing::decode_body<Request>(r.body, r.api_version), r.api_version);
      }
    }
    return out;
  }

  std::atomic<int> coordinator_not_available{0};  // answer this many FindCoordinators so
  std::atomic<int32_t> coordinator_port{0};       // FindCoordinator names this port, not ours
  int32_t port() const { return port_; }

 private:
  int16_t max(int16_t key, int16_t ours) const {
    auto it = max_versions_.find(key);
    return it == max_versions_.end() ? ours : it->second;
  }

  FakeReply handle(const FakeRequest& req) {
    int16_t v = req.api_version;
    switch (req.api_key) {
      case 18: {
        msg::ApiVersionsResponse resp;
        resp.api_keys = {{18, 0, 3},          {3, 0, max(3, 12)},  {2, 0, max(2, 8)},
                         {8, 0, max(8, 8)},   {9, 0, max(9, 8)},   {10, 0, max(10, 4)},
                         {15, 0, max(15, 5)}, {16, 0, max(16, 4)}, {42, 0, max(42, 2)}};
        return testing::encode_body(resp, v);
      }
      case 3: {
        auto request = testing::decode_body<msg::MetadataRequest>(req.body, v);
        msg::MetadataResponse resp;
        resp.brokers.push_back({1, "127.0.0.1", port_, std::nullopt});
        if (request.topics) {
          for (const auto& t : *request.topics) {
            auto& topic = resp.topics.emplace_back();
            topic.name = t.name;
            int32_t n = t.name == "orders" ? 2 : t.name == "audit" ? 1 : 0;
            if (n == 0) topic.error_code = 3;
            for (int32_t p = 0; p < n; ++p) {
              auto& part = topic.partitions.emplace_back();
              part.partition_index = p;
              part.leader_id = 1;
              part.replica_nodes = {1};
            }
          }
        }
        return testing::encode_body(resp, v);
      }
      case 10: {
        auto request = testing::decode_body<msg::FindCoordinatorRequest>(req.body, v);
        msg::FindCoordinatorResponse resp;
        int16_t error = 0;
        if (coordinator_not_available > 0) {
          --coordinator_not_available;
          error = 15;
        }
        int32_t port = coordinator_port != 0 ? coordinator_port.load() : port_;
        resp.error_code = error;
        resp.node_id = 1;
        resp.host = "127.0.0.1";
        resp.port = port;
        for (const std::string& key : request.coordinator_keys) {
          resp.coordinators.push_back({key, 1, "127.0.0.1", port, error, std::nullopt});
        }
        return testing::encode_body(resp, v);
      }
      case 16: {
        auto request = testing::decode_body<msg::ListGroupsRequest>(req.body, v);
        msg::ListGroupsResponse resp;
        for (const auto& [id, g] : groups_) {
          if (!request.states_filter.empty() &&
              std::find(request.states_filter.begin(), request.states_filter.end(), g.state) ==
                  request.states_filter.end()) {
            continue;
          }
          resp.groups.push_back({id, "consumer", g.state});
        }
        return testing::encode_body(resp, v);
      }
      case 15: {
        auto request = testing::decode_body<msg::DescribeGroupsRequest>(req.body, v);
        msg::DescribeGroupsResponse resp;
        for (const std::string& id : request.groups) {
          auto& d = resp.groups.emplace_back();
          d.group_id = id;
          auto it = groups_.find(id);
          if (it == groups_.end()) {
            d.group_state = "Dead";
            continue;
          }
          d.group_state = it->second.state;
          d.protocol_type = "consumer";
          d.protocol_data = it->second.members.empty() ? "" : "range";
          for (const FakeMember& m : it->second.members) {
            auto& member = d.members.emplace_back();
            member.member_id = m.id;
            member.client_id = m.client_id;
            member.client_host = m.host;
            ConsumerSubscription s;
            s.topics = {"orders"};
            member.member_metadata = encode_consumer_subscription(s);
            ConsumerAssignment a;
            a.partitions = m.assignment;
            member.member_assignment = encode_consumer_assignment(a);
          }
        }
        return testing::encode_body(resp, v);
      }
      case 9: {
        auto request = testing::decode_body<msg::OffsetFetchRequest>(req.body, v);
        std::string id = v >= 8 ? request.groups.at(0).group_id : request.group_id;
        std::map<std::string, std::vector<std::pair<int32_t, int64_t>>> topics;
        if (auto it = groups_.find(id); it != groups_.end()) {
          for (const auto& [tp, offset] : it->second.committed) {
            topics[tp.topic].push_back({tp.partition, offset});
          }
        }
        msg::OffsetFetchResponse resp;
        if (v < 8) {
          for (const auto& [name, parts] : topics) {
            auto& t = resp.topics.emplace_back();
            t.name = name;
            for (auto [p, o] : parts) t.partitions.push_back({p, o, -1, "", 0});
          }
        } else {
          auto& g = resp.groups.emplace_back();
          g.group_id = id;
          for (const auto& [name, parts] : topics) {
            auto& t = g.topics.emplace_back();
            t.name = name;
            for (auto [p, o] : parts) t.partitions.push_back({p, o, -1, "", 0});
          }
        }
        return testing::encode_body(resp, v);
      }
      case 2: {
        auto request = testing::decode_body<msg::ListOffsetsRequest>(req.body, v);
        msg::ListOffsetsResponse resp;
        for (const auto& t : request.topics) {
          auto& topic = resp.topics.emplace_back();
          topic.name = t.name;
          for (const auto& p : t.partitions) {
            auto& part = topic.partitions.emplace_back();
            part.partition_index = p.partition_index;
            int64_t end = t.name == "audit" ? 4 : p.partition_index == 0 ? 10 : 7;
            if (p.timestamp == -2) {
              part.offset = 2;
            } else if (p.timestamp == -1) {
              part.offset = end;
            } else {
              part.offset = t.name == "orders" && p.partition_index == 0 ? 6 : -1;
            }
            part.old_style_offsets = {part.offset};
          }
        }
        return testing::encode_body(resp, v);
      }
      case 8: {
        auto request = testing::decode_body<msg::OffsetCommitRequest>(req.body, v);
        msg::OffsetCommitResponse resp;
        for (const auto& t : request.topics) {
          auto& topic = resp.topics.emplace_back();
          topic.name = t.name;
          for (const auto& p : t.partitions) topic.partitions.push_back({p.partition_index, 0});
        }
        return testing::encode_body(resp, v);
      }
      case 42: {
        auto request = testing::decode_body<msg::DeleteGroupsRequest>(req.body, v);
        msg::DeleteGroupsResponse resp;
        for (const std::string& id : request.groups_names) {
          int16_t error = 69;  // GROUP_ID_NOT_FOUND
          if (auto it = groups_.find(id); it != groups_.end()) {
            error = it->second.members.empty() ? 0 : 68;  // NON_EMPTY_GROUP
          }
          resp.results.push_back({id, error});
        }
        return testing::encode_body(resp, v);
      }
    }
    return FakeReply();
  }

  std::map<int16_t, int16_t> max_versions_;
  std::map<std::string, FakeGroup> groups_;
  int32_t port_ = 0;
  FakeBroker broker_;  // last: its thread must stop before the members above go
};

Report run(const Command& cmd) {
  return run_command(cmd);
}

TEST(GroupCommands, ListAsksEveryBrokerAndFiltersByState) {
  GroupBroker broker;
  Report r = run(broker.command(Verb::kGroupList));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "GROUP  PROTOCOL-TYPE  STATE\n"
            "g      consumer       Stable\n"
            "idle   consumer       Empty\n"
            "stale  consumer       Empty\n");
  Command json = broker.command(Verb::kGroupList);
  json.states = {"Stable"};
  json.output = OutputFormat::kJson;
  r = run(json);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "{\"groups\":[{\"group_id\":\"g\",\"protocol_type\":\"consumer\",\"state\":"
            "\"Stable\"}]}\n");
  auto sent = broker.sent<msg::ListGroupsRequest>();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[1].second, 4);
  EXPECT_EQ(sent[1].first.states_filter, std::vector<std::string>{"Stable"});
}

TEST(GroupCommands, ListStateFilterNeedsV4) {
  GroupBroker broker(Versions{{16, 3}});
  Command cmd = broker.command(Verb::kGroupList);
  Report plain = run(cmd);
  EXPECT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_NE(plain.out.find("g      consumer       -\n"), std::string::npos) << plain.out;
  cmd.states = {"Stable"};
  Report r = run(cmd);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "Error: the broker speaks ListGroups v3 only; --state needs v4\n");
}

TEST(GroupCommands, DescribeJoinsMembersOffsetsAndLag) {
  GroupBroker broker;
  Report r = run(broker.command(Verb::kGroupDescribe, {"g"}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::string port = broker.command(Verb::kGroupList).bootstrap_server;
  EXPECT_EQ(
      r.out,
      "Group: g  State: Stable  ProtocolType: consumer  Protocol: range  Members: 3  "
      "Coordinator: 1 (" +
          port +
          ")\n"
          "TOPIC   PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG  MEMBER-ID  CLIENT-ID  HOST\n"
          "audit   0          3               4               1    -          -          -\n"
          "orders  0          5               10              5    m1         c1         "
          "/10.0.0.1\n"
          "orders  1          -               7               -    m2         c2         "
          "/10.0.0.2\n"
          "-       -          -               -               -    m3         c3         "
          "/10.0.0.3\n");
  auto find = broker.sent<msg::FindCoordinatorRequest>();
  ASSERT_EQ(find.size(), 1u);
  EXPECT_EQ(find[0].second, 4);
  EXPECT_EQ(find[0].first.coordinator_keys, std::vector<std::string>{"g"});
  EXPECT_EQ(find[0].first.key_type, 0);
  auto fetch = broker.sent<msg::OffsetFetchRequest>();
  ASSERT_EQ(fetch.size(), 1u);
  EXPECT_EQ(fetch[0].first.groups.at(0).group_id, "g");
  EXPECT_FALSE(fetch[0].first.groups.at(0).topics.has_value());  // null: every partition
  auto lo = broker.sent<msg::ListOffsetsRequest>();
  ASSERT_EQ(lo.size(), 1u);
  EXPECT_EQ(lo[0].first.replica_id, -1);
  ASSERT_EQ(lo[0].first.topics.size(), 2u);
  EXPECT_EQ(lo[0].first.topics[1].partitions.size(), 2u);
  EXPECT_EQ(lo[0].first.topics[1].partitions[0].timestamp, -1);
}

TEST(GroupCommands, DescribeJsonAndOldVersions) {
  // OffsetFetch v7 (single group), FindCoordinator v2 (key), ListOffsets v0 (old style).
  GroupBroker broker(Versions{{9, 7}, {10, 2}, {2, 0}, {15, 0}});
  Command cmd = broker.command(Verb::kGroupDescribe, {"idle"});
  cmd.output = OutputFormat::kJson;
  Report r = run(cmd);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("{\"groups\":[{\"group_id\":\"idle\",\"state\":\"Empty\",\"protocol_type\":"
                       "\"consumer\",\"protocol\":\"\",\"member_count\":0,\"coordinator\":"
                       "{\"node_id\":1,\"host\":\"127.0.0.1\","),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("\"offsets\":[{\"topic\":\"orders\",\"partition\":0,\"committed_offset\":5,"
                       "\"log_end_offset\":10,\"lag\":5,\"member_id\":null,\"client_id\":null,"
                       "\"host\":null,\"error\":null},{\"topic\":\"orders\",\"partition\":1,"
                       "\"committed_offset\":1,\"log_end_offset\":7,\"lag\":6,"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(broker.sent<msg::FindCoordinatorRequest>().at(0).first.key, "idle");
  EXPECT_EQ(broker.sent<msg::OffsetFetchRequest>().at(0).first.group_id, "idle");
}

TEST(GroupCommands, DescribeMembersInJson) {
  GroupBroker broker;
  Command cmd = broker.command(Verb::kGroupDescribe, {"g"});
  cmd.output = OutputFormat::kJson;
  Report r = run(cmd);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("{\"member_id\":\"m1\",\"group_instance_id\":null,\"client_id\":\"c1\","
                       "\"host\":\"/10.0.0.1\",\"subscription\":[\"orders\"],\"assignment\":"
                       "[{\"topic\":\"orders\",\"partitions\":[0]}]}"),
            std::string::npos)
      << r.out;
}

TEST(GroupCommands, DescribeUnknownGroupAndKeepsGoing) {
  GroupBroker broker;
  Report r = run(broker.command(Verb::kGroupDescribe, {"ghost", "idle"}));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "Error: group 'ghost' does not exist (GROUP_ID_NOT_FOUND)\n");
  EXPECT_EQ(r.out.rfind("Group: idle  State: Empty", 0), 0u) << r.out;
}

TEST(GroupCommands, TalksToACoordinatorElsewhere) {
  GroupBroker bootstrap;
  GroupBroker coordinator;
  bootstrap.coordinator_port = coordinator.port();
  Report r = run(bootstrap.command(Verb::kGroupDescribe, {"idle"}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("orders  1          1               7               6"), std::string::npos)
      << r.out;
  EXPECT_TRUE(bootstrap.sent<msg::DescribeGroupsRequest>().empty());
  EXPECT_TRUE(bootstrap.sent<msg::OffsetFetchRequest>().empty());
  EXPECT_EQ(coordinator.sent<msg::DescribeGroupsRequest>().size(), 1u);
  EXPECT_EQ(coordinator.sent<msg::OffsetFetchRequest>().size(), 1u);
  EXPECT_EQ(bootstrap.sent<msg::ListOffsetsRequest>().size(), 1u);  // the leader is node 1

  Command reset = bootstrap.command(Verb::kGroupOffsetsReset, {"idle"});
  reset.all_topics = true;
  reset.execute = true;
  r = run(reset);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(bootstrap.sent<msg::OffsetCommitRequest>().empty());
  EXPECT_EQ(coordinator.sent<msg::OffsetCommitRequest>().size(), 1u);
}

TEST(GroupCommands, DescribeReportsOffsetsOfVanishedTopics) {
  GroupBroker broker;
  Report r = run(broker.command(Verb::kGroupDescribe, {"stale"}));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "Error: group 'stale': partition 'gone-0' does not exist "
            "(UNKNOWN_TOPIC_OR_PARTITION)\n");
  EXPECT_NE(r.out.find("gone   0          1               -               -    -"),
            std::string::npos)
      << r.out;
}

// Member bytes come from clients and pass through the broker unchecked.
TEST(GroupCommands, DescribeSurvivesGarbageMemberBytes) {
  std::atomic<int32_t> port{0};
  FakeBroker broker([&](const FakeRequest& req) -> FakeReply {
    int16_t v = req.api_version;
    switch (req.api_key) {
      case 18: {
        msg::ApiVersionsResponse resp;
        resp.api_keys = {{18, 0, 3}, {3, 0, 12}, {9, 0, 8}, {10, 0, 4}, {15, 0, 5}, {2, 0, 8}};
        return testing::encode_body(resp, v);
      }
      case 10: {
        msg::FindCoordinatorResponse resp;
        resp.coordinators.push_back({"g", 1, "127.0.0.1", port.load(), 0, std::nullopt});
        return testing::encode_body(resp, v);
      }
      case 15: {
        msg::DescribeGroupsResponse resp;
        auto& g = resp.groups.emplace_back();
        g.group_id = "g";
        g.group_state = "Stable";
        g.protocol_type = "consumer";
        g.protocol_data = "range";
        auto& m = g.members.emplace_back();
        m.member_id = "m";
        m.client_id = "c";
        m.client_host = "/h";
        m.member_metadata = std::string("\x00\x00\x7f\xff\xff\xff", 6);
        m.member_assignment = std::string("\x00\x00\x00\x00\x00\x01\x00", 7);
        return testing::encode_body(resp, v);
      }
      case 9: {
        msg::OffsetFetchResponse resp;
        resp.groups.emplace_back().group_id = "g";
        return testing::encode_body(resp, v);
      }
    }
    return FakeReply();
  });
  std::string bootstrap = broker.bootstrap();
  port = std::stoi(bootstrap.substr(bootstrap.find(':') + 1));
  Command cmd;
  cmd.verb = Verb::kGroupDescribe;
  cmd.bootstrap_server = bootstrap;
  cmd.groups = {"g"};
  cmd.timeout_ms = 2000;
  Report r = run(cmd);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(
      r.out.find("-      -          -               -               -    m          c          /h"),
      std::string::npos)
      << r.out;
}

TEST(GroupCommands, WaitsForTheCoordinator) {
  GroupBroker broker;
  broker.coordinator_not_available = 2;
  Report r = run(broker.command(Verb::kGroupDescribe, {"idle"}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(broker.sent<msg::FindCoordinatorRequest>().size(), 3u);

  broker.coordinator_not_available = 1000;
  Command cmd = broker.command(Verb::kGroupDescribe, {"idle"});
  cmd.timeout_ms = 500;
  r = run(cmd);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "Error: the coordinator of group 'idle' is not ready (COORDINATOR_NOT_AVAILABLE)\n");
}

TEST(GroupCommands, DeleteReportsKafkaErrorNames) {
  GroupBroker broker;
  Report r = run(broker.command(Verb::kGroupDelete, {"idle", "g", "ghost"}));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "Deleted group idle.\n");
  EXPECT_EQ(r.err,
            "Error: group 'g' is not empty (NON_EMPTY_GROUP)\n"
            "Error: group 'ghost' does not exist (GROUP_ID_NOT_FOUND)\n");
  auto sent = broker.sent<msg::DeleteGroupsRequest>();
  ASSERT_EQ(sent.size(), 1u);  // one coordinator, one batch
  EXPECT_EQ(sent[0].first.groups_names, (std::vector<std::string>{"idle", "g", "ghost"}));

  Command json = broker.command(Verb::kGroupDelete, {"ghost"});
  json.output = OutputFormat::kJson;
  r = run(json);
  EXPECT_EQ(r.out,
            "{\"results\":[{\"group_id\":\"ghost\",\"status\":\"error\",\"error\":"
            "\"GROUP_ID_NOT_FOUND\",\"error_code\":69}]}\n");
}

Command reset_command(GroupBroker& broker, std::string group, ResetSpec spec) {
  Command cmd = broker.command(Verb::kGroupOffsetsReset, {std::move(group)});
  cmd.reset = spec;
  return cmd;
}

TEST(GroupCommands, ResetIsRefusedWhileTheGroupIsActive) {
  GroupBroker broker;
  Command cmd = reset_command(broker, "g", {ResetKind::kToEarliest, 0});
  cmd.all_topics = true;
  cmd.execute = true;
  Report r = run(cmd);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "Error: Assignments can only be reset if the group 'g' is inactive, but the current "
            "state is Stable.\n");
  EXPECT_TRUE(broker.sent<msg::OffsetCommitRequest>().empty());
}

TEST(GroupCommands, ResetDryRunCommitsNothing) {
  GroupBroker broker;
  Command cmd = reset_command(broker, "idle", {ResetKind::kShiftBy, -2});
  cmd.all_topics = true;
  Report r = run(cmd);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "GROUP  TOPIC   PARTITION  NEW-OFFSET  ERROR\n"
            "idle   orders  0          3\n"
            "idle   orders  1          2\n");  // 1 - 2 clamped to the log start offset
  EXPECT_EQ(r.err, "Dry run: nothing was committed; add --execute to apply.\n");
  EXPECT_TRUE(broker.sent<msg::OffsetCommitRequest>().empty());
}

TEST(GroupCommands, ResetExecuteSendsAnAdminCommit) {
  GroupBroker broker;
  Command cmd = reset_command(broker, "idle", {ResetKind::kToLatest, 0});
  cmd.reset_topics = {{"orders", {1}}, {"audit", {}}};
  cmd.execute = true;
  cmd.output = OutputFormat::kJson;
  Report r = run(cmd);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "{\"group_id\":\"idle\",\"executed\":true,\"partitions\":[{\"topic\":\"audit\","
            "\"partition\":0,\"new_offset\":4,\"error\":null},{\"topic\":\"orders\","
            "\"partition\":1,\"new_offset\":7,\"error\":null}]}\n");
  auto sent = broker.sent<msg::OffsetCommitRequest>();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].second, 8);
  const auto& commit = sent[0].first;
  EXPECT_EQ(commit.group_id, "idle");
  EXPECT_EQ(commit.generation_id, -1);
  EXPECT_EQ(commit.member_id, "");
  EXPECT_FALSE(commit.group_instance_id.has_value());
  ASSERT_EQ(commit.topics.size(), 2u);
  EXPECT_EQ(commit.topics[0].name, "audit");
  EXPECT_EQ(commit.topics[0].partitions.at(0).committed_offset, 4);
  EXPECT_EQ(commit.topics[1].name, "orders");
  ASSERT_EQ(commit.topics[1].partitions.size(), 1u);
  EXPECT_EQ(commit.topics[1].partitions[0].partition_index, 1);
  EXPECT_EQ(commit.topics[1].partitions[0].committed_offset, 7);
}

TEST(GroupCommands, ResetToDatetimeAndToOffset) {
  GroupBroker broker;
  Command cmd = reset_command(broker, "idle", {ResetKind::kToDatetime, 1'700'000'000'000});
  cmd.reset_topics = {{"orders", {}}};
  Report r = run(cmd);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "GROUP  TOPIC   PARTITION  NEW-OFFSET  ERROR\n"
            "idle   orders  0          6\n"
            "idle   orders  1          7\n");  // no record after that time: the log end
  bool asked_by_time = false;
  for (const auto& [req, v] : broker.sent<msg::ListOffsetsRequest>()) {
    if (req.topics.at(0).partitions.at(0).timestamp == 1'700'000'000'000) asked_by_time = true;
  }
  EXPECT_TRUE(asked_by_time);

  cmd = reset_command(broker, "new-group", {ResetKind::kToOffset, 100});  // Dead: allowed
  cmd.reset_topics = {{"orders", {0}}};
  r = run(cmd);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("new-group  orders  0          10\n"), std::string::npos) << r.out;
}

TEST(GroupCommands, ResetErrors) {
  GroupBroker broker;
  Command cmd = reset_command(broker, "idle", {ResetKind::kToEarliest, 0});
  cmd.reset_topics = {{"nope", {}}};
  Report r = run(cmd);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "Error: topic 'nope' does not exist (UNKNOWN_TOPIC_OR_PARTITION)\n");

  cmd = reset_command(broker, "idle", {ResetKind::kShiftBy, 1});
  cmd.reset_topics = {{"audit", {}}};
  r = run(cmd);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "Error: cannot shift the offset of partition 'audit-0': the group has no committed "
            "offset for it\n");
}

}  // namespace
}  // namespace gregor::tools

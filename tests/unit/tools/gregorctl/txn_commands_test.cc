// The txn verbs end to end against a fake broker that coordinates every transactional id and
// leads every partition: what is sent (versions, filters, coordinator key type, markers), what
// is printed, and the exit codes.
#include "tools/gregorctl/txn_commands.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>

#include "protocol/messages/api_versions_response.h"
#include "protocol/messages/describe_producers_request.h"
#include "protocol/messages/describe_producers_response.h"
#include "protocol/messages/describe_transactions_request.h"
#include "protocol/messages/describe_transactions_response.h"
#include "protocol/messages/find_coordinator_request.h"
#include "protocol/messages/find_coordinator_response.h"
#include "protocol/messages/list_transactions_request.h"
#include "protocol/messages/list_transactions_response.h"
#include "protocol/messages/metadata_request.h"
#include "protocol/messages/metadata_response.h"
#include "protocol/messages/write_txn_markers_request.h"
#include "protocol/messages/write_txn_markers_response.h"
#include "tests/unit/tools/gregorctl/fake_broker.h"

namespace gregor::tools {
namespace {

namespace msg = protocol::msg;
using testing::FakeBroker;
using testing::FakeReply;
using testing::FakeRequest;
using Versions = std::map<int16_t, int16_t>;

struct FakeTxn {
  int64_t producer_id;
  int16_t epoch;
  std::string state;
  int32_t timeout_ms;
  int64_t start_ms;
  std::vector<std::pair<std::string, int32_t>> partitions;
};

constexpr int64_t kNowMs = 1'000'000;

// Node 1 coordinates every transactional id and leads "orders" (2 partitions); "lost" has one
// partition without a leader. orders-0 has two producers, one with a transaction open at offset
// 42 and no marker yet (coordinator epoch -1); orders-1 answers NOT_LEADER_OR_FOLLOWER.
class TxnBroker {
 public:
  explicit TxnBroker(std::map<int16_t, int16_t> max_versions = {})
      : max_versions_(std::move(max_versions)),
        broker_([this](const FakeRequest& req) { return handle(req); }) {
    port_ = std::stoi(broker_.bootstrap().substr(broker_.bootstrap().find(':') + 1));
    txns_["t-hang"] = {1000, 3, "Ongoing", 60000, kNowMs - 2500, {{"orders", 1}, {"orders", 0}}};
    txns_["t-done"] = {1001, 0, "CompleteCommit", 30000, -1, {}};
    txns_["a-empty"] = {1002, 1, "Empty", 10000, -1, {}};
  }

  Command command(Verb verb) {
    Command c;
    c.verb = verb;
    c.bootstrap_server = broker_.bootstrap();
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

  std::atomic<int> coordinator_loading{0};  // answer this many FindCoordinators with error 14
  std::atomic<int16_t> list_error{0};       // ListTransactions' error code
  std::atomic<int16_t> marker_error{0};     // WriteTxnMarkers' error for a known partition
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
        resp.api_keys = {{18, 0, 3},          {3, 0, max(3, 12)},  {10, 0, max(10, 4)},
                         {27, 0, max(27, 1)}, {61, 0, max(61, 0)}, {65, 0, max(65, 0)},
                         {66, 0, max(66, 1)}};
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
            int32_t n = t.name == "orders" ? 2 : t.name == "lost" ? 1 : 0;
            if (n == 0) topic.error_code = 3;
            for (int32_t p = 0; p < n; ++p) {
              auto& part = topic.partitions.emplace_back();
              part.partition_index = p;
              part.leader_id = t.name == "lost" ? -1 : 1;
            }
          }
        }
        return testing::encode_body(resp, v);
      }
      case 10: {
        auto request = testing::decode_body<msg::FindCoordinatorRequest>(req.body, v);
        msg::FindCoordinatorResponse resp;
        int16_t error = 0;
        if (coordinator_loading > 0) {
          --coordinator_loading;
          error = 14;
        }
        for (const std::string& key : request.coordinator_keys) {
          resp.coordinators.push_back({key, 1, "127.0.0.1", port_, error, std::nullopt});
        }
        resp.error_code = error;
        resp.node_id = 1;
        resp.host = "127.0.0.1";
        resp.port = port_;
        return testing::encode_body(resp, v);
      }
      case 66: {
        auto request = testing::decode_body<msg::ListTransactionsRequest>(req.body, v);
        msg::ListTransactionsResponse resp;
        resp.error_code = list_error;
        static const std::vector<std::string> kStates = {
            "Empty",          "Ongoing",       "PrepareCommit", "PrepareAbort",
            "CompleteCommit", "CompleteAbort", "Dead",          "PrepareEpochFence"};
        for (const std::string& s : request.state_filters) {
          if (std::find(kStates.begin(), kStates.end(), s) == kStates.end()) {
            resp.unknown_state_filters.push_back(s);
          }
        }
        auto wanted = [](const auto& filter, const auto& value) {
          return filter.empty() || std::find(filter.begin(), filter.end(), value) != filter.end();
        };
        for (const auto& [id, t] : txns_) {
          if (!wanted(request.state_filters, t.state) ||
              !wanted(request.producer_id_filters, t.producer_id)) {
            continue;
          }
          if (request.duration_filter >= 0 &&
              (t.start_ms < 0 || kNowMs - t.start_ms <= request.duration_filter)) {
            continue;
          }
          resp.transaction_states.push_back({id, t.producer_id, t.state});
        }
        return testing::encode_body(resp, v);
      }
      case 65: {
        auto request = testing::decode_body<msg::DescribeTransactionsRequest>(req.body, v);
        msg::DescribeTransactionsResponse resp;
        for (const std::string& id : request.transactional_ids) {
          auto& out = resp.transaction_states.emplace_back();
          out.transactional_id = id;
          auto it = txns_.find(id);
          if (it == txns_.end()) {
            out.error_code = 105;
            continue;
          }
          const FakeTxn& t = it->second;
          out.transaction_state = t.state;
          out.transaction_timeout_ms = t.timeout_ms;
          out.transaction_start_time_ms = t.start_ms;
          out.producer_id = t.producer_id;
          out.producer_epoch = t.epoch;
          for (const auto& [topic, p] : t.partitions) {
            auto found = std::find_if(out.topics.begin(), out.topics.end(),
                                      [&](const auto& td) { return td.topic == topic; });
            if (found == out.topics.end()) {
              found = out.topics.emplace(out.topics.end());
              found->topic = topic;
            }
            found->partitions.push_back(p);
          }
        }
        return testing::encode_body(resp, v);
      }
      case 61: {
        auto request = testing::decode_body<msg::DescribeProducersRequest>(req.body, v);
        msg::DescribeProducersResponse resp;
        for (const auto& t : request.topics) {
          auto& topic = resp.topics.emplace_back();
          topic.name = t.name;
          for (int32_t p : t.partition_indexes) {
            auto& part = topic.partitions.emplace_back();
            part.partition_index = p;
            if (t.name != "orders" || p > 1) {
              part.error_code = 3;
            } else if (p == 1) {
              part.error_code = 6;
            } else {
              part.active_producers.push_back({1000, 3, 4, 123456, -1, 42});
              part.active_producers.push_back({7, 0, 9, 100000, 2, -1});
            }
          }
        }
        return testing::encode_body(resp, v);
      }
      case 27: {
        auto request = testing::decode_body<msg::WriteTxnMarkersRequest>(req.body, v);
        msg::WriteTxnMarkersResponse resp;
        for (const auto& m : request.markers) {
          auto& marker = resp.markers.emplace_back();
          marker.producer_id = m.producer_id;
          for (const auto& t : m.topics) {
            auto& topic = marker.topics.emplace_back();
            topic.name = t.name;
            for (int32_t p : t.partition_indexes) {
              int16_t error = t.name == "orders" && p < 2 ? marker_error.load() : int16_t{3};
              topic.partitions.push_back({p, error});
            }
          }
        }
        return testing::encode_body(resp, v);
      }
    }
    return FakeReply();
  }

  std::map<int16_t, int16_t> max_versions_;
  std::map<std::string, FakeTxn> txns_;
  int32_t port_ = 0;
  FakeBroker broker_;  // last: its thread must stop before the members above go
};

Report run(const Command& cmd) {
  ClientOptions options;
  options.connect_timeout = std::chrono::milliseconds(cmd.timeout_ms);
  options.request_timeout = std::chrono::milliseconds(cmd.timeout_ms);
  auto client = KafkaClient::connect(cmd.bootstrap_server, options);
  if (!client.ok()) return Report{"", std::string(client.status().message()), 1};
  BrokerConnections connections(*std::move(client), options);
  return run_txn_command(cmd, connections, kNowMs);
}

TEST(TxnCommands, ListSortsByIdAndShowsTheCoordinator) {
  TxnBroker broker;
  Report r = run(broker.command(Verb::kTxnList));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "TRANSACTIONAL-ID  COORDINATOR  PRODUCER-ID  STATE\n"
            "a-empty           1            1002         Empty\n"
            "t-done            1            1001         CompleteCommit\n"
            "t-hang            1            1000         Ongoing\n");
  auto sent = broker.sent<msg::ListTransactionsRequest>();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].second, 1);
  EXPECT_TRUE(sent[0].first.state_filters.empty());
  EXPECT_EQ(sent[0].first.duration_filter, -1);
}

TEST(TxnCommands, ListPassesFiltersAndPrintsJson) {
  TxnBroker broker;
  Command cmd = broker.command(Verb::kTxnList);
  cmd.states = {"Ongoing", "CompleteCommit"};
  cmd.producer_ids = {1000, 1002};
  cmd.duration_ms = 1000;
  cmd.output = OutputFormat::kJson;
  Report r = run(cmd);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "{\"transactions\":[{\"transactional_id\":\"t-hang\",\"coordinator\":1,"
            "\"producer_id\":1000,\"state\":\"Ongoing\"}]}\n");
  auto sent = broker.sent<msg::ListTransactionsRequest>();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].first.state_filters, (std::vector<std::string>{"Ongoing", "CompleteCommit"}));
  EXPECT_EQ(sent[0].first.producer_id_filters, (std::vector<int64_t>{1000, 1002}));
  EXPECT_EQ(sent[0].first.duration_filter, 1000);
}

TEST(TxnCommands, ListReportsStatesTheBrokerDoesNotKnow) {
  TxnBroker broker;
  Command cmd = broker.command(Verb::kTxnList);
  cmd.states = {"Ongoing", "Hanging"};
  Report r = run(cmd);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "Error: broker 1 does not know transaction state 'Hanging'\n");
  EXPECT_EQ(r.out,
            "TRANSACTIONAL-ID  COORDINATOR  PRODUCER-ID  STATE\n"
            "t-hang            1            1000         Ongoing\n");
}

TEST(TxnCommands, ListDurationNeedsV1) {
  TxnBroker broker(Versions{{66, 0}});
  Command cmd = broker.command(Verb::kTxnList);
  Report plain = run(cmd);
  EXPECT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(broker.sent<msg::ListTransactionsRequest>().at(0).second, 0);
  cmd.duration_ms = 5;
  Report r = run(cmd);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "Error: the broker speaks ListTransactions v0 only; --duration-ms needs v1\n");
  EXPECT_EQ(r.out, "");
}

TEST(TxnCommands, ListBrokerError) {
  TxnBroker broker;
  broker.list_error = 29;  // CLUSTER_AUTHORIZATION_FAILED: not worth asking again
  Report r = run(broker.command(Verb::kTxnList));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("Error: broker 1 cannot list transactions ("), std::string::npos) << r.err;
  EXPECT_EQ(broker.sent<msg::ListTransactionsRequest>().size(), 1u);
}

TEST(TxnCommands, DescribeAsksTheTransactionCoordinator) {
  TxnBroker broker;
  Command cmd = broker.command(Verb::kTxnDescribe);
  cmd.transactional_ids = {"t-hang", "t-done"};
  Report r = run(cmd);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "COORDINATOR  TRANSACTIONAL-ID  PRODUCER-ID  PRODUCER-EPOCH  STATE           "
            "TIMEOUT-MS  START-TIME-MS  DURATION-MS  PARTITIONS\n"
            "1            t-hang            1000         3               Ongoing         "
            "60000       997500         2500         orders-0,orders-1\n"
            "1            t-done            1001         0               CompleteCommit  "
            "30000       -              -            -\n");
  auto find = broker.sent<msg::FindCoordinatorRequest>();
  ASSERT_EQ(find.size(), 2u);
  EXPECT_EQ(find[0].first.key_type, 1);
  EXPECT_EQ(find[0].first.coordinator_keys, std::vector<std::string>{"t-hang"});
  EXPECT_EQ(find[1].first.coordinator_keys, std::vector<std::string>{"t-done"});
}

TEST(TxnCommands, DescribeJson) {
  TxnBroker broker;
  Command cmd = broker.command(Verb::kTxnDescribe);
  cmd.transactional_ids = {"t-hang"};
  cmd.output = OutputFormat::kJson;
  Report r = run(cmd);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "{\"transactions\":[{\"transactional_id\":\"t-hang\",\"coordinator\":{"
            "\"node_id\":1,\"host\":\"127.0.0.1\",\"port\":" +
                std::to_string(broker.port()) +
                "},\"producer_id\":1000,\"producer_epoch\":3,\"state\":\"Ongoing\","
                "\"timeout_ms\":60000,\"start_time_ms\":997500,\"duration_ms\":2500,"
                "\"partitions\":[{\"topic\":\"orders\",\"partition\":0},{\"topic\":"
                "\"orders\",\"partition\":1}]}]}\n");
}

TEST(TxnCommands, DescribeUnknownIdIsAnErrorAndTheOthersStillPrint) {
  TxnBroker broker;
  Command cmd = broker.command(Verb::kTxnDescribe);
  cmd.transactional_ids = {"nope", "a-empty"};
  Report r = run(cmd);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "Error: transactional id 'nope' does not exist (TRANSACTIONAL_ID_NOT_FOUND)\n");
  EXPECT_NE(r.out.find("a-empty"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("nope"), std::string::npos) << r.out;
}

TEST(TxnCommands, DescribeWaitsForALoadingCoordinator) {
  TxnBroker broker;
  broker.coordinator_loading = 2;
  Command cmd = broker.command(Verb::kTxnDescribe);
  cmd.transactional_ids = {"t-done"};
  Report r = run(cmd);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(broker.sent<msg::FindCoordinatorRequest>().size(), 3u);
  EXPECT_EQ(broker.sent<msg::DescribeTransactionsRequest>().size(), 1u);
}

TEST(TxnCommands, DescribeGivesUpOnACoordinatorThatStaysLoading) {
  TxnBroker broker;
  broker.coordinator_loading = 1000;
  Command cmd = broker.command(Verb::kTxnDescribe);
  cmd.transactional_ids = {"t-done"};
  cmd.timeout_ms = 500;
  Report r = run(cmd);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "Error: the coordinator of transactional id 't-done' is not ready "
            "(COORDINATOR_LOAD_IN_PROGRESS)\n");
  EXPECT_TRUE(broker.sent<msg::DescribeTransactionsRequest>().empty());
}

TEST(TxnCommands, ProducersOfAPartition) {
  TxnBroker broker;
  Command cmd = broker.command(Verb::kTxnProducers);
  cmd.partition = {"orders", 0};
  Report r = run(cmd);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "PRODUCER-ID  PRODUCER-EPOCH  COORDINATOR-EPOCH  LAST-SEQUENCE  LAST-TIMESTAMP  "
            "TXN-START-OFFSET\n"
            "7            0               2                  9              100000          -\n"
            "1000         3               -                  4              123456          42\n");
  auto sent = broker.sent<msg::DescribeProducersRequest>();
  ASSERT_EQ(sent.size(), 1u);
  ASSERT_EQ(sent[0].first.topics.size(), 1u);
  EXPECT_EQ(sent[0].first.topics[0].name, "orders");
  EXPECT_EQ(sent[0].first.topics[0].partition_indexes, std::vector<int32_t>{0});

  cmd.output = OutputFormat::kJson;
  r = run(cmd);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "{\"topic\":\"orders\",\"partition\":0,\"producers\":["
            "{\"producer_id\":7,\"producer_epoch\":0,\"coordinator_epoch\":2,"
            "\"last_sequence\":9,\"last_timestamp\":100000,\"current_txn_start_offset\":null},"
            "{\"producer_id\":1000,\"producer_epoch\":3,\"coordinator_epoch\":null,"
            "\"last_sequence\":4,\"last_timestamp\":123456,\"current_txn_start_offset\":42}]}\n");
}

TEST(TxnCommands, ProducersErrors) {
  TxnBroker broker;
  Command cmd = broker.command(Verb::kTxnProducers);
  cmd.partition = {"orders", 1};
  Report r = run(cmd);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "Error: partition 'orders-1' has no leader right now (NOT_LEADER_OR_FOLLOWER)\n");
  EXPECT_EQ(r.out, "");

  cmd.partition = {"orders", 5};
  r = run(cmd);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "Error: partition 'orders-5' does not exist (UNKNOWN_TOPIC_OR_PARTITION)\n");

  cmd.partition = {"lost", 0};
  r = run(cmd);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "Error: partition 'lost-0' has no leader right now (LEADER_NOT_AVAILABLE)\n");

  cmd.partition = {"ghost", 0};
  r = run(cmd);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("'ghost'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(UNKNOWN_TOPIC_OR_PARTITION)"), std::string::npos) << r.err;
  // Only orders-1 got as far as DescribeProducers: the others fail at the leader lookup.
  EXPECT_EQ(broker.sent<msg::DescribeProducersRequest>().size(), 1u);
}

TEST(TxnCommands, AbortByStartOffsetFindsTheProducer) {
  TxnBroker broker;
  Command cmd = broker.command(Verb::kTxnAbort);
  cmd.partition = {"orders", 0};
  cmd.start_offset = 42;
  Report r = run(cmd);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "Aborted the transaction of producer 1000 (epoch 3) starting at offset 42 in "
            "partition orders-0.\n");
  auto sent = broker.sent<msg::WriteTxnMarkersRequest>();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].second, 1);
  ASSERT_EQ(sent[0].first.markers.size(), 1u);
  const auto& m = sent[0].first.markers[0];
  EXPECT_EQ(m.producer_id, 1000);
  EXPECT_EQ(m.producer_epoch, 3);
  EXPECT_FALSE(m.transaction_result);
  // The producer has no marker yet (coordinator epoch -1): 0 is sent.
  EXPECT_EQ(m.coordinator_epoch, 0);
  ASSERT_EQ(m.topics.size(), 1u);
  EXPECT_EQ(m.topics[0].name, "orders");
  EXPECT_EQ(m.topics[0].partition_indexes, std::vector<int32_t>{0});

  cmd.output = OutputFormat::kJson;
  r = run(cmd);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "{\"topic\":\"orders\",\"partition\":0,\"producer_id\":1000,\"producer_epoch\":3,"
            "\"coordinator_epoch\":0,\"start_offset\":42,\"status\":\"aborted\"}\n");
}

TEST(TxnCommands, AbortByStartOffsetWithoutSuchTransactionWritesNothing) {
  TxnBroker broker;
  Command cmd = broker.command(Verb::kTxnAbort);
  cmd.partition = {"orders", 0};
  cmd.start_offset = 41;
  Report r = run(cmd);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "Error: no open transaction starts at offset 41 in partition 'orders-0'\n");
  EXPECT_EQ(broker.sent<msg::DescribeProducersRequest>().size(), 1u);
  EXPECT_TRUE(broker.sent<msg::WriteTxnMarkersRequest>().empty());

  cmd.partition = {"orders", 1};  // DescribeProducers fails there
  cmd.start_offset = 42;
  r = run(cmd);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "Error: cannot read the producer state: partition 'orders-1' has no leader right now "
            "(NOT_LEADER_OR_FOLLOWER)\n");
  EXPECT_TRUE(broker.sent<msg::WriteTxnMarkersRequest>().empty());
}

TEST(TxnCommands, AbortByProducerIdSendsTheGivenMarker) {
  TxnBroker broker;
  broker.marker_error = 0;
  Command cmd = broker.command(Verb::kTxnAbort);
  cmd.partition = {"orders", 1};
  cmd.producer_id = 55;
  cmd.producer_epoch = 7;
  cmd.coordinator_epoch = 4;
  Report r = run(cmd);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Aborted the transaction of producer 55 (epoch 7) in partition orders-1.\n");
  EXPECT_TRUE(broker.sent<msg::DescribeProducersRequest>().empty());
  auto sent = broker.sent<msg::WriteTxnMarkersRequest>();
  ASSERT_EQ(sent.size(), 1u);
  const auto& m = sent[0].first.markers.at(0);
  EXPECT_EQ(m.producer_id, 55);
  EXPECT_EQ(m.producer_epoch, 7);
  EXPECT_EQ(m.coordinator_epoch, 4);
  EXPECT_FALSE(m.transaction_result);
}

TEST(TxnCommands, AbortMarkerErrors) {
  TxnBroker broker(Versions{{27, 0}});
  broker.marker_error = 47;  // INVALID_PRODUCER_EPOCH
  Command cmd = broker.command(Verb::kTxnAbort);
  cmd.partition = {"orders", 0};
  cmd.producer_id = 55;
  cmd.producer_epoch = 1;
  Report r = run(cmd);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "Error: cannot abort the transaction of producer 55: partition 'orders-0' "
            "(INVALID_PRODUCER_EPOCH)\n");
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(broker.sent<msg::WriteTxnMarkersRequest>().at(0).second, 0);

  cmd.partition = {"lost", 0};
  r = run(cmd);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "Error: partition 'lost-0' has no leader right now (LEADER_NOT_AVAILABLE)\n");
  EXPECT_EQ(broker.sent<msg::WriteTxnMarkersRequest>().size(), 1u);
}

TEST(TxnCommands, BrokerWithoutTheApi) {
  TxnBroker broker(Versions{{61, -1}});
  Command cmd = broker.command(Verb::kTxnProducers);
  cmd.partition = {"orders", 0};
  Report r = run(cmd);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("Error: "), std::string::npos);
  EXPECT_TRUE(broker.sent<msg::DescribeProducersRequest>().empty());
}

}  // namespace
}  // namespace gregor::tools

// gregorctl's Kafka client against a loopback fake broker: version negotiation (and the KIP-511
// fallback), bootstrap failover, timeouts, size bounds and correlation checks.
#include "tools/gregorctl/kafka_client.h"

#include <gtest/gtest.h>

#include "protocol/messages/api_versions_request.h"
#include "protocol/messages/api_versions_response.h"
#include "protocol/messages/create_topics_request.h"
#include "protocol/messages/delete_topics_request.h"
#include "protocol/messages/metadata_request.h"
#include "protocol/messages/metadata_response.h"
#include "tests/unit/tools/gregorctl/fake_broker.h"

namespace gregor::tools {
namespace {

using protocol::msg::ApiVersionsResponse;
using protocol::msg::MetadataRequest;
using protocol::msg::MetadataResponse;
using testing::FakeBroker;
using testing::FakeReply;
using testing::FakeRequest;

struct ApiRange {
  int16_t key, min, max;
};

// Answers ApiVersions like a broker whose own ApiVersions range is 0..max_api_versions.
FakeReply api_versions(const FakeRequest& req, const std::vector<ApiRange>& apis,
                       int16_t max_api_versions = 3) {
  ApiVersionsResponse resp;
  if (req.api_version > max_api_versions) {
    resp.error_code = 35;
    resp.api_keys.push_back({18, 0, max_api_versions});
    return {testing::encode_body(resp, 0)};
  }
  resp.api_keys.push_back({18, 0, max_api_versions});
  for (const ApiRange& a : apis) resp.api_keys.push_back({a.key, a.min, a.max});
  return {testing::encode_body(resp, req.api_version)};
}

ClientOptions fast_options() {
  ClientOptions o;
  o.connect_timeout = std::chrono::milliseconds(2000);
  o.request_timeout = std::chrono::milliseconds(2000);
  return o;
}

TEST(KafkaClient, PicksHighestCommonVersions) {
  FakeBroker broker([](const FakeRequest& req) {
    return api_versions(req, {{3, 0, 5}, {19, 2, 99}, {20, 7, 9}});
  });
  auto client = KafkaClient::connect(broker.bootstrap(), fast_options());
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ(*(*client)->pick_version<MetadataRequest>(), 5);
  EXPECT_EQ(*(*client)->pick_version<protocol::msg::CreateTopicsRequest>(),
            protocol::msg::CreateTopicsRequest::kMaxVersion);
  // Broker's minimum above our maximum: no overlap.
  auto del = (*client)->pick_version<protocol::msg::DeleteTopicsRequest>();
  EXPECT_EQ(del.status().code(), absl::StatusCode::kFailedPrecondition);
  // Not listed at all.
  auto produce = (*client)->pick_version(0, 0, 9);
  EXPECT_EQ(produce.status().code(), absl::StatusCode::kFailedPrecondition);

  auto reqs = broker.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].api_key, 18);
  EXPECT_EQ(reqs[0].api_version, 3);
  EXPECT_EQ(reqs[0].client_id, "gregorctl");
  auto sent = testing::decode_body<protocol::msg::ApiVersionsRequest>(reqs[0].body, 3);
  EXPECT_EQ(sent.client_software_name, "gregorctl");
}

TEST(KafkaClient, FallsBackToTheBrokersApiVersionsVersion) {
  FakeBroker broker([](const FakeRequest& req) { return api_versions(req, {{3, 0, 12}}, 1); });
  auto client = KafkaClient::connect(broker.bootstrap(), fast_options());
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ(*(*client)->pick_version<MetadataRequest>(), 12);
  auto reqs = broker.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].api_version, 3);
  EXPECT_EQ(reqs[1].api_version, 1);
}

TEST(KafkaClient, StepsDownWhenTheUnsupportedAnswerIsUnreadable) {
  FakeBroker broker([](const FakeRequest& req) {
    if (req.api_version > 2) return FakeReply{std::string("\x00\x23\x01", 3)};
    return api_versions(req, {{3, 0, 12}});
  });
  auto client = KafkaClient::connect(broker.bootstrap(), fast_options());
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ(broker.requests().back().api_version, 2);
}

TEST(KafkaClient, TriesBootstrapServersInOrder) {
  FakeBroker broker([](const FakeRequest& req) { return api_versions(req, {}); });
  auto client = KafkaClient::connect("127.0.0.1:1, " + broker.bootstrap(), fast_options());
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ((*client)->server().to_string(), broker.bootstrap());
}

TEST(KafkaClient, NamesEveryServerThatFailed) {
  auto client = KafkaClient::connect("127.0.0.1:1,127.0.0.1:2", fast_options());
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), absl::StatusCode::kUnavailable);
  std::string message(client.status().message());
  EXPECT_NE(message.find("127.0.0.1:1"), std::string::npos) << message;
  EXPECT_NE(message.find("127.0.0.1:2"), std::string::npos) << message;
  EXPECT_FALSE(KafkaClient::connect("nonsense", fast_options()).ok());
}

TEST(KafkaClient, RequestTimesOutAndTheConnectionIsNotReused) {
  FakeBroker broker([](const FakeRequest& req) {
    if (req.api_key == 18) return api_versions(req, {{3, 0, 12}});
    FakeReply silent;
    silent.respond = false;
    return silent;
  });
  ClientOptions options = fast_options();
  options.request_timeout = std::chrono::milliseconds(200);
  auto client = KafkaClient::connect(broker.bootstrap(), options);
  ASSERT_TRUE(client.ok()) << client.status();
  auto resp = (*client)->call<MetadataRequest, MetadataResponse>(MetadataRequest(), 12);
  EXPECT_EQ(resp.status().code(), absl::StatusCode::kDeadlineExceeded) << resp.status();
  auto again = (*client)->call<MetadataRequest, MetadataResponse>(MetadataRequest(), 12);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(KafkaClient, RejectsOversizedResponses) {
  FakeBroker broker([](const FakeRequest& req) {
    if (req.api_key == 18) return api_versions(req, {{3, 0, 12}});
    FakeReply huge;
    huge.raw = std::string("\x40\x00\x00\x00", 4);  // 1 GiB
    return huge;
  });
  auto client = KafkaClient::connect(broker.bootstrap(), fast_options());
  ASSERT_TRUE(client.ok()) << client.status();
  auto resp = (*client)->call<MetadataRequest, MetadataResponse>(MetadataRequest(), 12);
  EXPECT_EQ(resp.status().code(), absl::StatusCode::kResourceExhausted) << resp.status();
}

TEST(KafkaClient, RejectsAMismatchedCorrelationId) {
  FakeBroker broker([](const FakeRequest& req) {
    if (req.api_key == 18) return api_versions(req, {{3, 0, 12}});
    FakeReply reply{testing::encode_body(MetadataResponse(), req.api_version)};
    reply.correlation_id = req.correlation_id + 100;
    return reply;
  });
  auto client = KafkaClient::connect(broker.bootstrap(), fast_options());
  ASSERT_TRUE(client.ok()) << client.status();
  auto resp = (*client)->call<MetadataRequest, MetadataResponse>(MetadataRequest(), 12);
  EXPECT_EQ(resp.status().code(), absl::StatusCode::kDataLoss) << resp.status();
}

TEST(KafkaClient, RejectsATruncatedBody) {
  FakeBroker broker([](const FakeRequest& req) {
    if (req.api_key == 18) return api_versions(req, {{3, 0, 12}});
    return FakeReply{std::string("\x00", 1)};
  });
  auto client = KafkaClient::connect(broker.bootstrap(), fast_options());
  ASSERT_TRUE(client.ok()) << client.status();
  auto resp = (*client)->call<MetadataRequest, MetadataResponse>(MetadataRequest(), 4);
  EXPECT_EQ(resp.status().code(), absl::StatusCode::kDataLoss) << resp.status();
}

TEST(KafkaClient, FlexibleRequestsUseHeaderV2AndDecodeHeaderV1) {
  FakeBroker broker([](const FakeRequest& req) {
    if (req.api_key == 18) return api_versions(req, {{3, 0, 12}});
    MetadataResponse resp;
    resp.cluster_id = "c1";
    return FakeReply{testing::encode_body(resp, req.api_version)};
  });
  auto client = KafkaClient::connect(broker.bootstrap(), fast_options());
  ASSERT_TRUE(client.ok()) << client.status();
  for (int16_t v : {int16_t{4}, int16_t{12}}) {
    auto resp = (*client)->call<MetadataRequest, MetadataResponse>(MetadataRequest(), v);
    ASSERT_TRUE(resp.ok()) << resp.status();
    EXPECT_EQ(resp->cluster_id, "c1");
  }
}

}  // namespace
}  // namespace gregor::tools

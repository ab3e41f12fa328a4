// Per-topic broker errors become one line with our phrase, the broker's message when it adds
// something, and Kafka's error name.
#include "tools/gregorctl/topic_errors.h"

#include <gtest/gtest.h>

namespace gregor::tools {
namespace {

TEST(TopicErrors, AlreadyExists) {
  EXPECT_EQ(describe_topic_error(TopicVerb::kCreate, "x", 36, std::nullopt),
            "topic 'x' already exists (TOPIC_ALREADY_EXISTS)");
  // The broker's message repeats ours: not printed twice.
  EXPECT_EQ(describe_topic_error(TopicVerb::kCreate, "x", 36, "Topic 'x' already exists."),
            "topic 'x' already exists (TOPIC_ALREADY_EXISTS)");
}

TEST(TopicErrors, BrokerMessageIsAppended) {
  EXPECT_EQ(describe_topic_error(TopicVerb::kCreate, "x", 40, "Unknown topic config 'foo'"),
            "invalid config for topic 'x': Unknown topic config 'foo' (INVALID_CONFIG)");
  EXPECT_EQ(describe_topic_error(TopicVerb::kCreate, "x", 37, std::string("  ")),
            "invalid number of partitions for topic 'x' (INVALID_PARTITIONS)");
}

TEST(TopicErrors, UnknownTopic) {
  EXPECT_EQ(describe_topic_error(TopicVerb::kDelete, "gone", 3, std::nullopt),
            "topic 'gone' does not exist (UNKNOWN_TOPIC_OR_PARTITION)");
  EXPECT_EQ(describe_topic_error(TopicVerb::kDescribe, "gone", 3, std::nullopt),
            "topic 'gone' does not exist (UNKNOWN_TOPIC_OR_PARTITION)");
}

TEST(TopicErrors, FallsBackToVerbAndName) {
  EXPECT_EQ(describe_topic_error(TopicVerb::kDelete, "t", 7, std::nullopt),
            "cannot delete topic 't' (REQUEST_TIMED_OUT)");
  EXPECT_EQ(describe_topic_error(TopicVerb::kCreate, "t", 999, std::nullopt),
            "cannot create topic 't' (UNKNOWN_ERROR_999)");
}

TEST(TopicErrors, Names) {
  EXPECT_EQ(error_name(36), "TOPIC_ALREADY_EXISTS");
  EXPECT_EQ(error_name(-1), "UNKNOWN_SERVER_ERROR");
  EXPECT_EQ(error_name(12345), "UNKNOWN_ERROR_12345");
}

TEST(TopicErrors, ResultOverload) {
  TopicResult r{"y", 17, std::nullopt};
  EXPECT_EQ(describe_topic_error(TopicVerb::kCreate, r),
            "invalid topic name 'y' (INVALID_TOPIC_EXCEPTION)");
}

}  // namespace
}  // namespace gregor::tools
